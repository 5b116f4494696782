import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** A bot token as cached: when LiveChat stops accepting it, and when we stop using it. */
export const CachedBotToken = z.object({
  token: z.string().min(1),
  expiresAt: z.number(),
  refreshAt: z.number(),
});
export type CachedBotToken = z.output<typeof CachedBotToken>;

/**
 * Shared storage for bot tokens plus a lock so only one worker refreshes a given bot's token.
 * `name` identifies the bot (organization and bot ID); the cache decides the keys.
 */
export type BotTokenCache = {
  get: (name: string) => Promise<CachedBotToken | undefined>;
  /** Stores the token for `ttlMs`; the entry vanishes when it is due for a refresh. */
  set: (name: string, entry: CachedBotToken, ttlMs: number) => Promise<void>;
  /** Deletes the entry only if it still holds `token` (another worker may have refreshed). */
  deleteIfToken: (name: string, token: string) => Promise<void>;
  /** An ID identifying this holder, or undefined when someone else holds the lock. */
  acquireLock: (name: string, ttlMs: number) => Promise<string | undefined>;
  /** Releases the lock only if `lockId` still holds it. */
  releaseLock: (name: string, lockId: string) => Promise<void>;
};

export type CreateRedisTokenCacheOptions = {
  redis: Redis;
  /** Keys are `<prefix>:bot-token:<name>` and `<prefix>:bot-token-lock:<name>`. */
  prefix: string;
};

// Compare-and-delete, so a worker never deletes a token or lock that is no longer its own.
const DELETE_IF_TOKEN = `
local value = redis.call('GET', KEYS[1])
if not value then return 0 end
local ok, entry = pcall(cjson.decode, value)
if (not ok) or type(entry) ~= 'table' or entry.token == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;
const RELEASE_LOCK = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** A Redis-backed bot token cache shared by every worker (SET NX PX lock, compare-and-delete). */
export const createRedisTokenCache = ({
  redis,
  prefix,
}: CreateRedisTokenCacheOptions): BotTokenCache => {
  const tokenKey = (name: string) => `${prefix}:bot-token:${name}`;
  const lockKey = (name: string) => `${prefix}:bot-token-lock:${name}`;
  return {
    get: async (name) => {
      const raw = await redis.get(tokenKey(name));
      if (raw === null) {
        return undefined;
      }
      let value: unknown;
      try {
        value = JSON.parse(raw);
      } catch {
        return undefined;
      }
      const parsed = CachedBotToken.safeParse(value);
      return parsed.success ? parsed.data : undefined;
    },
    set: async (name, entry, ttlMs) => {
      await redis.set(tokenKey(name), JSON.stringify(entry), 'PX', Math.max(1, Math.floor(ttlMs)));
    },
    deleteIfToken: async (name, token) => {
      await redis.eval(DELETE_IF_TOKEN, 1, tokenKey(name), token);
    },
    acquireLock: async (name, ttlMs) => {
      const lockId = randomUUID();
      const result = await redis.set(
        lockKey(name),
        lockId,
        'PX',
        Math.max(1, Math.floor(ttlMs)),
        'NX',
      );
      return result === 'OK' ? lockId : undefined;
    },
    releaseLock: async (name, lockId) => {
      await redis.eval(RELEASE_LOCK, 1, lockKey(name), lockId);
    },
  };
};
