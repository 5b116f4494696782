import { randomUUID } from 'node:crypto';
import { Cluster, Redis } from 'ioredis';
// Type-only: loads vitest's types so the augmentation below has a module to merge into.
import type {} from 'vitest';
import { startRedisContainer } from './redis-container.js';
import {
  hasRedisServerBinary,
  type RedisServer,
  type StartRedisOptions,
  startRedisServer,
} from './redis-server.js';

declare module 'vitest' {
  // Augments vitest's interface (the one place CODE_STYLE allows `interface`).
  export interface ProvidedContext {
    /** The suite's shared Redis (see global-setup); tests isolate themselves by prefix. */
    redisUrl: string;
  }
}

/**
 * A Redis this test may kill and restart: a spawned `redis-server` where the binary
 * exists, else a testcontainers Redis (needs a Docker engine).
 */
export const startOwnRedis = async (options: StartRedisOptions = {}): Promise<RedisServer> =>
  hasRedisServerBinary() ? startRedisServer(options) : startRedisContainer();

/** A BullMQ key prefix unique to one test, so tests never see each other's queues. */
export const createTestPrefix = (): string => `test-${randomUUID().slice(0, 8)}`;

const deleteMatching = async (redis: Redis, pattern: string): Promise<number> => {
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    cursor = next;
    if (keys.length > 0) {
      // One DEL per key: on a cluster node, keys of different slots can't share a command.
      const results = await keys
        .reduce((pipeline, key) => pipeline.del(key), redis.pipeline())
        .exec();
      deleted += (results ?? []).reduce((sum, [, count]) => sum + Number(count ?? 0), 0);
    }
  } while (cursor !== '0');
  return deleted;
};

/**
 * Deletes every key under `prefix:` (a test's queues), never anything else. On a Redis
 * Cluster, on every primary, and the cluster layout's keys too (`{prefix}:…`, `{prefix:<queue>}:…`).
 */
export const deleteKeysWithPrefix = async (
  redis: Redis | Cluster,
  prefix: string,
): Promise<number> => {
  if (!(redis instanceof Cluster)) {
    return deleteMatching(redis, `${prefix}:*`);
  }
  const patterns = [`${prefix}:*`, `{${prefix}}:*`, `{${prefix}:*`];
  let deleted = 0;
  for (const node of redis.nodes('master')) {
    for (const pattern of patterns) {
      deleted += await deleteMatching(node, pattern);
    }
  }
  return deleted;
};

/** A plain ioredis client for assertions; close it with `quit()`. */
export const connectRedis = (url: string): Redis => new Redis(url, { maxRetriesPerRequest: 1 });

/** A Redis Cluster client for assertions, from comma-separated node URLs (`RedisCluster.url`). */
export const connectRedisCluster = (url: string): Cluster =>
  new Cluster(
    url.split(',').map((node) => {
      const { hostname, port } = new URL(node.trim());
      return { host: hostname, port: Number(port || 6379) };
    }),
    { redisOptions: { maxRetriesPerRequest: 1 } },
  );

export type WaitForOptions = {
  timeoutMs?: number;
  intervalMs?: number;
  /** Said in the error when the deadline passes. */
  what?: string;
};

/** Polls `check` until it returns a truthy value, or throws after the deadline. */
export const waitFor = async <T>(
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 20, what = 'condition' }: WaitForOptions = {},
): Promise<NonNullable<T>> => {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) {
        return value as NonNullable<T>;
      }
    } catch (err) {
      lastError = err;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
};
