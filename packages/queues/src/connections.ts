import { Redis } from 'ioredis';

export type ProducerConnectionOptions = {
  /** A command that gets no answer within this time fails (Redis paused, network black hole). */
  commandTimeoutMs?: number;
};

/**
 * A connection for code that must answer quickly (the webhook receiver): commands fail at
 * once while Redis is unreachable instead of queueing in memory, and reconnects are tried
 * every ≤ 500 ms so service resumes soon after Redis does.
 */
export const createProducerConnection = (
  url: string,
  { commandTimeoutMs = 1_000 }: ProducerConnectionOptions = {},
): Redis =>
  new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: commandTimeoutMs,
    connectTimeout: 2_000,
    // Concurrent webhooks share one write and one read per event-loop turn.
    enableAutoPipelining: false,
    retryStrategy: (attempt) => Math.min(attempt * 100, 500),
  });

/**
 * A connection for workers: BullMQ requires `maxRetriesPerRequest: null` (blocking commands
 * wait forever), and it reconnects forever with a capped backoff.
 */
export const createWorkerConnection = (url: string): Redis =>
  new Redis(url, {
    maxRetriesPerRequest: null,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
  });

/** What connection-state logging needs of a logger (pino fits). */
export type ConnectionLogger = {
  warn: (obj: object, msg: string) => void;
  info: (msg: string) => void;
};

export type ConnectionState = {
  /** True from the first failure until the connection is ready again. */
  isDown: () => boolean;
  /** Says goodbye (QUIT) while connected; while Redis is away there is nobody to tell. */
  close: () => Promise<void>;
};

/**
 * Logs a Redis connection's state changes, one line each: unavailable (with the reason, no
 * stack) and available again. Reconnect attempts in between stay quiet, so an outage under
 * an orchestrator is two lines, not a stack trace per retry.
 */
export const watchConnection = ({
  redis,
  log,
  lostMessage = 'redis unavailable: retrying until it is back',
}: {
  redis: Redis;
  log: ConnectionLogger;
  /** What the outage means for this app (ingest answers 503 meanwhile). */
  lostMessage?: string;
}): ConnectionState => {
  let down = false;
  const lost = (reason: string) => {
    if (!down) {
      down = true;
      log.warn({ reason }, lostMessage);
    }
  };
  redis.on('error', (err: Error) => lost(err.message));
  redis.on('reconnecting', () => lost('reconnecting'));
  redis.on('ready', () => {
    if (down) {
      down = false;
      log.info('redis available again');
    }
  });
  return {
    isDown: () => down,
    close: async () => {
      if (down) {
        redis.disconnect();
      } else {
        await redis.quit();
      }
    },
  };
};
