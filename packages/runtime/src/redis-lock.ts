import { randomUUID } from 'node:crypto';
import type { RedisClient } from './redis-layout.js';

// A lock is a key holding its holder's random token (SET NX PX); only the holder deletes it
// (compare-and-delete), so a holder whose lock expired never frees someone else's.

const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

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
  await redis.eval(RELEASE, 1, key, token);
};
