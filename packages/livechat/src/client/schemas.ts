import { z } from 'zod';
import { splitThreadEvents } from '../webhooks/events.js';
import { ChatUser, RoutingStatus } from '../webhooks/payloads.js';

// Agent Chat / Configuration API responses (v3.5 and v3.6). Loose on purpose: LiveChat adds
// fields over time, and only what the docs promise (or what we need) is required.

const Properties = z.record(z.string(), z.record(z.string(), z.unknown()));
const Access = z.looseObject({ group_ids: z.array(z.number()).optional() });

/** Actions documented as "200, no payload": `{}`, an empty body or `null`. */
export const EmptyResponse = z.union([z.looseObject({}), z.null()]);
export type EmptyResponse = z.output<typeof EmptyResponse>;

/** `error` of a failed call: `{ "error": { "type", "message", "data"? } }`. */
export const ErrorResponse = z.looseObject({
  error: z.looseObject({
    type: z.string().min(1),
    message: z.string().optional(),
    data: z.unknown().optional(),
  }),
});
export type ErrorResponse = z.output<typeof ErrorResponse>;

export const SendEventResponse = z.looseObject({ event_id: z.string().min(1) });
export type SendEventResponse = z.output<typeof SendEventResponse>;

/**
 * A thread of get_chat / list_threads. `tags` is absent when the thread has none. An event
 * that doesn't parse is left out of `events` and listed in `skippedEvents` (the client reports
 * it): one odd event never fails the whole chat.
 */
const ChatThread = z
  .looseObject({
    id: z.string().min(1),
    active: z.boolean(),
    created_at: z.string().optional(),
    user_ids: z.array(z.string()).default([]),
    events: z.array(z.unknown()).default([]),
    properties: Properties.default({}),
    tags: z.array(z.string()).default([]),
    access: Access.optional(),
    previous_thread_id: z.string().optional(),
    next_thread_id: z.string().optional(),
  })
  .transform(splitThreadEvents);

/** get_chat: the chat with one thread (the latest unless `thread_id` was given). */
export const Chat = z.looseObject({
  id: z.string().min(1),
  thread: ChatThread,
  users: z.array(ChatUser).default([]),
  properties: Properties.default({}),
  access: Access.optional(),
  is_followed: z.boolean().optional(),
});
export type Chat = z.output<typeof Chat>;

/** list_threads: a page of the chat's threads. */
export const ListThreadsResponse = z.looseObject({
  threads: z.array(ChatThread).default([]),
  found_threads: z.number().optional(),
  next_page_id: z.string().optional(),
  previous_page_id: z.string().optional(),
});
export type ListThreadsResponse = z.output<typeof ListThreadsResponse>;

const ChatSummary = z.looseObject({
  id: z.string().min(1),
  users: z.array(ChatUser).default([]),
  last_thread_summary: z
    .looseObject({
      id: z.string().min(1),
      active: z.boolean().optional(),
      created_at: z.string().optional(),
      user_ids: z.array(z.string()).optional(),
      properties: Properties.optional(),
      tags: z.array(z.string()).default([]),
    })
    .optional(),
  last_event_per_type: z.record(z.string(), z.unknown()).optional(),
  properties: Properties.default({}),
  access: Access.optional(),
  is_followed: z.boolean().optional(),
});

export const ListChatsResponse = z.looseObject({
  chats_summary: z.array(ChatSummary).default([]),
  found_chats: z.number().optional(),
  next_page_id: z.string().optional(),
  previous_page_id: z.string().optional(),
});
export type ListChatsResponse = z.output<typeof ListChatsResponse>;

// The API spells statuses with underscores, webhooks with spaces; both are normalised.
const AgentRoutingStatus = z.looseObject({
  agent_id: z.string().min(1),
  status: z
    .string()
    .transform((status) => status.trim().replaceAll(' ', '_'))
    .pipe(RoutingStatus),
});

export const ListRoutingStatusesResponse = z.array(AgentRoutingStatus);
export type ListRoutingStatusesResponse = z.output<typeof ListRoutingStatusesResponse>;

export const RegisterWebhookResponse = z.looseObject({ id: z.string().min(1) });
export type RegisterWebhookResponse = z.output<typeof RegisterWebhookResponse>;

/** A list_webhooks item; the secret is not returned. */
export const RegisteredWebhook = z.looseObject({
  id: z.string().min(1),
  url: z.string(),
  action: z.string(),
  type: z.string().optional(),
  description: z.string().optional(),
  owner_client_id: z.string().optional(),
  filters: z.record(z.string(), z.unknown()).optional(),
  additional_data: z.array(z.string()).optional(),
});
export type RegisteredWebhook = z.output<typeof RegisteredWebhook>;

export const ListWebhooksResponse = z.array(RegisteredWebhook);
export type ListWebhooksResponse = z.output<typeof ListWebhooksResponse>;

export const LicenseWebhooksState = z.looseObject({ license_webhooks_enabled: z.boolean() });
export type LicenseWebhooksState = z.output<typeof LicenseWebhooksState>;

export const CreateBotResponse = z.looseObject({
  id: z.string().min(1),
  secret: z.string().min(1),
});
export type CreateBotResponse = z.output<typeof CreateBotResponse>;

const BotGroup = z.looseObject({ id: z.number(), priority: z.string().optional() });

/** A list_bots item. v3.6 samples name the avatar `avatar_path`; `avatar` gets either. */
export const BotSummary = z
  .looseObject({
    id: z.string().min(1),
    name: z.string().optional(),
    avatar: z.string().optional(),
    avatar_path: z.string().optional(),
    groups: z.array(BotGroup).optional(),
    max_chats_count: z.number().optional(),
    job_title: z.string().optional(),
    timezone: z.string().optional(),
  })
  .transform((bot) => ({ ...bot, avatar: bot.avatar ?? bot.avatar_path }));
export type BotSummary = z.output<typeof BotSummary>;

export const ListBotsResponse = z.array(BotSummary);
export type ListBotsResponse = z.output<typeof ListBotsResponse>;

/** get_bot. `type` is v3.6 (default `chatbot`). */
export const Bot = z
  .looseObject({
    id: z.string().min(1),
    name: z.string(),
    avatar: z.string().optional(),
    avatar_path: z.string().optional(),
    default_group_priority: z.string().optional(),
    owner_client_id: z.string().optional(),
    max_chats_count: z.number().optional(),
    groups: z.array(BotGroup).default([]),
    job_title: z.string().optional(),
    timezone: z.string().optional(),
    work_scheduler: z.record(z.string(), z.unknown()).optional(),
    type: z.string().optional(),
  })
  .transform((bot) => ({ ...bot, avatar: bot.avatar ?? bot.avatar_path }));
export type Bot = z.output<typeof Bot>;

/**
 * issue_bot_token. The docs show only `token` (valid 24 h); `expires_in` (seconds) is read
 * if LiveChat ever sends it.
 */
export const IssueBotTokenResponse = z.looseObject({
  token: z.string().min(1),
  expires_in: z.number().positive().optional(),
});
export type IssueBotTokenResponse = z.output<typeof IssueBotTokenResponse>;
