import { isRedisCluster, type RedisClient } from '@nudge/runtime';
import type { Cluster, Redis } from 'ioredis';
import { z } from 'zod';

export type RedisPolicyReport = {
  /**
   * `maxmemory_policy` from INFO, or undefined when INFO doesn't say (some managed Redis). On
   * a cluster: the first primary's that is not `noeviction`, else undefined if any primary
   * doesn't say, else `noeviction`.
   */
  evictionPolicy: string | undefined;
  /** False when AOF is off (on any primary): a Redis restart then loses accepted webhooks. */
  aofEnabled: boolean | undefined;
  /**
   * `hash-max-listpack-value` (the lowest of a cluster's primaries), or undefined where CONFIG
   * GET is refused (some managed Redis): see `HASH_LISTPACK_VALUE`.
   */
  hashListpackValue: number | undefined;
  /** On a cluster: the primary (`host:port`) the report's worst finding is about. */
  node?: string;
  /** How many servers were read: 1, or a cluster's primaries. */
  servers: number;
  /** One server that says it is a Redis Cluster node (`cluster_enabled:1`): REDIS_CLUSTER is off. */
  clusterNode?: boolean;
};

type ServerPolicy = Pick<RedisPolicyReport, 'evictionPolicy' | 'aofEnabled' | 'hashListpackValue'>;

/** The listpack limit Nudge's job hashes need to stay compact (see README, Redis settings). */
export const HASH_LISTPACK_VALUE = 512;

/** CONFIG GET's answer: name, value, name, value… */
const ConfigAnswer = z.array(z.string());

/**
 * `hash-max-listpack-value` (`hash-max-ziplist-value` before Redis 7, an alias since), or
 * undefined where CONFIG GET is refused. A job hash whose values are all under it is a
 * listpack: a pending idle timer's ~1.0 KB instead of ~1.35 KB.
 */
const readHashListpackValue = async (redis: Redis): Promise<number | undefined> => {
  const answer = ConfigAnswer.safeParse(
    await redis.config('GET', 'hash-max-*-value').catch(() => undefined),
  );
  const values = answer.success ? answer.data.filter((_, i) => i % 2 === 1).map(Number) : [];
  return values.length > 0 ? Math.max(...values) : undefined;
};

const infoField = (info: string, field: string): string | undefined => {
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return match?.[1]?.trim();
};

const readServerPolicy = async (redis: Redis): Promise<ServerPolicy> => {
  const [memory, persistence, hashListpackValue] = await Promise.all([
    redis.info('memory'),
    redis.info('persistence'),
    readHashListpackValue(redis),
  ]);
  const aof = infoField(persistence, 'aof_enabled');
  return {
    evictionPolicy: infoField(memory, 'maxmemory_policy'),
    aofEnabled: aof === undefined ? undefined : aof === '1',
    hashListpackValue,
  };
};

/** Resolves once the cluster knows its slots (waiting as long as it takes), rejects if it ends. */
const clusterReady = (cluster: Cluster): Promise<void> =>
  cluster.status === 'ready'
    ? Promise.resolve()
    : new Promise((resolve, reject) => {
        const ready = () => {
          cluster.off('end', ended);
          resolve();
        };
        const ended = () => {
          cluster.off('ready', ready);
          reject(new Error('redis cluster connection closed'));
        };
        cluster.once('ready', ready);
        cluster.once('end', ended);
      });

const nameOf = (node: Redis): string => `${node.options.host ?? '?'}:${node.options.port ?? '?'}`;

/**
 * Reads the settings a queue's Redis must have; on a Redis Cluster, of every primary (each
 * holds some queues). Uses INFO, which managed Redis services allow even where CONFIG GET is
 * disabled; only the listpack limit needs CONFIG GET, and is left undefined where it is refused.
 */
export const readRedisPolicy = async (redis: RedisClient): Promise<RedisPolicyReport> => {
  if (!isRedisCluster(redis)) {
    const [policy, cluster] = await Promise.all([
      readServerPolicy(redis),
      // A server that won't say is taken as what it was configured as.
      redis.info('cluster').catch(() => ''),
    ]);
    return {
      ...policy,
      servers: 1,
      ...(infoField(cluster, 'cluster_enabled') === '1' ? { clusterNode: true } : {}),
    };
  }
  await clusterReady(redis);
  const primaries = redis.nodes('master');
  const policies = await Promise.all(primaries.map(readServerPolicy));
  const read = policies.map((policy, i) => ({ ...policy, node: nameOf(primaries[i] as Redis) }));
  const evicting = read.find(
    (policy) => policy.evictionPolicy !== undefined && policy.evictionPolicy !== 'noeviction',
  );
  const unknown = read.find((policy) => policy.evictionPolicy === undefined);
  const noAof = read.find((policy) => policy.aofEnabled === false);
  const aofUnknown = read.find((policy) => policy.aofEnabled === undefined);
  const worst = evicting ?? unknown ?? noAof;
  const listpackValues = read.flatMap(({ hashListpackValue: value }) =>
    value === undefined ? [] : [value],
  );
  return {
    evictionPolicy: (evicting ?? unknown ?? read[0])?.evictionPolicy,
    aofEnabled: noAof ? false : aofUnknown || read.length === 0 ? undefined : true,
    hashListpackValue: listpackValues.length > 0 ? Math.min(...listpackValues) : undefined,
    ...(worst ? { node: worst.node } : {}),
    servers: read.length,
  };
};

/** Thrown when Redis would evict queue keys: jobs and locks would silently vanish. */
export class EvictionPolicyError extends Error {
  constructor(policy: string, node?: string) {
    super(
      `Redis maxmemory-policy is "${policy}"${node ? ` on cluster primary ${node}` : ''}, but queues need "noeviction": with any other policy ` +
        'Redis may delete jobs and locks under memory pressure. Set `maxmemory-policy noeviction` ' +
        `(redis.conf, CONFIG SET, or your provider's parameter group${node ? ', on every shard' : ''}) and start again.`,
    );
    this.name = 'EvictionPolicyError';
  }
}

/** Thrown when a plain connection reaches a Redis Cluster node: most keys would be MOVED. */
export class ClusterModeError extends Error {
  constructor() {
    super(
      'this Redis is a Redis Cluster node (cluster_enabled:1): set REDIS_CLUSTER=true, with ' +
        'REDIS_URL listing one or more of its nodes, and start again.',
    );
    this.name = 'ClusterModeError';
  }
}

/**
 * Throws `EvictionPolicyError` unless Redis (every primary of a cluster) runs with
 * `noeviction`, and `ClusterModeError` when a plain connection reached a cluster node. Returns
 * the report so the caller can warn about what is merely unwise (AOF off, policy unreadable).
 */
export const assertQueueRedisPolicy = async (redis: RedisClient): Promise<RedisPolicyReport> => {
  const report = await readRedisPolicy(redis);
  if (report.clusterNode === true) {
    throw new ClusterModeError();
  }
  if (report.evictionPolicy !== undefined && report.evictionPolicy !== 'noeviction') {
    throw new EvictionPolicyError(report.evictionPolicy, report.node);
  }
  return report;
};
