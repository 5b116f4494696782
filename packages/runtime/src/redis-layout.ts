import type { Cluster, Redis } from 'ioredis';

/** A connection to the queues' Redis: one server, or a Redis Cluster. */
export type RedisClient = Redis | Cluster;

/** True when `redis` is a Redis Cluster client. */
export const isRedisCluster = (redis: RedisClient): redis is Cluster => redis.isCluster;

// ─────────────────────────────────────────────────────────────────────────────────────────
// WHERE NUDGE'S KEYS LIVE. On one Redis everything sits under QUEUE_PREFIX, exactly as it always
// has (key names are data: changing them strands jobs). On a Redis Cluster a script or
// transaction may only touch keys of one hash slot, so:
//   - each queue gets a hash tag of its own, `{<prefix>:<queue>}`: BullMQ's scripts touch one
//     queue's keys only, and the queues can land on different shards;
//   - Nudge's own keys (createRedisKeys) share one tag, `{<prefix>}`: its multi-key commands
//     (MGET of sent markers, the chat-jobs pipeline…) stay in one slot.
// A QUEUE_PREFIX that carries a hash tag of its own (`{nudge}`) is taken as the operator's
// choice: everything stays under it, in that one slot.
// ─────────────────────────────────────────────────────────────────────────────────────────

export type RedisLayout = {
  /** True on a Redis Cluster. */
  cluster: boolean;
  /** The prefix of Nudge's own keys (`createRedisKeys`). */
  keyPrefix: string;
  /** BullMQ's `prefix` for the queue `name`. */
  queuePrefix: (name: string) => string;
};

/** The hash tag Redis Cluster hashes `key` by (its whole name when it has none). */
export const hashTagOf = (key: string): string | undefined => {
  const open = key.indexOf('{');
  const close = open < 0 ? -1 : key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
};

/** Where Nudge's keys and each queue's keys live, for `QUEUE_PREFIX` on one Redis or a cluster. */
export const createRedisLayout = (prefix: string, { cluster = false } = {}): RedisLayout => {
  if (!cluster || hashTagOf(prefix) !== undefined) {
    return { cluster, keyPrefix: prefix, queuePrefix: () => prefix };
  }
  return { cluster, keyPrefix: `{${prefix}}`, queuePrefix: (name) => `{${prefix}:${name}}` };
};
