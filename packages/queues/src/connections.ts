import type { RedisClient } from '@nudge/runtime';
import { Cluster, Redis, type RedisOptions } from 'ioredis';

export type ConnectionTarget = {
  /** REDIS_CLUSTER: `url` lists one or more nodes of a Redis Cluster, comma-separated. */
  cluster?: boolean;
};

export type ProducerConnectionOptions = ConnectionTarget & {
  /** A command that gets no answer within this time fails (Redis paused, network black hole). */
  commandTimeoutMs?: number;
};

type ClusterSeeds = {
  nodes: { host: string; port: number }[];
  /** The first URL's credentials and TLS, for every node (seeds and discovered ones alike). */
  nodeOptions: RedisOptions;
};

/** The nodes REDIS_URL lists (comma-separated), and the options every node connection shares. */
export const clusterSeedsOf = (urls: string): ClusterSeeds => {
  const parsed = urls.split(',').map((url) => new URL(url.trim()));
  const first = parsed[0];
  if (first === undefined) {
    throw new Error('REDIS_URL names no node');
  }
  return {
    nodes: parsed.map((url) => ({ host: url.hostname, port: Number(url.port || 6379) })),
    nodeOptions: {
      ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
      ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
      ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  };
};

/**
 * A connection for code that must answer quickly (the webhook receiver): commands fail at
 * once while Redis is unreachable instead of queueing in memory, and reconnects are tried
 * every ≤ 500 ms so service resumes soon after Redis does. On a cluster: the same, per node.
 */
export const createProducerConnection = (
  url: string,
  { cluster = false, commandTimeoutMs = 1_000 }: ProducerConnectionOptions = {},
): RedisClient => {
  const common = {
    enableOfflineQueue: false,
    // Concurrent webhooks share one write and one read per event-loop turn.
    enableAutoPipelining: false,
  };
  const perCommand = {
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2_000,
  };
  const retry = (attempt: number) => Math.min(attempt * 100, 500);
  if (!cluster) {
    return new Redis(url, { ...common, ...perCommand, retryStrategy: retry });
  }
  const { nodes, nodeOptions } = clusterSeedsOf(url);
  return new Cluster(nodes, {
    ...common,
    clusterRetryStrategy: retry,
    redisOptions: { ...nodeOptions, ...perCommand },
  });
};

/**
 * A connection for workers: BullMQ requires `maxRetriesPerRequest: null` (blocking commands
 * wait forever), and it reconnects forever with a capped backoff. On a cluster: the same, with
 * commands queued while the cluster is (re)connecting.
 */
export const createWorkerConnection = (
  url: string,
  { cluster = false }: ConnectionTarget = {},
): RedisClient => {
  const retry = (attempt: number) => Math.min(attempt * 200, 5_000);
  if (!cluster) {
    return new Redis(url, { maxRetriesPerRequest: null, retryStrategy: retry });
  }
  const { nodes, nodeOptions } = clusterSeedsOf(url);
  return new Cluster(nodes, {
    clusterRetryStrategy: retry,
    redisOptions: { ...nodeOptions, maxRetriesPerRequest: null },
  });
};

/** What connection-state logging needs of a logger (pino fits). */
export type ConnectionLogger = {
  warn: (obj: object, msg: string) => void;
  info: (msg: string) => void;
};

export type ConnectionState = {
  /** True from the first failure until the connection is ready again. */
  isDown: () => boolean;
  /** Says goodbye (QUIT) while connected; while Redis is away there is nobody to tell. */
  close: () => Promise<void>;
};

/**
 * Logs a Redis connection's state changes, one line each: unavailable (with the reason, no
 * stack) and available again. Reconnect attempts in between stay quiet, so an outage under
 * an orchestrator is two lines, not a stack trace per retry.
 */
export const watchConnection = ({
  redis,
  log,
  lostMessage = 'redis unavailable: retrying until it is back',
}: {
  redis: RedisClient;
  log: ConnectionLogger;
  /** What the outage means for this app (ingest answers 503 meanwhile). */
  lostMessage?: string;
}): ConnectionState => {
  let down = false;
  const lost = (reason: string) => {
    if (!down) {
      down = true;
      log.warn({ reason }, lostMessage);
    }
  };
  redis.on('error', (err: Error) => lost(err.message));
  redis.on('reconnecting', () => lost('reconnecting'));
  redis.on('ready', () => {
    if (down) {
      down = false;
      log.info('redis available again');
    }
  });
  return {
    isDown: () => down,
    close: async () => {
      if (down) {
        redis.disconnect();
      } else {
        await redis.quit();
      }
    },
  };
};
