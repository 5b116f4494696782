import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';

/**
 * A connection that fails at once instead of retrying, for probes and one-shot commands;
 * rejects with the underlying reason (ECONNREFUSED, a DNS error…), not ioredis's
 * "Connection is closed".
 */
export const connectOnce = async (url: string, connectTimeoutMs = 2_000): Promise<Redis> => {
  const redis = new Redis(url, {
    lazyConnect: true,
    connectTimeout: connectTimeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  let reason: string | undefined;
  redis.on('error', (err: Error) => {
    reason ??= err.message;
  });
  try {
    await redis.connect();
    return redis;
  } catch (err) {
    redis.disconnect();
    throw new Error(reason ?? (err instanceof Error ? err.message : String(err)));
  }
};

/** Why Redis at `url` can't be used, or undefined when it answers PING. */
export const probeRedis = async (
  url: string,
  connectTimeoutMs = 2_000,
): Promise<string | undefined> => {
  try {
    const redis = await connectOnce(url, connectTimeoutMs);
    try {
      return (await redis.ping()) === 'PONG' ? undefined : 'no PONG';
    } finally {
      redis.disconnect();
    }
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
};

/**
 * Probes until Redis answers or `timeoutMs` passes (a Redis started alongside may need a
 * moment); resolves with the last reason it could not be used, or undefined.
 */
export const waitForRedis = async (
  url: string,
  { timeoutMs, signal }: { timeoutMs: number; signal?: AbortSignal },
): Promise<string | undefined> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const reason = await probeRedis(url, Math.min(2_000, Math.max(100, deadline - Date.now())));
    if (reason === undefined || Date.now() >= deadline || signal?.aborted) {
      return reason;
    }
    await delay(250, undefined, { signal }).catch(() => undefined);
  }
};
