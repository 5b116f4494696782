import { z } from 'zod';
import { ChatEvent, splitThreadEvents } from './events.js';

// Webhook payloads (`envelope.payload`) per action, as documented for v3.5/v3.6. Optional
// where the docs show the field missing in practice or don't promise it.

export const ChatUser = z.looseObject({
  id: z.string().min(1),
  // customer | agent; bots appear as agents.
  type: z.string(),
  name: z.string().optional(),
  email: z.string().optional(),
  // Users who left stay in the chat with `present: false`; only present users can send events.
  present: z.boolean().optional(),
  // Agents (bots too): `all`, or `agents` when added visible to agents only.
  visibility: z.string().optional(),
  // Customers: their current visit, `visit` since v3.6 (`last_visit` in v3.5).
  visit: z.looseObject({}).optional(),
  last_visit: z.looseObject({}).optional(),
});
export type ChatUser = z.output<typeof ChatUser>;

const Properties = z.record(z.string(), z.record(z.string(), z.unknown()));

// incoming_chat carries one `thread` (not `threads[]`). An event that doesn't parse is left
// out of `events` and listed in `skippedEvents`, so the rest of the chat is still routed.
const IncomingThread = z
  .looseObject({
    id: z.string().min(1),
    active: z.boolean().optional(),
    created_at: z.string().optional(),
    user_ids: z.array(z.string()).default([]),
    events: z.array(z.unknown()).default([]),
    properties: Properties.optional(),
    tags: z.array(z.string()).optional(),
  })
  .transform(splitThreadEvents);

const IncomingChatPayload = z.looseObject({
  chat: z.looseObject({
    id: z.string().min(1),
    users: z.array(ChatUser).default([]),
    thread: IncomingThread,
    properties: Properties.optional(),
  }),
});

const IncomingEventPayload = z.looseObject({
  chat_id: z.string().min(1),
  thread_id: z.string().min(1),
  event: ChatEvent,
});

// Same shape as incoming_event; the event is the updated version.
const EventUpdatedPayload = IncomingEventPayload;

// Tag names are case-sensitive.
const ThreadTagPayload = z.looseObject({
  chat_id: z.string().min(1),
  thread_id: z.string().min(1),
  tag: z.string().min(1),
});

// `user_id` is absent when the router closed the thread (e.g. inactivity).
const ChatDeactivatedPayload = z.looseObject({
  chat_id: z.string().min(1),
  thread_id: z.string().min(1),
  user_id: z.string().optional(),
});

// `thread_id` is absent when an inactive chat is transferred.
const ChatTransferredPayload = z.looseObject({
  chat_id: z.string().min(1),
  thread_id: z.string().optional(),
  requester_id: z.string().optional(),
  reason: z.string().optional(),
  transferred_to: z
    .looseObject({
      group_ids: z.array(z.number()).optional(),
      agent_ids: z.array(z.string()).optional(),
    })
    .default({}),
});

const UserAddedToChatPayload = z.looseObject({
  chat_id: z.string().min(1),
  thread_id: z.string().optional(),
  user: ChatUser,
  user_type: z.string().optional(),
  reason: z.string().optional(),
  requester_id: z.string().optional(),
});

// Partial: only the properties that changed, e.g. `{ rating: { score: 1 } }`.
const ThreadPropertiesUpdatedPayload = z.looseObject({
  chat_id: z.string().min(1),
  thread_id: z.string().min(1),
  properties: Properties,
});

// Names of the deleted properties per namespace, e.g. `{ rating: ['score', 'comment'] }`.
const ThreadPropertiesDeletedPayload = z.looseObject({
  chat_id: z.string().min(1),
  thread_id: z.string().min(1),
  properties: z.record(z.string(), z.array(z.string())),
});

/** A routing status in the Agent Chat API's spelling. */
export const RoutingStatus = z.enum(['accepting_chats', 'not_accepting_chats', 'offline']);
export type RoutingStatus = z.output<typeof RoutingStatus>;

// Webhooks document the status with spaces (`accepting chats`), the API with underscores;
// both are accepted and normalised to underscores.
const RoutingStatusSetPayload = z.looseObject({
  agent_id: z.string().min(1),
  status: z
    .string()
    .transform((status) => status.trim().replaceAll(' ', '_'))
    .pipe(RoutingStatus),
});

/**
 * The actions Nudge stores, each with the schema of its payload. Other actions are
 * acknowledged and ignored at the door.
 */
export const WEBHOOK_PAYLOADS = {
  incoming_chat: IncomingChatPayload,
  incoming_event: IncomingEventPayload,
  event_updated: EventUpdatedPayload,
  thread_tagged: ThreadTagPayload,
  thread_untagged: ThreadTagPayload,
  chat_deactivated: ChatDeactivatedPayload,
  chat_transferred: ChatTransferredPayload,
  user_added_to_chat: UserAddedToChatPayload,
  thread_properties_updated: ThreadPropertiesUpdatedPayload,
  thread_properties_deleted: ThreadPropertiesDeletedPayload,
  routing_status_set: RoutingStatusSetPayload,
} as const satisfies Record<string, z.ZodType>;

export type WebhookAction = keyof typeof WEBHOOK_PAYLOADS;
export type WebhookPayload<A extends WebhookAction> = z.output<(typeof WEBHOOK_PAYLOADS)[A]>;

export const WEBHOOK_ACTIONS = Object.keys(WEBHOOK_PAYLOADS) as WebhookAction[];

/** True for the actions Nudge stores. */
export const isWebhookAction = (action: string): action is WebhookAction =>
  Object.hasOwn(WEBHOOK_PAYLOADS, action);

/** Validates a payload against its action's schema (safeParse result). */
export const parseWebhookPayload = <A extends WebhookAction>(
  action: A,
  payload: unknown,
): z.ZodSafeParseResult<WebhookPayload<A>> =>
  WEBHOOK_PAYLOADS[action].safeParse(payload) as z.ZodSafeParseResult<WebhookPayload<A>>;
