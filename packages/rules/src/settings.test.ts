import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DEFAULT_IDLE_MESSAGE } from './idle-reply/settings.js';
import { DEFAULT_BAD_RATING_TEXT, DEFAULT_GOOD_RATING_TEXT } from './rating-reactions/settings.js';
import { mergeRuleSettings, PartialRuleSettings, RuleSettings } from './settings.js';

const errorsOf = (schema: z.ZodType, input: unknown): string => {
  const result = schema.safeParse(input);
  expect(result.success).toBe(false);
  return result.success ? '' : z.prettifyError(result.error);
};

const WARSAW_HOURS = { timezone: 'Europe/Warsaw', days: { mon: [['09:00', '17:00']] } };

describe('RuleSettings', () => {
  it('fills every default from {}', () => {
    expect(RuleSettings.parse({})).toEqual({
      idleReply: {
        enabled: true,
        afterSeconds: 180,
        maxPerThread: 1,
        message: DEFAULT_IDLE_MESSAGE,
      },
      cannedResponses: { enabled: true, byTag: {}, byKeyword: {} },
      ratingReactions: {
        enabled: true,
        good: DEFAULT_GOOD_RATING_TEXT,
        bad: DEFAULT_BAD_RATING_TEXT,
      },
    });
  });

  it('parses the design example', () => {
    const settings = RuleSettings.parse({
      idleReply: { enabled: true, afterSeconds: 120, maxPerThread: 2, message: 'Hold on!' },
      cannedResponses: {
        byTag: { refund: ['Refunds take 3–5 business days.'] },
        byKeyword: { 'where is my order': ['Track it at https://example.com/track'] },
      },
      ratingReactions: { good: 'Ask for a review: {reviewUrl}', reviewUrl: 'https://x.example/r' },
    });
    expect(settings.idleReply.afterSeconds).toBe(120);
    expect(settings.cannedResponses.enabled).toBe(true);
    expect(settings.ratingReactions.bad).toBe(DEFAULT_BAD_RATING_TEXT);
  });

  it('reports typos with their path', () => {
    expect(errorsOf(RuleSettings, { idleReply: { afterSecond: 10 } })).toMatch(
      /Unrecognized key: "afterSecond"[\s\S]*→ at idleReply/,
    );
    expect(errorsOf(RuleSettings, { idleReplies: {} })).toMatch(/Unrecognized key: "idleReplies"/);
    expect(errorsOf(RuleSettings, { ratingReactions: { god: 'x' } })).toMatch(/"god"/);
  });

  it('rejects bad values with readable messages', () => {
    expect(errorsOf(RuleSettings, { idleReply: { afterSeconds: 2 } })).toMatch(
      /must be at least 5 seconds[\s\S]*→ at idleReply\.afterSeconds/,
    );
    expect(errorsOf(RuleSettings, { idleReply: { afterSeconds: 10.5 } })).toMatch(
      /whole number of seconds/,
    );
    expect(errorsOf(RuleSettings, { idleReply: { maxPerThread: 0 } })).toMatch(/at least 1/);
    expect(errorsOf(RuleSettings, { idleReply: { message: '   ' } })).toMatch(/must not be empty/);
    expect(errorsOf(RuleSettings, { idleReply: { enabled: 'yes' } })).toMatch(/expected boolean/);
    expect(errorsOf(RuleSettings, { cannedResponses: { byTag: { refund: 'x' } } })).toMatch(
      /expected array[\s\S]*cannedResponses\.byTag\.refund/,
    );
    expect(errorsOf(RuleSettings, { ratingReactions: { reviewUrl: 'not a url' } })).toMatch(
      /must be an http\(s\) URL/,
    );
    expect(
      errorsOf(RuleSettings, { ratingReactions: { reviewUrl: 'javascript:alert(1)' } }),
    ).toMatch(/http\(s\) URL/);
  });

  it('requires reviewUrl when good uses {reviewUrl}', () => {
    expect(errorsOf(RuleSettings, { ratingReactions: { good: 'Review: {reviewUrl}' } })).toMatch(
      /good uses \{reviewUrl\} but reviewUrl is not set[\s\S]*ratingReactions\.reviewUrl/,
    );
  });

  it('rejects keywords that differ only in case', () => {
    expect(
      errorsOf(RuleSettings, {
        cannedResponses: { byKeyword: { order: ['a'], ' ORDER ': ['b'] } },
      }),
    ).toMatch(/duplicates keyword "order" \(keywords match case-insensitively\)/);
  });
});

describe('business hours settings', () => {
  const parseHours = (businessHours: unknown) =>
    RuleSettings.parse({ idleReply: { businessHours } }).idleReply.businessHours;

  it('accepts several ranges per day, and one range as shorthand', () => {
    expect(
      parseHours({
        timezone: 'America/New_York',
        days: {
          mon: [
            ['09:00', '12:00'],
            ['13:00', '17:00'],
          ],
          sat: ['10:00', '24:00'],
        },
      }),
    ).toEqual({
      timezone: 'America/New_York',
      days: {
        mon: [
          ['09:00', '12:00'],
          ['13:00', '17:00'],
        ],
        sat: [['10:00', '24:00']],
      },
    });
  });

  it('rejects unknown time zones, bad times, backwards ranges, typos in days and no days', () => {
    const errors = (businessHours: unknown) =>
      errorsOf(RuleSettings, { idleReply: { businessHours } });
    expect(errors({ ...WARSAW_HOURS, timezone: 'Europe/Warsow' })).toMatch(
      /unknown IANA time zone "Europe\/Warsow"/,
    );
    expect(errors({ ...WARSAW_HOURS, days: { mon: [['9:00', '17:00']] } })).toMatch(
      /expected a 24-hour time "HH:MM"[\s\S]*businessHours\.days\.mon\[0\]\[0\]/,
    );
    expect(errors({ ...WARSAW_HOURS, days: { tue: [['25:00', '26:00']] } })).toMatch(/HH:MM/);
    expect(errors({ ...WARSAW_HOURS, days: { mon: [['22:00', '02:00']] } })).toMatch(
      /must end after it starts/,
    );
    expect(errors({ ...WARSAW_HOURS, days: { monday: [['09:00', '17:00']] } })).toMatch(
      /Unrecognized key: "monday"/,
    );
    expect(errors({ ...WARSAW_HOURS, days: {} })).toMatch(/at least one day/);
    expect(errors({ days: WARSAW_HOURS.days })).toMatch(/timezone/);
  });
});

describe('mergeRuleSettings', () => {
  const defaults = RuleSettings.parse({
    idleReply: { afterSeconds: 180, whisper: 'Customer waiting', businessHours: WARSAW_HOURS },
    cannedResponses: {
      byTag: { refund: ['Refunds take 3–5 days.'], vip: ['Be nice.'] },
      byKeyword: { order: ['Track at …'], invoice: ['Invoices are in your account.'] },
    },
    ratingReactions: { good: 'Review us: {reviewUrl}', reviewUrl: 'https://example.com/review' },
  });

  it('returns the defaults without an override', () => {
    expect(mergeRuleSettings(defaults, undefined)).toEqual(defaults);
    expect(mergeRuleSettings(defaults, {})).toEqual(defaults);
  });

  it('replaces scalars and inherits what the override leaves unset', () => {
    const merged = mergeRuleSettings(
      defaults,
      PartialRuleSettings.parse({
        idleReply: { afterSeconds: 60 },
        ratingReactions: { enabled: false },
      }),
    );
    expect(merged.idleReply).toEqual({ ...defaults.idleReply, afterSeconds: 60 });
    expect(merged.ratingReactions).toEqual({ ...defaults.ratingReactions, enabled: false });
    expect(merged.cannedResponses).toEqual(defaults.cannedResponses);
  });

  it('replaces business hours whole and removes optional defaults with null', () => {
    const hours = { timezone: 'Asia/Tokyo', days: { sat: [['10:00', '14:00']] } };
    expect(
      mergeRuleSettings(
        defaults,
        PartialRuleSettings.parse({ idleReply: { businessHours: hours } }),
      ).idleReply.businessHours,
    ).toEqual(hours);
    const cleared = mergeRuleSettings(
      defaults,
      PartialRuleSettings.parse({ idleReply: { businessHours: null, whisper: null } }),
    );
    expect(cleared.idleReply).not.toHaveProperty('businessHours');
    expect(cleared.idleReply).not.toHaveProperty('whisper');
  });

  it('merges byTag and byKeyword per key; [] silences a key; keywords case-insensitively', () => {
    const merged = mergeRuleSettings(
      defaults,
      PartialRuleSettings.parse({
        cannedResponses: {
          byTag: { refund: ['Org refund text'], vip: [], billing: ['Billing text'] },
          byKeyword: { ORDER: ['Org tracking text'] },
        },
      }),
    );
    expect(merged.cannedResponses.byTag).toEqual({
      refund: ['Org refund text'],
      vip: [],
      billing: ['Billing text'],
    });
    expect(merged.cannedResponses.byKeyword).toEqual({
      invoice: ['Invoices are in your account.'],
      ORDER: ['Org tracking text'],
    });
  });

  it('validates the merged result', () => {
    expect(() =>
      mergeRuleSettings(
        defaults,
        PartialRuleSettings.parse({ ratingReactions: { reviewUrl: null } }),
      ),
    ).toThrow(/good uses \{reviewUrl\} but reviewUrl is not set/);
  });

  it('rejects typos and bad values in overrides too, and can be extended', () => {
    expect(errorsOf(PartialRuleSettings, { idleReply: { afterSecond: 60 } })).toMatch(
      /Unrecognized key: "afterSecond"/,
    );
    expect(errorsOf(PartialRuleSettings, { idleReply: { afterSeconds: 1 } })).toMatch(
      /at least 5 seconds/,
    );
    expect(errorsOf(PartialRuleSettings, { idleReply: { message: null } })).toMatch(/message/);
    const Organization = PartialRuleSettings.extend({ bot: z.object({ id: z.string() }) });
    expect(Organization.parse({ bot: { id: 'b' }, idleReply: {} })).toEqual({
      bot: { id: 'b' },
      idleReply: {},
    });
  });
});
