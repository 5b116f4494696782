import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis-layout.js';
import { defineRedisScript } from './redis-script.js';

// A lock is a key holding its holder's random token (SET NX PX); only the holder deletes it
// (compare-and-delete), so a holder whose lock expired never frees someone else's.

const RELEASE =
  defineRedisScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

// KEYS[1] the lock, KEYS[2] a key to set; ARGV[1] the token, ARGV[2] the value, ARGV[3] its TTL.
const SET_AND_RELEASE = defineRedisScript(`redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`);

/** Takes the lock for `ttlMs`: its token, or undefined when another holds it. */
export const tryLock = async (
  redis: RedisClient,
  key: string,
  ttlMs: number,
): Promise<string | undefined> => {
  const token = randomUUID();
  const taken = await redis.set(key, token, 'PX', Math.max(1, Math.floor(ttlMs)), 'NX');
  return taken === 'OK' ? token : undefined;
};

/** Releases the lock if `token` still holds it. */
export const releaseLock = async (
  redis: RedisClient,
  key: string,
  token: string,
): Promise<void> => {
  await RELEASE.run(redis, [key], [token]);
};

/**
 * Sets `set.key` (for `set.ttlMs`), then releases the lock if `token` still holds it: one round
 * trip for the last write made under a lock. Both keys must share a hash slot on a cluster.
 */
export const setAndReleaseLock = async (
  redis: RedisClient,
  key: string,
  token: string,
  set: { key: string; value: string; ttlMs: number },
): Promise<void> => {
  await SET_AND_RELEASE.run(
    redis,
    [key, set.key],
    [token, set.value, Math.max(1, Math.floor(set.ttlMs))],
  );
};
