import { LivechatRateLimitedError, LivechatUnrecoverableError } from '@nudge/livechat';
import { UnrecoverableError } from '@nudge/queues';
import { type Job, Worker } from 'bullmq';
import type { WorkerContext, WorkerOutcome } from './context.js';
import type { WorkerMetrics } from './metrics.js';

export type Handler = (job: Job, ctx: WorkerContext) => Promise<WorkerOutcome>;

type CreateProcessorOptions = {
  /** Job name → handler (the events queue routes every action with one handler: `*`). */
  handlers: Readonly<Record<string, Handler>>;
  ctx: WorkerContext;
  /**
   * Pauses the processor's queue for every worker (BullMQ `Queue.rateLimit`); without it (the
   * webhooks' queue, which must not stop routing) a rate limit is a failed attempt like another.
   */
  rateLimit?: (ms: number) => Promise<void>;
  /** Pause when LiveChat rate-limits without saying for how long. */
  rateLimitMs: number;
  metrics: WorkerMetrics;
};

/**
 * One processor per queue, dispatching on `job.name`, and the only place LiveChat's errors
 * become BullMQ behaviour: too_many_requests pauses the whole queue (across workers) without
 * using up an attempt; a retryable error is rethrown (exponential backoff with jitter); an
 * unrecoverable one fails the job at once with LiveChat's error type and message.
 */
export const createProcessor =
  ({ handlers, ctx, rateLimit, rateLimitMs, metrics }: CreateProcessorOptions) =>
  async (job: Job): Promise<WorkerOutcome> => {
    const started = Date.now();
    const delay = job.opts.delay ?? 0;
    if (delay > 0 && job.attemptsStarted <= 1) {
      metrics.timerFired(job.queueName, started - (job.timestamp + delay));
    }
    const handler = handlers[job.name] ?? handlers['*'];
    if (!handler) {
      throw new UnrecoverableError(`no handler for job name "${job.name}"`);
    }
    const log = ctx.log.child({ queue: job.queueName, jobId: job.id, job: job.name });
    try {
      const outcome = await handler(job, { ...ctx, log });
      metrics.finished(job.queueName, outcome, Date.now() - started);
      log.info({ outcome, attempt: job.attemptsMade + 1 }, 'job done');
      return outcome;
    } catch (err) {
      metrics.failed(job.queueName, err, Date.now() - started);
      if (err instanceof LivechatRateLimitedError && rateLimit !== undefined) {
        const pauseMs = err.retryAfterMs ?? rateLimitMs;
        log.warn({ pauseMs, action: err.action }, 'LiveChat rate limit: pausing the queue');
        await rateLimit(pauseMs);
        throw Worker.RateLimitError();
      }
      if (err instanceof LivechatUnrecoverableError) {
        log.error({ err, action: err.action, type: err.type }, 'job failed: LiveChat refused');
        throw new UnrecoverableError(err.message);
      }
      log.warn({ err, attempt: job.attemptsMade + 1 }, 'job attempt failed');
      throw err;
    }
  };
