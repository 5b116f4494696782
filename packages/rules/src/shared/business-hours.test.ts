import { describe, expect, it } from 'vitest';
import { BusinessHours, isWithinBusinessHours, localTimeIn } from './business-hours.js';

const at = (iso: string) => Date.parse(iso);

describe('isWithinBusinessHours', () => {
  const warsaw = BusinessHours.parse({
    timezone: 'Europe/Warsaw',
    days: {
      mon: [
        ['09:00', '12:00'],
        ['13:00', '17:00'],
      ],
    },
  });

  it('reads the local weekday and time in the zone', () => {
    // Monday 2024-05-06: Warsaw is UTC+2 (CEST).
    expect(localTimeIn(at('2024-05-06T07:30:00Z'), 'Europe/Warsaw')).toEqual({
      day: 'mon',
      minute: 9 * 60 + 30,
    });
    expect(localTimeIn(at('2024-05-06T22:30:00Z'), 'Europe/Warsaw')).toEqual({
      day: 'tue',
      minute: 30,
    });
    expect(localTimeIn(at('2024-05-06T23:59:00Z'), 'UTC')).toEqual({ day: 'mon', minute: 1439 });
  });

  it('is inside a range from its start up to (not including) its end', () => {
    expect(isWithinBusinessHours(warsaw, at('2024-05-06T07:00:00Z'))).toBe(true); // 09:00
    expect(isWithinBusinessHours(warsaw, at('2024-05-06T06:59:00Z'))).toBe(false); // 08:59
    expect(isWithinBusinessHours(warsaw, at('2024-05-06T09:59:00Z'))).toBe(true); // 11:59
    expect(isWithinBusinessHours(warsaw, at('2024-05-06T10:30:00Z'))).toBe(false); // lunch
    expect(isWithinBusinessHours(warsaw, at('2024-05-06T14:59:00Z'))).toBe(true); // 16:59
    expect(isWithinBusinessHours(warsaw, at('2024-05-06T15:00:00Z'))).toBe(false); // 17:00
    // Days not listed are closed: Tuesday 10:00.
    expect(isWithinBusinessHours(warsaw, at('2024-05-07T08:00:00Z'))).toBe(false);
  });

  it('judges the same instant by each zone’s own weekday and clock', () => {
    const evening = { days: { mon: [['18:00', '22:00']] } };
    const newYork = BusinessHours.parse({ timezone: 'America/New_York', ...evening });
    const berlin = BusinessHours.parse({ timezone: 'Europe/Berlin', ...evening });
    // 2024-05-06T23:30Z = Monday 19:30 in New York, Tuesday 01:30 in Berlin.
    expect(isWithinBusinessHours(newYork, at('2024-05-06T23:30:00Z'))).toBe(true);
    expect(isWithinBusinessHours(berlin, at('2024-05-06T23:30:00Z'))).toBe(false);
    // 2024-05-06T17:30Z = Monday 13:30 in New York, Monday 19:30 in Berlin.
    expect(isWithinBusinessHours(newYork, at('2024-05-06T17:30:00Z'))).toBe(false);
    expect(isWithinBusinessHours(berlin, at('2024-05-06T17:30:00Z'))).toBe(true);
  });

  it('follows daylight saving time and lets 24:00 close the day', () => {
    const hours = BusinessHours.parse({
      timezone: 'Europe/Warsaw',
      days: { mon: [['09:00', '24:00']] },
    });
    // Winter (UTC+1) vs summer (UTC+2): 08:30Z is 09:30 local in both cases' own way.
    expect(isWithinBusinessHours(hours, at('2024-01-08T08:30:00Z'))).toBe(true); // 09:30 CET
    expect(isWithinBusinessHours(hours, at('2024-07-01T06:30:00Z'))).toBe(false); // 08:30 CEST
    expect(isWithinBusinessHours(hours, at('2024-01-08T22:59:00Z'))).toBe(true); // 23:59
    expect(isWithinBusinessHours(hours, at('2024-01-08T23:00:00Z'))).toBe(false); // Tue 00:00
  });
});
