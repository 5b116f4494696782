import { z } from 'zod';
import { BusinessHours } from './business-hours.js';

// Settings of the three rules, as written in the rules file (`defaults:` and per organization).
// Objects are strict so a typo (`afterSecond`) is reported instead of silently ignored.
// Field schemas are shared by the full schemas (with defaults) and the override schemas
// (everything optional, no defaults, so a merge can tell "unset" from "set to the default").

const NonEmptyText = z.string().trim().min(1, { message: 'must not be empty' });

export const DEFAULT_IDLE_MESSAGE = 'Thanks for waiting — an agent will be with you shortly.';
export const DEFAULT_GOOD_RATING_TEXT =
  'The customer rated this chat good — ask them to leave a review.';
export const DEFAULT_BAD_RATING_TEXT =
  'The customer rated this chat bad — ask what went wrong and how to make it right.';

/** The placeholder replaced by `reviewUrl` in the `good` text. */
export const REVIEW_URL_PLACEHOLDER = '{reviewUrl}';

const idleFields = {
  enabled: z.boolean(),
  afterSeconds: z
    .number()
    .int({ message: 'must be a whole number of seconds' })
    .min(5, { message: 'must be at least 5 seconds' }),
  maxPerThread: z
    .number()
    .int({ message: 'must be a whole number' })
    .min(1, { message: 'must be at least 1' }),
  message: NonEmptyText,
  whisper: NonEmptyText,
  businessHours: BusinessHours,
};

/** The form of a keyword that identifies it: lower case, inner whitespace collapsed. */
export const normaliseKeyword = (keyword: string): string =>
  keyword.trim().replace(/\s+/gu, ' ').toLocaleLowerCase('en-US');

const Suggestions = z.array(NonEmptyText);

export const TagSuggestionsMap = z.record(
  z.string().min(1, { message: 'a tag name must not be empty' }),
  Suggestions,
);

// Keywords match case-insensitively, so two keys differing only in case would be one keyword
// configured twice.
export const KeywordSuggestionsMap = z
  .record(z.string().trim().min(1, { message: 'a keyword must not be empty' }), Suggestions)
  .superRefine((byKeyword, ctx) => {
    const seen = new Map<string, string>();
    for (const keyword of Object.keys(byKeyword)) {
      const normalised = normaliseKeyword(keyword);
      const earlier = seen.get(normalised);
      if (earlier !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [keyword],
          message: `duplicates keyword ${JSON.stringify(earlier)} (keywords match case-insensitively)`,
        });
      }
      seen.set(normalised, keyword);
    }
  });

const cannedFields = {
  enabled: z.boolean(),
  byTag: TagSuggestionsMap,
  byKeyword: KeywordSuggestionsMap,
};

const ratingFields = {
  enabled: z.boolean(),
  good: NonEmptyText,
  reviewUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
  bad: NonEmptyText,
};

const reviewUrlIsSetWhenUsed = (settings: { good: string; reviewUrl?: string | undefined }) =>
  settings.reviewUrl !== undefined || !settings.good.includes(REVIEW_URL_PLACEHOLDER);
const REVIEW_URL_MISSING = {
  message: `good uses ${REVIEW_URL_PLACEHOLDER} but reviewUrl is not set`,
  path: ['reviewUrl'],
};

/**
 * idle-reply: nudge a waiting customer `afterSeconds` after their last unanswered message,
 * at most `maxPerThread` times per thread, optionally only within `businessHours`.
 */
export const IdleReplySettings = z.strictObject({
  enabled: idleFields.enabled.default(true),
  afterSeconds: idleFields.afterSeconds.default(180),
  maxPerThread: idleFields.maxPerThread.default(1),
  message: idleFields.message.default(DEFAULT_IDLE_MESSAGE),
  // Also whispered to the agents (visibility `agents`) when the customer is nudged.
  whisper: idleFields.whisper.optional(),
  businessHours: idleFields.businessHours.optional(),
});
export type IdleReplySettings = z.output<typeof IdleReplySettings>;

/**
 * canned-responses: suggestions whispered to agents per thread tag (exact, case-sensitive
 * name) and per keyword (whole words/phrases in customer messages, case-insensitive).
 */
export const CannedResponsesSettings = z.strictObject({
  enabled: cannedFields.enabled.default(true),
  byTag: cannedFields.byTag.default({}),
  byKeyword: cannedFields.byKeyword.default({}),
});
export type CannedResponsesSettings = z.output<typeof CannedResponsesSettings>;

/**
 * rating-reactions: whisper `good` or `bad` to the agents when the customer rates the chat.
 * `reviewUrl` replaces `{reviewUrl}` in `good`, or is appended when `good` has no placeholder.
 */
export const RatingReactionsSettings = z
  .strictObject({
    enabled: ratingFields.enabled.default(true),
    good: ratingFields.good.default(DEFAULT_GOOD_RATING_TEXT),
    reviewUrl: ratingFields.reviewUrl.optional(),
    bad: ratingFields.bad.default(DEFAULT_BAD_RATING_TEXT),
  })
  .refine(reviewUrlIsSetWhenUsed, REVIEW_URL_MISSING);
export type RatingReactionsSettings = z.output<typeof RatingReactionsSettings>;

/** All rule settings; `{}` parses to every default. */
export const RuleSettings = z.strictObject({
  idleReply: IdleReplySettings.prefault({}),
  cannedResponses: CannedResponsesSettings.prefault({}),
  ratingReactions: RatingReactionsSettings.prefault({}),
});
export type RuleSettings = z.output<typeof RuleSettings>;
/** What the rules file may contain for `defaults:` (every field optional). */
export type RuleSettingsInput = z.input<typeof RuleSettings>;

// Overrides: every field optional; `null` removes an optional setting inherited from the
// defaults (e.g. `businessHours: null` = nudge at any time for this organization).
export const IdleReplyOverride = z.strictObject({
  enabled: idleFields.enabled.optional(),
  afterSeconds: idleFields.afterSeconds.optional(),
  maxPerThread: idleFields.maxPerThread.optional(),
  message: idleFields.message.optional(),
  whisper: idleFields.whisper.nullable().optional(),
  businessHours: idleFields.businessHours.nullable().optional(),
});
export type IdleReplyOverride = z.output<typeof IdleReplyOverride>;

export const CannedResponsesOverride = z.strictObject({
  enabled: cannedFields.enabled.optional(),
  byTag: cannedFields.byTag.optional(),
  byKeyword: cannedFields.byKeyword.optional(),
});
export type CannedResponsesOverride = z.output<typeof CannedResponsesOverride>;

export const RatingReactionsOverride = z.strictObject({
  enabled: ratingFields.enabled.optional(),
  good: ratingFields.good.optional(),
  reviewUrl: ratingFields.reviewUrl.nullable().optional(),
  bad: ratingFields.bad.optional(),
});
export type RatingReactionsOverride = z.output<typeof RatingReactionsOverride>;

/**
 * A per-organization override of the defaults (deep partial). Strict and refinement-free at
 * the top level so the config schema can `.extend()` it with the organization's bot.
 */
export const PartialRuleSettings = z.strictObject({
  idleReply: IdleReplyOverride.optional(),
  cannedResponses: CannedResponsesOverride.optional(),
  ratingReactions: RatingReactionsOverride.optional(),
});
export type PartialRuleSettings = z.output<typeof PartialRuleSettings>;

// Scalars: the override wins when set. `null`: removes the default's optional value.
const pick = <T>(base: T | undefined, override: T | null | undefined): T | undefined =>
  override === null ? undefined : (override ?? base);

const withoutUndefined = <T extends Record<string, unknown>>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;

// Per key: an override's list replaces the default's list for that key (`[]` silences it).
// Keywords are compared case-insensitively, so `Order` overrides a default `order`.
const mergeByKeyword = (
  base: Record<string, string[]>,
  override: Record<string, string[]> | undefined,
): Record<string, string[]> => {
  if (override === undefined) {
    return base;
  }
  const overridden = new Set(Object.keys(override).map(normaliseKeyword));
  const kept = Object.entries(base).filter(
    ([keyword]) => !overridden.has(normaliseKeyword(keyword)),
  );
  return { ...Object.fromEntries(kept), ...override };
};

/**
 * The settings for one organization: `defaults` with `override` applied. Scalars and
 * `businessHours` are replaced whole; `byTag`/`byKeyword` merge per key; `null` removes an
 * optional default (`whisper`, `businessHours`, `reviewUrl`). The result is validated again
 * (throws a ZodError, e.g. when `good` uses `{reviewUrl}` and the override removed it).
 */
export const mergeRuleSettings = (
  defaults: RuleSettings,
  override: PartialRuleSettings | undefined,
): RuleSettings => {
  const idle = override?.idleReply ?? {};
  const canned = override?.cannedResponses ?? {};
  const rating = override?.ratingReactions ?? {};
  return RuleSettings.parse({
    idleReply: withoutUndefined({
      enabled: idle.enabled ?? defaults.idleReply.enabled,
      afterSeconds: idle.afterSeconds ?? defaults.idleReply.afterSeconds,
      maxPerThread: idle.maxPerThread ?? defaults.idleReply.maxPerThread,
      message: idle.message ?? defaults.idleReply.message,
      whisper: pick(defaults.idleReply.whisper, idle.whisper),
      businessHours: pick(defaults.idleReply.businessHours, idle.businessHours),
    }),
    cannedResponses: {
      enabled: canned.enabled ?? defaults.cannedResponses.enabled,
      byTag: { ...defaults.cannedResponses.byTag, ...canned.byTag },
      byKeyword: mergeByKeyword(defaults.cannedResponses.byKeyword, canned.byKeyword),
    },
    ratingReactions: withoutUndefined({
      enabled: rating.enabled ?? defaults.ratingReactions.enabled,
      good: rating.good ?? defaults.ratingReactions.good,
      reviewUrl: pick(defaults.ratingReactions.reviewUrl, rating.reviewUrl),
      bad: rating.bad ?? defaults.ratingReactions.bad,
    }),
  });
};
