import type { Redis } from 'ioredis';

export type RedisPolicyReport = {
  /** `maxmemory_policy` from INFO, or undefined when INFO doesn't say (some managed Redis). */
  evictionPolicy: string | undefined;
  /** False when AOF is off: a Redis restart then loses accepted webhooks. */
  aofEnabled: boolean | undefined;
};

const infoField = (info: string, field: string): string | undefined => {
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return match?.[1]?.trim();
};

/**
 * Reads the settings a queue's Redis must have. Uses INFO, which managed Redis services
 * allow even where CONFIG GET is disabled.
 */
export const readRedisPolicy = async (redis: Redis): Promise<RedisPolicyReport> => {
  const [memory, persistence] = await Promise.all([
    redis.info('memory'),
    redis.info('persistence'),
  ]);
  const aof = infoField(persistence, 'aof_enabled');
  return {
    evictionPolicy: infoField(memory, 'maxmemory_policy'),
    aofEnabled: aof === undefined ? undefined : aof === '1',
  };
};

/** Thrown when Redis would evict queue keys: jobs and locks would silently vanish. */
export class EvictionPolicyError extends Error {
  constructor(policy: string) {
    super(
      `Redis maxmemory-policy is "${policy}", but queues need "noeviction": with any other policy ` +
        'Redis may delete jobs and locks under memory pressure. Set `maxmemory-policy noeviction` ' +
        "(redis.conf, CONFIG SET, or your provider's parameter group) and start again.",
    );
    this.name = 'EvictionPolicyError';
  }
}

/**
 * Throws `EvictionPolicyError` unless Redis runs with `noeviction`. Returns the report so the
 * caller can warn about what is merely unwise (AOF off, policy unreadable).
 */
export const assertQueueRedisPolicy = async (redis: Redis): Promise<RedisPolicyReport> => {
  const report = await readRedisPolicy(redis);
  if (report.evictionPolicy !== undefined && report.evictionPolicy !== 'noeviction') {
    throw new EvictionPolicyError(report.evictionPolicy);
  }
  return report;
};
