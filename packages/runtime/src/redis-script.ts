import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-layout.js';

/** A Lua script of Nudge's, run by its SHA. */
export type RedisScript = {
  /**
   * EVALSHA, falling back to EVAL (which caches it) when Redis doesn't know the script yet or
   * lost it (a restart). One command, one round trip; on a cluster, `keys` share a hash slot.
   */
  run: (
    redis: RedisClient,
    keys: readonly string[],
    args: readonly (string | number)[],
  ) => Promise<unknown>;
};

// Not ioredis's defineCommand: every pipeline ioredis builds copies each command defined on its
// connection, and BullMQ's scripts already make that copy costly on a hot path.
export const defineRedisScript = (lua: string): RedisScript => {
  const sha = createHash('sha1').update(lua).digest('hex');
  return {
    run: async (redis, keys, args) => {
      try {
        return await redis.evalsha(sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('NOSCRIPT')) {
          return redis.eval(lua, keys.length, ...keys, ...args);
        }
        throw err;
      }
    },
  };
};
