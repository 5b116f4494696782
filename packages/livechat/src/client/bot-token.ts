import { setTimeout as delay } from 'node:timers/promises';
import type { BotTokenCache, CachedBotToken } from './token-cache.js';

/** A freshly issued token: `expiresInMs` when LiveChat said how long it lasts. */
type IssuedBotToken = { token: string; expiresInMs?: number | undefined };

type BotTokenProviderOptions = {
  cache: BotTokenCache;
  /** The cache entry's name: one per organization and bot. */
  name: string;
  /** Calls issue_bot_token. */
  issue: () => Promise<IssuedBotToken>;
  /** How long a token is assumed valid when neither the response nor the token says. */
  validityMs: number;
  /** Stop using a token this long before it expires (capped at a tenth of its validity). */
  refreshMarginMs: number;
  /** The refresh lock's lifetime: longer than one issue_bot_token call may take. */
  lockTtlMs: number;
  /** How long to wait for another worker's refresh before giving up. */
  waitTimeoutMs: number;
  pollIntervalMs: number;
  /** Wraps a cache failure or a wait timeout in the client's error type. */
  unavailable: (message: string, cause?: unknown) => Error;
};

export type BotTokenProvider = {
  /** A token that is not due for a refresh; refreshes (once, under a lock) when needed. */
  get: () => Promise<string>;
  /** Forgets `token` after LiveChat rejected it, unless another worker already replaced it. */
  invalidate: (token: string) => Promise<void>;
};

/** The `exp` claim of a JWT-shaped token, in ms; undefined for anything else. */
export const jwtExpiryMs = (token: string): number | undefined => {
  const parts = token.split('.');
  const payload = parts.length === 3 ? parts[1] : undefined;
  if (!payload) {
    return undefined;
  }
  try {
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    if (typeof claims === 'object' && claims !== null && 'exp' in claims) {
      const { exp } = claims;
      return typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : undefined;
    }
  } catch {
    // not a JWT
  }
  return undefined;
};

/**
 * When a token issued at `issuedAt` expires: the earliest of the configured validity, the
 * response's `expires_in` and the token's own `exp` claim, ignoring values not in the future
 * (clock skew must not make every token look expired).
 */
export const tokenExpiry = (
  issued: IssuedBotToken,
  issuedAt: number,
  validityMs: number,
): number => {
  const candidates = [
    issuedAt + validityMs,
    issued.expiresInMs === undefined ? undefined : issuedAt + issued.expiresInMs,
    jwtExpiryMs(issued.token),
  ];
  return Math.min(...candidates.filter((at): at is number => at !== undefined && at > issuedAt));
};

/** Bot tokens shared through `cache`: at most one refresh per bot at a time, across workers. */
export const createBotTokenProvider = ({
  cache,
  name,
  issue,
  validityMs,
  refreshMarginMs,
  lockTtlMs,
  waitTimeoutMs,
  pollIntervalMs,
  unavailable,
}: BotTokenProviderOptions): BotTokenProvider => {
  let current: CachedBotToken | undefined;
  // Concurrent callers in this process share one refresh.
  let pending: Promise<CachedBotToken> | undefined;

  const isFresh = (entry: CachedBotToken | undefined): entry is CachedBotToken =>
    entry !== undefined && Date.now() < entry.refreshAt;

  const fromCache = async <T>(what: string, run: () => Promise<T>): Promise<T> => {
    try {
      return await run();
    } catch (err) {
      throw unavailable(`bot token cache ${what} failed`, err);
    }
  };

  const issueEntry = async (): Promise<CachedBotToken> => {
    const issuedAt = Date.now();
    const issued = await issue();
    const expiresAt = tokenExpiry(issued, issuedAt, validityMs);
    const margin = Math.min(refreshMarginMs, (expiresAt - issuedAt) / 10);
    return { token: issued.token, expiresAt, refreshAt: expiresAt - margin };
  };

  const obtain = async (): Promise<CachedBotToken> => {
    const deadline = Date.now() + waitTimeoutMs;
    for (;;) {
      const cached = await fromCache('read', () => cache.get(name));
      if (isFresh(cached)) {
        return cached;
      }
      const lockId = await fromCache('lock', () => cache.acquireLock(name, lockTtlMs));
      if (lockId !== undefined) {
        try {
          // Another worker may have stored a token between our read and the lock.
          const again = await fromCache('read', () => cache.get(name));
          if (isFresh(again)) {
            return again;
          }
          const entry = await issueEntry();
          try {
            // The entry vanishes when it is due for a refresh: a bit before the token expires.
            await cache.set(name, entry, entry.refreshAt - Date.now());
          } catch {
            // The token is good; other workers will just issue their own.
          }
          return entry;
        } finally {
          await cache.releaseLock(name, lockId).catch(() => undefined);
        }
      }
      if (Date.now() >= deadline) {
        throw unavailable(`no bot token after waiting ${waitTimeoutMs} ms for another refresh`);
      }
      await delay(pollIntervalMs);
    }
  };

  return {
    get: async () => {
      if (isFresh(current)) {
        return current.token;
      }
      pending ??= obtain()
        .then((entry) => {
          current = entry;
          return entry;
        })
        .finally(() => {
          pending = undefined;
        });
      return (await pending).token;
    },
    invalidate: async (token) => {
      if (current?.token === token) {
        current = undefined;
      }
      await fromCache('delete', () => cache.deleteIfToken(name, token));
    },
  };
};
