import type { ChatJobIndex } from '@nudge/queues';
import type { Job, JobState, Queue } from 'bullmq';

/** One job of a chat, as the chat page shows it. */
export type ChatJob = {
  queue: string;
  id: string;
  name: string;
  state: JobState | 'unknown';
  /** When it was added, started (last attempt) and finished (ms). */
  addedAt: number;
  processedAt?: number;
  finishedAt?: number;
  /** When a delayed job (a timer, a backoff) is due. */
  dueAt?: number;
  attempts: number;
  /** What it did (a rule job's outcome, the route step's intents) or why it failed. */
  why: string;
};

type Outcome = {
  outcome?: unknown;
  reason?: unknown;
  eventIds?: unknown;
  intents?: unknown;
  acted?: { queue?: unknown; result?: unknown }[];
  delayMs?: unknown;
};

/** A job's return value (a JobOutcome) in one line: `sent: event ids …`, `skipped: reason`. */
export const describeOutcome = (value: unknown): string => {
  if (value === null || typeof value !== 'object') {
    return value === undefined || value === null ? '' : String(value);
  }
  const { outcome, reason, eventIds, intents, acted } = value as Outcome;
  if (outcome === 'sent' && Array.isArray(eventIds)) {
    return `sent: event ${eventIds.join(', ')}`;
  }
  if (outcome === 'routed' && Array.isArray(intents)) {
    const routed = intents.length === 0 ? 'routed: nothing to do' : `routed: ${intents.join(', ')}`;
    // Rule jobs the route step ran itself: what each did, under its queue's name.
    const inline = Array.isArray(acted)
      ? acted.map((done) => `; ${String(done?.queue)} ${describeOutcome(done?.result)}`).join('')
      : '';
    return `${routed}${inline}`;
  }
  if (typeof outcome === 'string' && typeof reason === 'string') {
    return `${outcome}: ${reason}`;
  }
  return JSON.stringify(value);
};

const describeJob = async (queue: string, job: Job): Promise<ChatJob> => {
  const state = await job.getState();
  return {
    queue,
    id: job.id ?? '',
    name: job.name,
    state,
    addedAt: job.timestamp,
    processedAt: job.processedOn,
    finishedAt: job.finishedOn,
    dueAt: state === 'delayed' ? job.timestamp + job.delay : undefined,
    attempts: job.attemptsMade,
    why: state === 'failed' ? (job.failedReason ?? '') : describeOutcome(job.returnvalue),
  };
};

/**
 * Every job of a chat still in Redis, newest first, read through the chat index; entries
 * whose jobs retention has removed are dropped from the index on the way.
 */
export const findChatJobs = async (
  chatId: string,
  { index, queues }: { index: ChatJobIndex; queues: ReadonlyMap<string, Queue> },
): Promise<ChatJob[]> => {
  const indexed = await index.read(chatId);
  const found = await Promise.all(
    indexed.map(async (entry) => {
      const queue = queues.get(entry.queue);
      const job = queue ? await queue.getJob(entry.jobId) : undefined;
      return { entry, job };
    }),
  );
  await index.forget(
    chatId,
    found.filter(({ job }) => !job).map(({ entry }) => entry),
  );
  return Promise.all(
    found.flatMap(({ entry, job }) => (job ? [describeJob(entry.queue, job)] : [])),
  );
};
