import { setTimeout as delay } from 'node:timers/promises';
import { clusterSeedsOf } from '@nudge/queues';
import type { RedisClient } from '@nudge/runtime';
import { Cluster, Redis } from 'ioredis';

export type ProbeOptions = {
  /** REDIS_CLUSTER: `url` lists one or more nodes of a Redis Cluster, comma-separated. */
  cluster?: boolean;
  connectTimeoutMs?: number;
};

const connectFailFast = (url: string, cluster: boolean, connectTimeoutMs: number): RedisClient => {
  const once = { connectTimeout: connectTimeoutMs, maxRetriesPerRequest: 0 };
  if (!cluster) {
    return new Redis(url, { ...once, lazyConnect: true, retryStrategy: () => null });
  }
  const { nodes, nodeOptions } = clusterSeedsOf(url);
  return new Cluster(nodes, {
    lazyConnect: true,
    clusterRetryStrategy: () => null,
    redisOptions: { ...nodeOptions, ...once },
  });
};

/**
 * Why no seed of a cluster could be used: ioredis only says "Failed to refresh slots cache"
 * (its slot probe swallows the connection error), so each seed is asked on its own — the
 * first one's connection error, or what it answers to CLUSTER INFO (e.g. cluster support
 * disabled), or its cluster state.
 */
const explainClusterFailure = async (
  url: string,
  connectTimeoutMs: number,
): Promise<string | undefined> => {
  for (const { host, port } of clusterSeedsOf(url).nodes) {
    const seed = `redis://${host}:${port}`;
    let redis: RedisClient | undefined;
    try {
      redis = await connectOnce(seed, { connectTimeoutMs });
      const info = String(await redis.cluster('INFO'));
      if (!info.includes('cluster_state:ok')) {
        return `${seed}: ${/cluster_state:\w+/.exec(info)?.[0] ?? 'cluster not ready'}`;
      }
    } catch (err) {
      return `${seed}: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      redis?.disconnect();
    }
  }
  return undefined;
};

/**
 * A connection that fails at once instead of retrying, for probes and one-shot commands;
 * rejects with the underlying reason (ECONNREFUSED, a DNS error…), not ioredis's
 * "Connection is closed". On a cluster it resolves once the cluster's slots are known.
 */
export const connectOnce = async (
  url: string,
  { cluster = false, connectTimeoutMs = 2_000 }: ProbeOptions = {},
): Promise<RedisClient> => {
  const redis = connectFailFast(url, cluster, connectTimeoutMs);
  let reason: string | undefined;
  const remember = (err: Error) => {
    reason ??= err.message;
  };
  redis.on('error', remember);
  // A cluster reports each node's failure (the real reason) apart from its own summary.
  redis.on('node error', remember);
  try {
    await redis.connect();
    return redis;
  } catch (err) {
    redis.disconnect();
    const explained = cluster ? await explainClusterFailure(url, connectTimeoutMs) : undefined;
    throw new Error(explained ?? reason ?? (err instanceof Error ? err.message : String(err)));
  }
};

/** Why Redis at `url` can't be used, or undefined when it answers PING. */
export const probeRedis = async (
  url: string,
  options: ProbeOptions = {},
): Promise<string | undefined> => {
  try {
    const redis = await connectOnce(url, options);
    try {
      return (await redis.ping()) === 'PONG' ? undefined : 'no PONG';
    } finally {
      redis.disconnect();
    }
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
};

/**
 * Probes until Redis answers or `timeoutMs` passes (a Redis started alongside may need a
 * moment); resolves with the last reason it could not be used, or undefined.
 */
export const waitForRedis = async (
  url: string,
  { timeoutMs, signal, cluster }: { timeoutMs: number; signal?: AbortSignal; cluster?: boolean },
): Promise<string | undefined> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = await probeRedis(url, {
      cluster,
      connectTimeoutMs: Math.min(2_000, Math.max(100, deadline - Date.now())),
    });
    if (reason === undefined || Date.now() >= deadline || signal?.aborted) {
      return reason;
    }
    await delay(250, undefined, { signal }).catch(() => undefined);
  }
};
