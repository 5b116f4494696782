import { z } from 'zod';
import { BusinessHours } from '../shared/business-hours.js';
import { mergeFields, NonEmptyText } from '../shared/settings-fields.js';

export const DEFAULT_IDLE_MESSAGE = 'Thanks for waiting — an agent will be with you shortly.';

const fields = {
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

/**
 * idle-reply: nudge a waiting customer `afterSeconds` after their last unanswered message,
 * at most `maxPerThread` times per thread, optionally only within `businessHours`.
 */
export const IdleReplySettings = z.strictObject({
  enabled: fields.enabled.default(true),
  afterSeconds: fields.afterSeconds.default(180),
  maxPerThread: fields.maxPerThread.default(1),
  message: fields.message.default(DEFAULT_IDLE_MESSAGE),
  // Also whispered to the agents (visibility `agents`) when the customer is nudged.
  whisper: fields.whisper.optional(),
  businessHours: fields.businessHours.optional(),
});
export type IdleReplySettings = z.output<typeof IdleReplySettings>;

// `null` removes an optional setting inherited from the defaults (e.g. `businessHours: null`
// = nudge at any time for this organization).
export const IdleReplyOverride = z.strictObject({
  enabled: fields.enabled.optional(),
  afterSeconds: fields.afterSeconds.optional(),
  maxPerThread: fields.maxPerThread.optional(),
  message: fields.message.optional(),
  whisper: fields.whisper.nullable().optional(),
  businessHours: fields.businessHours.nullable().optional(),
});
export type IdleReplyOverride = z.output<typeof IdleReplyOverride>;

/** Scalars and `businessHours` are replaced whole; `null` removes `whisper`/`businessHours`. */
export const mergeIdleReply = (
  defaults: IdleReplySettings,
  override: IdleReplyOverride | undefined,
): IdleReplySettings => mergeFields(defaults, override);
