import { z } from 'zod';

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

// A JSON object, validated without copying it: the payload can be large (incoming_chat carries
// a thread) and is checked per action by the worker.
const JsonObject = z.custom<Record<string, unknown>>(isPlainObject, {
  message: 'expected an object',
});

// The JSON object LiveChat POSTs for every webhook (Configuration API "general webhook
// format"). Loose on purpose: unknown top-level keys (v3.6 adds `requester`) are kept, so
// schema drift reaches the worker instead of being dropped at the door.
export const WebhookEnvelope = z
  .looseObject({
    // Identifies the registration, not the delivery: constant across deliveries.
    webhook_id: z.string().optional(),
    secret_key: z.string(),
    action: z.string().min(1).max(100),
    // UUID since v3.4; parsed as any non-empty string because the format is not promised.
    organization_id: z.string().min(1).max(200).optional(),
    // Pre-v3.4 integer license id; accepted so old registrations still work.
    license_id: z.union([z.number().int(), z.string().min(1).max(200)]).optional(),
    payload: JsonObject,
    // `{}` unless requested at registration; absent for some actions.
    additional_data: JsonObject.optional(),
  })
  .refine(
    (envelope) => envelope.organization_id !== undefined || envelope.license_id !== undefined,
    {
      message: 'organization_id (or legacy license_id) is required',
      path: ['organization_id'],
    },
  );
export type WebhookEnvelope = z.output<typeof WebhookEnvelope>;

/** The organization an envelope belongs to (`organization_id`, else legacy `license_id`). */
export const organizationOf = (
  envelope: Pick<WebhookEnvelope, 'organization_id' | 'license_id'>,
): string => envelope.organization_id ?? String(envelope.license_id);

/**
 * The chat a webhook is about: `payload.chat_id`, or `payload.chat.id` (incoming_chat); read
 * leniently, from an envelope that may not have been validated (a stored job, a journal entry).
 */
export const chatIdOfEnvelope = (envelope: { payload?: unknown }): string | undefined => {
  const payload = (envelope.payload ?? {}) as { chat_id?: unknown; chat?: { id?: unknown } };
  const chatId = payload.chat_id ?? payload.chat?.id;
  return typeof chatId === 'string' ? chatId : undefined;
};
