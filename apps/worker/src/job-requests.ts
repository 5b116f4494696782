import type { ChatJobIndex } from '@nudge/queues';
import type { JobRequest } from '@nudge/rules';
import { hashedId } from '@nudge/runtime';
import type { Queue } from 'bullmq';
import { z } from 'zod';

const TimerStart = z.object({ startedAt: z.number() });

/** Whether a pending timer started before `bound` (or either time is unknown). */
const startedEarlier = (data: unknown, bound: number | undefined): boolean => {
  const started = TimerStart.safeParse(data);
  return bound === undefined || !started.success || started.data.startedAt < bound;
};

/**
 * Does what a rule asked of its queue. A job id names what must happen once (a duplicate
 * webhook adds nothing); a timer keeps one pending job per id, each new request replacing it
 * and one already running keeping the newest as its successor (BullMQ `replace` +
 * `keepLastIfActive`). Cancelling removes only a timer still waiting: one already running
 * re-reads the chat and sees the agent's answer (or the closed thread) itself, and one a
 * newer event started than the cancelling one stays (see `startedBefore`).
 */
export const applyJobRequest = async (
  queue: Queue,
  request: JobRequest,
  chatJobs: ChatJobIndex,
): Promise<void> => {
  if (request.op === 'cancel-timer') {
    const jobId = await queue.getDeduplicationJobId(hashedId(...request.timer));
    const job = jobId ? await queue.getJob(jobId) : undefined;
    if (job && startedEarlier(job.data, request.startedBefore) && (await job.isDelayed())) {
      await job.remove().catch(() => undefined);
    }
    return;
  }
  const { name, data, id, delayMs, timer } = request;
  const jobId = hashedId(...id);
  const { chatId } = data;
  // Indexed in the same round trip as the add; an id a timer's deduplication drops is
  // pruned when the dashboard reads the index.
  await Promise.all([
    queue.add(name, data, {
      jobId,
      ...(delayMs === undefined ? {} : { delay: delayMs }),
      ...(timer === undefined
        ? {}
        : { deduplication: { id: hashedId(...timer), replace: true, keepLastIfActive: true } }),
    }),
    typeof chatId === 'string' ? chatJobs.add([{ queue: queue.name, jobId, chatId }]) : undefined,
  ]);
};
