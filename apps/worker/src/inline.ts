import { LivechatRateLimitedError, LivechatRetryableError } from '@nudge/livechat';
import { hashedId } from '@nudge/runtime';
import { type InlineActing, queueOf } from './context.js';
import type { WorkerMetrics } from './metrics.js';
import { ruleJobContext } from './rule-jobs.js';

/**
 * Acting inside the route step. A rule job that is due at once (no delay, no timer) is run by
 * the route job that asked for it, sparing a second trip through BullMQ (a job's add,
 * activation and completion: about half of Redis's work per bot action, and one hop of
 * latency). The rule's queue stays the retry path: a job that fails here is added to it as it
 * would have been (same id, same data), and retries, backs off, fails visibly and replays
 * there exactly as before. Acting once is guarded the same either way (the chat lock, the
 * thread's custom_ids, the sent markers), so a route job re-run after a crash does not act twice.
 *
 * Isolation is kept by stepping aside: a rule whose LiveChat calls failed for a retryable
 * reason (timeouts, 5xx, rate limits) goes through its queue for a while, so a slow LiveChat
 * holds up the rule's queue, not the route step (and with it every idle timer's start).
 */
type CreateInlineActingOptions = {
  /** False: every rule job goes through its queue (WORKER_ACT_INLINE=false). */
  enabled: boolean;
  metrics: WorkerMetrics;
  /** Pause when LiveChat rate-limits without saying for how long. */
  rateLimitMs: number;
  now?: () => number;
};

/** How long acting waits for a chat's lock held by another job before handing off. */
export const INLINE_LOCK_WAIT_MS = 1_000;
/** How long a rule goes through its queue after LiveChat failed it here. */
export const INLINE_BACKOFF_MS = 30_000;

export const createInlineActing = ({
  enabled,
  metrics,
  rateLimitMs,
  now = Date.now,
}: CreateInlineActingOptions): InlineActing => {
  /** Rule key → until when its jobs go through the queue. */
  const steppedAside = new Map<string, number>();
  return {
    tryRun: async (ctx, rule, organization, request) => {
      if (
        !enabled ||
        request.op !== 'add' ||
        request.delayMs !== undefined ||
        request.timer !== undefined ||
        (steppedAside.get(rule.key) ?? 0) > now()
      ) {
        return undefined;
      }
      const ruleJob = rule.jobs[request.name];
      const data = ruleJob?.data.safeParse(request.data);
      if (ruleJob === undefined || !data?.success) {
        // Its queue fails it visibly, with the reason.
        return undefined;
      }
      const jobId = hashedId(...request.id);
      const log = ctx.log.child({ queue: rule.queue, jobId, job: request.name, inline: true });
      const started = now();
      try {
        const result = await ruleJob.run(
          data.data,
          ruleJobContext({ ...ctx, log }, rule, organization, INLINE_LOCK_WAIT_MS),
        );
        if (result.outcome === 'routed') {
          throw new Error(`rule job ${rule.queue}/${request.name} answered 'routed'`);
        }
        metrics.finished(rule.queue, result, now() - started);
        log.info({ outcome: result }, 'job done');
        return { queue: rule.queue, jobId, result };
      } catch (err) {
        metrics.handedOff(rule.queue, err);
        if (err instanceof LivechatRateLimitedError) {
          const pauseMs = err.retryAfterMs ?? rateLimitMs;
          steppedAside.set(rule.key, now() + Math.max(pauseMs, INLINE_BACKOFF_MS));
          // Its queue pauses for every worker.
          await queueOf(ctx, rule).rateLimit(pauseMs);
        } else if (err instanceof LivechatRetryableError) {
          steppedAside.set(rule.key, now() + INLINE_BACKOFF_MS);
        }
        log.warn({ err }, 'acting in the route step failed: the job goes to its queue');
        return undefined;
      }
    },
  };
};
