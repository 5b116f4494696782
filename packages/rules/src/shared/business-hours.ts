import { z } from 'zod';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
type Weekday = (typeof WEEKDAYS)[number];

/** True when `timeZone` is an IANA zone (or offset) this runtime's Intl knows. */
const isValidTimeZone = (timeZone: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
    return true;
  } catch {
    return false;
  }
};

// 24-hour "HH:MM"; "24:00" only makes sense as the end of a range (end of day).
const Time = z
  .string()
  .regex(/^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$/, { message: 'expected a 24-hour time "HH:MM"' });

const minutesOf = (time: string): number => Number(time.slice(0, 2)) * 60 + Number(time.slice(3));

const TimeRange = z.tuple([Time, Time]).refine(([from, to]) => minutesOf(from) < minutesOf(to), {
  message: 'a range must end after it starts (split overnight hours across two days)',
});

// A day is a list of ranges, `[['09:00', '12:00'], ['13:00', '17:00']]`. A single range
// `['09:00', '17:00']` is accepted as shorthand for a one-range list.
const DayRanges = z.preprocess(
  (value) => (Array.isArray(value) && typeof value[0] === 'string' ? [value] : value),
  z.array(TimeRange),
);

/**
 * Opening hours in a time zone. Days not listed are closed; a time is inside a range when
 * `from <= time < to`.
 */
export const BusinessHours = z.strictObject({
  timezone: z.string().refine(isValidTimeZone, {
    error: (issue) => `unknown IANA time zone ${JSON.stringify(issue.input)}`,
  }),
  days: z
    .strictObject({
      mon: DayRanges.optional(),
      tue: DayRanges.optional(),
      wed: DayRanges.optional(),
      thu: DayRanges.optional(),
      fri: DayRanges.optional(),
      sat: DayRanges.optional(),
      sun: DayRanges.optional(),
    })
    .refine((days) => WEEKDAYS.some((day) => (days[day]?.length ?? 0) > 0), {
      message: 'at least one day needs opening hours (drop businessHours to nudge at any time)',
    }),
});
export type BusinessHours = z.output<typeof BusinessHours>;

const WEEKDAY_BY_SHORT_NAME: Readonly<Record<string, Weekday>> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

/** The weekday and minute of the day (0–1439) of `now` (ms since epoch) in `timeZone`. */
export const localTimeIn = (now: number, timeZone: string): { day: Weekday; minute: number } => {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  }).formatToParts(now);
  const part = (type: Intl.DateTimeFormatPartTypes): string =>
    parts.find((candidate) => candidate.type === type)?.value ?? '';
  const day = WEEKDAY_BY_SHORT_NAME[part('weekday')];
  if (day === undefined) {
    throw new Error(`unexpected weekday from Intl: ${part('weekday')}`);
  }
  return { day, minute: Number(part('hour')) * 60 + Number(part('minute')) };
};

/** True when `now` falls inside one of the day's ranges in the configured time zone. */
export const isWithinBusinessHours = (hours: BusinessHours, now: number): boolean => {
  const { day, minute } = localTimeIn(now, hours.timezone);
  return (hours.days[day] ?? []).some(
    ([from, to]) => minutesOf(from) <= minute && minute < minutesOf(to),
  );
};
