import { hashedId, type RedisClient, type RedisLayout } from '@nudge/runtime';
import { Queue } from 'bullmq';
import {
  DEFAULT_JOB_OPTIONS,
  EVENTS_QUEUE,
  type LivechatEventJob,
  RECONCILE_JOB,
  type ReconcileJob,
} from './catalog.js';
import { type ChatJobEntry, createChatJobIndex } from './chat-index.js';

/** How long webhooks' chat index entries wait to be written together, at most. */
const INDEX_FLUSH_MS = 50;
/** Entries written at once whatever the wait. */
const INDEX_BATCH_MAX = 500;

export type EventProducer = {
  /** Stores one webhook (once per dedupe key); resolves with the job id once Redis has it. */
  enqueue: (job: LivechatEventJob) => Promise<string>;
  /**
   * Asks the workers to look for what webhooks lost since `sinceMs`; once per `key` (the same
   * outage seen twice asks once).
   */
  requestReconcile: (job: ReconcileJob, key: string) => Promise<void>;
  close: () => Promise<void>;
};

export type CreateEventProducerOptions = {
  /** A producer connection (`createProducerConnection`); the caller owns and closes it. */
  connection: RedisClient;
  /** Where the queue's and the chat index's keys live. */
  layout: RedisLayout;
  onError: (err: Error) => void;
};

type Pending = {
  job: LivechatEventJob;
  resolve: (id: string) => void;
  reject: (err: unknown) => void;
};

/**
 * The writer side of the `livechat-events` queue, as used by the webhook receiver.
 *
 * Webhooks that arrive in the same event-loop turn are written as one pipeline (`addBulk`):
 * one socket write and one read for all of them instead of one each, which roughly halves
 * Redis's work per webhook under load. Each caller still resolves only once its own job is
 * stored. The dedupe key is the job id, so a duplicate delivery (even within one batch) is
 * absorbed by BullMQ's add script: same id, no new job.
 */
export const createEventProducer = ({
  connection,
  layout,
  onError,
}: CreateEventProducerOptions): EventProducer => {
  const queue = new Queue<LivechatEventJob | ReconcileJob, unknown, string>(EVENTS_QUEUE, {
    connection,
    prefix: layout.queuePrefix(EVENTS_QUEUE),
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
  });
  queue.on('error', onError);
  const chatJobs = createChatJobIndex(connection, layout.keyPrefix);

  // The chat index is written apart from the jobs, not before their answer (a missing entry
  // only hides a job from "find by chat"; a missing job loses a webhook), and in batches: one
  // script call per INDEX_FLUSH_MS for every webhook meanwhile, rather than one each.
  let indexing: ChatJobEntry[] = [];
  let indexTimer: NodeJS.Timeout | undefined;
  let indexed: Promise<void> = Promise.resolve();
  const flushIndex = () => {
    clearTimeout(indexTimer);
    indexTimer = undefined;
    const entries = indexing;
    indexing = [];
    // One after another, so `close` waits for every flush by waiting for the last.
    indexed = indexed.then(() => chatJobs.add(entries)).catch(onError);
    return indexed;
  };
  const index = (entries: ChatJobEntry[]) => {
    indexing.push(...entries);
    if (indexing.length >= INDEX_BATCH_MAX) {
      void flushIndex();
    } else {
      indexTimer ??= setTimeout(flushIndex, INDEX_FLUSH_MS);
    }
  };

  let batch: Pending[] = [];
  const flush = () => {
    const sending = batch;
    batch = [];
    index(
      sending.flatMap(({ job: { chatId, dedupeKey } }) =>
        chatId === undefined ? [] : [{ queue: EVENTS_QUEUE, jobId: dedupeKey, chatId }],
      ),
    );
    const jobs = sending.map(({ job }) => ({
      name: job.envelope.action,
      data: job,
      opts: { jobId: job.dedupeKey },
    }));
    // One webhook alone in its turn (most, below a few hundred a second) skips the pipeline
    // addBulk builds: ioredis copies every script defined on the connection into each one.
    const [single] = jobs;
    (jobs.length === 1 && single
      ? queue.add(single.name, single.data, single.opts).then((job) => [job])
      : queue.addBulk(jobs)
    ).then(
      (stored) => {
        sending.forEach((pending, i) => {
          pending.resolve(stored[i]?.id ?? pending.job.dedupeKey);
        });
      },
      (err: unknown) => {
        for (const pending of sending) {
          pending.reject(err);
        }
      },
    );
  };

  return {
    enqueue: (job) =>
      new Promise<string>((resolve, reject) => {
        batch.push({ job, resolve, reject });
        if (batch.length === 1) {
          // After this turn's I/O callbacks: every webhook parsed in this turn joins the batch.
          setImmediate(flush);
        }
      }),
    requestReconcile: async (job, key) => {
      await queue.add(RECONCILE_JOB, job, {
        jobId: hashedId('reconcile', key),
        // One try: a failed sweep is visible in the dashboard and replayable, and a sweep
        // retried while LiveChat rate-limits would only add to it.
        attempts: 1,
      });
    },
    close: async () => {
      await flushIndex();
      await queue.close();
    },
  };
};
