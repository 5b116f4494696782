import type { Redis } from 'ioredis';

export type KeyGroup = { keys: number; bytes: number; ttlMs: number };
/** Key group → its keys, their bytes (MEMORY USAGE) and the longest TTL (-1: none). */
export type Memory = Map<string, KeyGroup>;

const QUEUES = new Set([
  'livechat-events',
  'idle-reply',
  'canned-responses',
  'rating-reactions',
  'naive',
]);
const BULLMQ_KEYS = new Set([
  'wait',
  'paused',
  'meta',
  'id',
  'delayed',
  'active',
  'completed',
  'failed',
  'events',
  'stalled-check',
  'marker',
  'prioritized',
  'pc',
  'limiter',
  'stalled',
  'repeat',
  'metrics',
]);

/** A key's group: ids replaced by `*` (a queue's job hashes are `<queue>:<job>`). */
const groupOf = (key: string): string => {
  const [prefix, second, third, ...rest] = key.split(':');
  if (third === undefined) {
    return key;
  }
  if (!QUEUES.has(second ?? '')) {
    return `${prefix}:${second}:*`;
  }
  if (third === 'de') {
    return `${prefix}:${second}:de:*`;
  }
  if (BULLMQ_KEYS.has(third)) {
    return `${prefix}:${second}:${third}${rest.length > 0 ? ':*' : ''}`;
  }
  return `${prefix}:${second}:<job>${rest.length > 0 ? `:${rest.join(':')}` : ''}`;
};

/** Every key's MEMORY USAGE (exact: SAMPLES 0) and TTL, by group. */
export const scanMemory = async (redis: Redis): Promise<Memory> => {
  const groups: Memory = new Map();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) {
      const pipeline = redis.pipeline();
      for (const key of keys) {
        pipeline.memory('USAGE', key, 'SAMPLES', 0);
        pipeline.pttl(key);
      }
      const answers = (await pipeline.exec()) ?? [];
      keys.forEach((key, i) => {
        const bytes = Number(answers[2 * i]?.[1] ?? 0);
        const ttlMs = Number(answers[2 * i + 1]?.[1] ?? -1);
        const group = groupOf(key);
        const entry = groups.get(group) ?? { keys: 0, bytes: 0, ttlMs };
        entry.keys += 1;
        entry.bytes += bytes;
        entry.ttlMs = Math.max(entry.ttlMs, ttlMs);
        groups.set(group, entry);
      });
    }
  } while (cursor !== '0');
  return groups;
};

/** Each group's growth from `before` to `after`, per message. */
export const growth = (before: Memory, after: Memory, messages: number): Memory => {
  const grown: Memory = new Map();
  for (const [group, entry] of after) {
    const earlier = before.get(group) ?? { keys: 0, bytes: 0, ttlMs: -1 };
    const bytes = (entry.bytes - earlier.bytes) / messages;
    const keys = (entry.keys - earlier.keys) / messages;
    if (Math.abs(bytes) >= 5 || Math.abs(keys) >= 0.05) {
      grown.set(group, { keys, bytes, ttlMs: entry.ttlMs });
    }
  }
  return grown;
};

/** What one pending timer is, by pipeline: its job hash, its delayed-set entry, its dedup key. */
export const PENDING_TIMER: Record<'nudge' | 'naive', RegExp> = {
  nudge: /^nudge:idle-reply:(<job>|delayed|de:\*)$/,
  naive: /^bull:naive:(<job>|delayed)$/,
};
/** The bytes of the groups matching `pattern`. */
export const sumOf = (memory: Memory, pattern: RegExp) =>
  [...memory].filter(([group]) => pattern.test(group)).reduce((sum, [, g]) => sum + g.bytes, 0);
