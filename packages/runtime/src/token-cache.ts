import type { z } from 'zod';
import { createRedisKeys, parseStoredJson } from './redis-keys.js';
import type { RedisClient } from './redis-layout.js';
import { releaseLock, tryLock } from './redis-lock.js';

/**
 * A token cache in Redis, for entries of `Entry`'s schema (the LiveChat client's
 * `CachedBotToken`, whose `BotTokenCache` this implements): parsed when read back, never cast.
 */
export type RedisTokenCache<Entry extends { token: string }> = {
  get: (name: string) => Promise<Entry | undefined>;
  set: (name: string, entry: Entry, ttlMs: number) => Promise<void>;
  deleteIfToken: (name: string, token: string) => Promise<void>;
  acquireLock: (name: string, ttlMs: number) => Promise<string | undefined>;
  releaseLock: (name: string, lockId: string) => Promise<void>;
};

export type CreateRedisTokenCacheOptions<Entry extends { token: string }> = {
  redis: RedisClient;
  /** The prefix of Nudge's keys (`RedisLayout.keyPrefix`): its `botToken` and `botTokenLock` keys. */
  prefix: string;
  /** What an entry is (`CachedBotToken` of @nudge/livechat). */
  entry: z.ZodType<Entry>;
};

// Compare-and-delete on the entry's token, so a worker never deletes a token another one has
// refreshed since; an entry that is not ours to read goes too.
const DELETE_IF_TOKEN = `
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local ok, entry = pcall(cjson.decode, value)
if (not ok) or type(entry) ~= 'table' or entry.token == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/** A Redis-backed bot token cache shared by every worker, with a lock per bot for refreshing. */
export const createRedisTokenCache = <Entry extends { token: string }>({
  redis,
  prefix,
  entry: schema,
}: CreateRedisTokenCacheOptions<Entry>): RedisTokenCache<Entry> => {
  const keys = createRedisKeys(prefix);
  return {
    get: async (name) => parseStoredJson(schema, await redis.get(keys.botToken(name))),
    set: async (name, entry, ttlMs) => {
      await redis.set(
        keys.botToken(name),
        JSON.stringify(entry),
        'PX',
        Math.max(1, Math.floor(ttlMs)),
      );
    },
    deleteIfToken: async (name, token) => {
      await redis.eval(DELETE_IF_TOKEN, 1, keys.botToken(name), token);
    },
    acquireLock: (name, ttlMs) => tryLock(redis, keys.botTokenLock(name), ttlMs),
    releaseLock: (name, lockId) => releaseLock(redis, keys.botTokenLock(name), lockId),
  };
};
