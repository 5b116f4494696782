import { QUEUE_NAMES } from '@nudge/queues';
import { createRedisKeys } from '@nudge/runtime';
import type { Redis } from 'ioredis';

// What a prefix holds in Redis, sorted into what may stay: keys that expire on their own (the
// dedupe claims, sent markers, chat index, locks, tokens), Nudge's one-of-a-kind keys (ingest's
// heartbeat), each queue's fixed structure, and retained jobs (the ids in a queue's sets).
// Anything else without a TTL is a leak.

/** A queue's own keys (BullMQ's QueueKeys), besides its jobs. */
const STRUCTURE = new Set([
  'active',
  'wait',
  'waiting-children',
  'paused',
  'id',
  'delayed',
  'prioritized',
  'stalled-check',
  'completed',
  'failed',
  'stalled',
  'repeat',
  'limiter',
  'meta',
  'events',
  'pc',
  'marker',
]);
const JOB_SETS = ['completed', 'failed', 'delayed', 'prioritized', 'waiting-children'] as const;
const JOB_LISTS = ['wait', 'active', 'paused'] as const;

export type Census = {
  /** Keys under the prefix, and the bytes Redis says they take (MEMORY USAGE, every element). */
  keys: number;
  keyBytes: number;
  /** Keys with a TTL: bounded by time. */
  expiring: number;
  /** Queue structure keys (a fixed handful per queue) and Nudge's one-of-a-kind keys. */
  structure: number;
  /** Job hashes (and their logs) of jobs some queue set still names. */
  retainedJobKeys: number;
  /** Jobs per queue and state. */
  jobs: Record<string, Record<string, number>>;
  /** Length of each queue's events stream. */
  eventsLength: Record<string, number>;
  /** Keys without a TTL that are neither structure nor a retained job. */
  orphans: string[];
  /** INFO memory used_memory. */
  usedMemory: number;
};

const scanPrefix = async (redis: Redis, prefix: string): Promise<string[]> => {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1_000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
};

/** Reads every key under `prefix` and sorts it (see the top of this file). */
export const takeCensus = async (redis: Redis, prefix: string): Promise<Census> => {
  const keys = await scanPrefix(redis, prefix);
  const meta = redis.pipeline();
  for (const key of keys) {
    meta.pttl(key);
    meta.memory('USAGE', key, 'SAMPLES', '0');
  }
  const answers = (await meta.exec()) ?? [];
  const jobs: Record<string, Record<string, number>> = {};
  const eventsLength: Record<string, number> = {};
  const retained = new Set<string>();
  for (const queue of Object.values(QUEUE_NAMES)) {
    const base = `${prefix}:${queue}`;
    const read = redis.pipeline();
    for (const set of JOB_SETS) {
      read.zrange(`${base}:${set}`, '0', '-1');
    }
    for (const list of JOB_LISTS) {
      read.lrange(`${base}:${list}`, 0, -1);
    }
    read.xlen(`${base}:events`);
    const results = (await read.exec()) ?? [];
    const counts: Record<string, number> = {};
    [...JOB_SETS, ...JOB_LISTS].forEach((state, i) => {
      const ids = (results[i]?.[1] ?? []) as string[];
      counts[state] = ids.length;
      for (const id of ids) {
        retained.add(`${base}:${id}`);
      }
    });
    jobs[queue] = counts;
    eventsLength[queue] = Number(results.at(-1)?.[1] ?? 0);
  }

  const census: Census = {
    keys: keys.length,
    keyBytes: 0,
    expiring: 0,
    structure: 0,
    retainedJobKeys: 0,
    jobs,
    eventsLength,
    orphans: [],
    usedMemory: 0,
  };
  const singletons = new Set([createRedisKeys(prefix).ingestHeartbeat()]);
  const queueOf = new RegExp(`^${prefix}:(${Object.values(QUEUE_NAMES).join('|')}):(.+)$`);
  keys.forEach((key, i) => {
    const ttl = Number(answers[i * 2]?.[1] ?? -1);
    census.keyBytes += Number(answers[i * 2 + 1]?.[1] ?? 0);
    if (ttl > 0) {
      census.expiring += 1;
      return;
    }
    const [, queue, rest = ''] = queueOf.exec(key) ?? [];
    if (singletons.has(key)) {
      census.structure += 1;
    } else if (queue === undefined) {
      census.orphans.push(key);
    } else if (STRUCTURE.has(rest)) {
      census.structure += 1;
    } else if (retained.has(key) || retained.has(key.replace(/:logs$/, ''))) {
      census.retainedJobKeys += 1;
    } else {
      census.orphans.push(key);
    }
  });
  const info = await redis.info('memory');
  census.usedMemory = Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? 0);
  return census;
};
