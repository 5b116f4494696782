import { z } from 'zod';
import { mergeFields, NonEmptyText } from '../shared/settings-fields.js';

export const DEFAULT_GOOD_RATING_TEXT =
  'The customer rated this chat good — ask them to leave a review.';
export const DEFAULT_BAD_RATING_TEXT =
  'The customer rated this chat bad — ask what went wrong and how to make it right.';

/** The placeholder replaced by `reviewUrl` in the `good` text. */
export const REVIEW_URL_PLACEHOLDER = '{reviewUrl}';

const fields = {
  enabled: z.boolean(),
  good: NonEmptyText,
  reviewUrl: z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' }),
  bad: NonEmptyText,
};

/**
 * rating-reactions: whisper `good` or `bad` to the agents when the customer rates the chat.
 * `reviewUrl` replaces `{reviewUrl}` in `good`, or is appended when `good` has no placeholder.
 */
export const RatingReactionsSettings = z
  .strictObject({
    enabled: fields.enabled.default(true),
    good: fields.good.default(DEFAULT_GOOD_RATING_TEXT),
    reviewUrl: fields.reviewUrl.optional(),
    bad: fields.bad.default(DEFAULT_BAD_RATING_TEXT),
  })
  .refine(
    (settings) =>
      settings.reviewUrl !== undefined || !settings.good.includes(REVIEW_URL_PLACEHOLDER),
    {
      message: `good uses ${REVIEW_URL_PLACEHOLDER} but reviewUrl is not set`,
      path: ['reviewUrl'],
    },
  );
export type RatingReactionsSettings = z.output<typeof RatingReactionsSettings>;

// `null` removes the default's `reviewUrl`.
export const RatingReactionsOverride = z.strictObject({
  enabled: fields.enabled.optional(),
  good: fields.good.optional(),
  reviewUrl: fields.reviewUrl.nullable().optional(),
  bad: fields.bad.optional(),
});
export type RatingReactionsOverride = z.output<typeof RatingReactionsOverride>;

export const mergeRatingReactions = (
  defaults: RatingReactionsSettings,
  override: RatingReactionsOverride | undefined,
): RatingReactionsSettings => mergeFields(defaults, override);
