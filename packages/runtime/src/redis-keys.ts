import { z } from 'zod';
import { hashedId } from './ids.js';

// ─────────────────────────────────────────────────────────────────────────────────────────
// EVERY REDIS KEY NUDGE OWNS (besides BullMQ's own), in one place. Key names are data in
// Redis: renaming one orphans what is stored under the old name and, for the chat lock, lets
// old and new workers act in one chat at once during a rolling deploy. All live under one
// prefix (`RedisLayout.keyPrefix`: QUEUE_PREFIX on one Redis, one hash tag on a Redis Cluster),
// so every multi-key command over them stays in one cluster slot.
// ─────────────────────────────────────────────────────────────────────────────────────────

const HOUR_MS = 60 * 60_000;
const DAY_MS = 24 * HOUR_MS;

/** How long each kind of key lives. */
export const REDIS_TTL_MS = {
  /** A delivery counts as a duplicate of an earlier one for 24 h: longer than any retry schedule LiveChat documents. */
  dedupe: DAY_MS,
  /** A sent message outlives every retry of its job. */
  sent: 7 * DAY_MS,
  /** A status only changes with a webhook, but keys of removed bots should go. */
  botStatus: 30 * DAY_MS,
  chatUsers: 2 * DAY_MS,
  /** As long as a failed job is kept (QUEUE_RETENTION.failed): the index outlives its jobs. */
  chatJobs: 7 * DAY_MS,
  ingestReadiness: 10_000,
} as const;

export type RedisKeys = ReturnType<typeof createRedisKeys>;

/** Nudge's keys under `prefix` (a `RedisLayout`'s `keyPrefix`). */
export const createRedisKeys = (prefix: string) => ({
  /** "Claimed": the webhook event with this dedupe key is being or was handled. */
  dedupe: (dedupeKey: string) => `${prefix}:dedupe:${dedupeKey}`,
  /** "Sent": the event with this custom_id is in LiveChat; holds its event id. */
  sent: (customId: string) => `${prefix}:sent:${customId}`,
  /** "Acting": one job at a time per chat, from reading it to recording what was sent. */
  chatLock: (organizationId: string, chatId: string) =>
    `${prefix}:sending:${hashedId('chat', organizationId, chatId)}`,
  /** A bot's routing status, as last announced by a routing_status_set webhook. */
  botStatus: (organizationId: string, botId: string) =>
    `${prefix}:bot-status:${organizationId}:${botId}`,
  /** A bot's routing status as read from list_routing_statuses, cached briefly. */
  botStatusFromApi: (organizationId: string, botId: string) =>
    `${prefix}:bot-status-api:${organizationId}:${botId}`,
  /** Types (customer/agent) of a chat's users, learnt from incoming_chat and user_added_to_chat. */
  chatUsers: (organizationId: string, chatId: string) =>
    `${prefix}:chat-users:${organizationId}:${chatId}`,
  /**
   * Every job about one LiveChat chat (sorted set of `queue|jobId`, scored by when it was
   * added): what the dashboard's "find by chat" reads instead of scanning every retained job.
   */
  chatJobs: (chatId: string) => `${prefix}:chat-jobs:${chatId}`,
  /** A bot's token (`name` = organization and bot id), shared by every worker. */
  botToken: (name: string) => `${prefix}:bot-token:${name}`,
  /** Held by the one worker refreshing that bot's token. */
  botTokenLock: (name: string) => `${prefix}:bot-token-lock:${name}`,
  // Ingest keeps the next two under the events queue's prefix (`queuePrefix('livechat-events')`:
  // QUEUE_PREFIX on one Redis, that queue's hash tag on a cluster), so they fail exactly when
  // webhooks can't be stored: when the shard holding the events queue is away.
  /** When an ingest last stored its heartbeat (ms): a gap means webhooks may be lost. */
  ingestHeartbeat: () => `${prefix}:ingest:heartbeat`,
  /** Ingest's readiness probe writes here: Redis must be writable, not merely reachable. */
  ingestReadiness: () => `${prefix}:ingest:readyz`,
});

// Values read back are parsed here, never cast: a key written by another version (or by hand)
// reads as absent instead of flowing on with the wrong type.

export const StoredRoutingStatus = z.enum(['accepting_chats', 'not_accepting_chats', 'offline']);
export type StoredRoutingStatus = z.output<typeof StoredRoutingStatus>;

export const StoredUserType = z.enum(['customer', 'agent']);
export type StoredUserType = z.output<typeof StoredUserType>;

/** A stored value parsed with `schema`; undefined when absent or not of that shape. */
export const parseStored = <S extends z.ZodType>(
  schema: S,
  raw: string | null | undefined,
): z.output<S> | undefined => {
  if (raw === null || raw === undefined) {
    return undefined;
  }
  const parsed = schema.safeParse(raw);
  return parsed.success ? parsed.data : undefined;
};

/** A stored JSON value parsed with `schema`; undefined when absent, not JSON or not of that shape. */
export const parseStoredJson = <S extends z.ZodType>(
  schema: S,
  raw: string | null | undefined,
): z.output<S> | undefined => {
  if (raw === null || raw === undefined) {
    return undefined;
  }
  try {
    return parseStored(schema, JSON.parse(raw));
  } catch {
    return undefined;
  }
};

/** A stored hash's fields whose values parse with `schema`; the others are left out. */
export const parseStoredHash = <S extends z.ZodType>(
  schema: S,
  raw: Record<string, string>,
): Map<string, z.output<S>> => {
  const parsed = new Map<string, z.output<S>>();
  for (const [field, value] of Object.entries(raw)) {
    const item = parseStored(schema, value);
    if (item !== undefined) {
      parsed.set(field, item);
    }
  }
  return parsed;
};
