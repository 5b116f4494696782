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
