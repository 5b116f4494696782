import type { IdleReplyJob } from '@nudge/queues';
import type { WorkerContext } from '../context.js';
import { jobIdFor } from '../ids.js';

/** The idle timer of one thread: BullMQ debounces on this id. */
export const idleTimerId = (organizationId: string, chatId: string, threadId: string) =>
  jobIdFor('idle-timer', organizationId, chatId, threadId);

/**
 * (Re)starts a thread's idle timer: one pending job per thread; each customer message replaces
 * it and starts the delay again, and a timer already running keeps the newest as its successor
 * (BullMQ `replace` + `keepLastIfActive`). The job id names the message, so a duplicate
 * webhook is a no-op.
 */
export const scheduleIdleTimer = async (
  ctx: WorkerContext,
  { organizationId, chatId, threadId, eventId, delayMs }: IdleReplyJob & { delayMs: number },
): Promise<void> => {
  await ctx.queues.idleReply.add(
    'nudge',
    { organizationId, chatId, threadId, eventId },
    {
      jobId: jobIdFor('idle', organizationId, chatId, threadId, eventId),
      delay: Math.max(0, delayMs),
      deduplication: {
        id: idleTimerId(organizationId, chatId, threadId),
        replace: true,
        keepLastIfActive: true,
      },
    },
  );
};

/**
 * Drops a thread's pending timer. Only a timer still waiting is removed; one already running
 * re-reads the chat and sees the agent's answer (or the closed thread) itself.
 */
export const cancelIdleTimer = async (
  ctx: WorkerContext,
  { organizationId, chatId, threadId }: Omit<IdleReplyJob, 'eventId'>,
): Promise<void> => {
  const jobId = await ctx.queues.idleReply.getDeduplicationJobId(
    idleTimerId(organizationId, chatId, threadId),
  );
  const job = jobId ? await ctx.queues.idleReply.getJob(jobId) : undefined;
  if (job && (await job.isDelayed())) {
    await job.remove().catch(() => undefined);
  }
};
