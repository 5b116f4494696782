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
 * `name` identifies the bot (organization and bot ID); the cache decides the keys. Nudge's
 * lives in Redis (`createRedisTokenCache` of @nudge/runtime).
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
