import { z } from 'zod';
import { createRedisKeys, parseStoredJson } from './redis-keys.js';
import type { RedisClient } from './redis-layout.js';
import { releaseLock, tryLock } from './redis-lock.js';

/** A bot token as stored: when LiveChat stops accepting it, and when we stop using it. */
export const StoredBotToken = z.object({
  token: z.string().min(1),
  expiresAt: z.number(),
  refreshAt: z.number(),
});
export type StoredBotToken = z.output<typeof StoredBotToken>;

/** The LiveChat client's bot token cache (`BotTokenCache` of @nudge/livechat), in Redis. */
export type RedisTokenCache = {
  get: (name: string) => Promise<StoredBotToken | undefined>;
  set: (name: string, entry: StoredBotToken, ttlMs: number) => Promise<void>;
  deleteIfToken: (name: string, token: string) => Promise<void>;
  acquireLock: (name: string, ttlMs: number) => Promise<string | undefined>;
  releaseLock: (name: string, lockId: string) => Promise<void>;
};

export type CreateRedisTokenCacheOptions = {
  redis: RedisClient;
  /** The prefix of Nudge's keys (`RedisLayout.keyPrefix`): its `botToken` and `botTokenLock` keys. */
  prefix: string;
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
export const createRedisTokenCache = ({
  redis,
  prefix,
}: CreateRedisTokenCacheOptions): RedisTokenCache => {
  const keys = createRedisKeys(prefix);
  return {
    get: async (name) => parseStoredJson(StoredBotToken, await redis.get(keys.botToken(name))),
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
