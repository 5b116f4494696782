import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { DEFAULT_JOB_OPTIONS, type LivechatEventJob, QUEUE_NAMES } from './catalog.js';

export type EventProducer = {
  /** Stores one webhook (once per dedupe key); resolves with the job id once Redis has it. */
  enqueue: (job: LivechatEventJob) => Promise<string>;
  close: () => Promise<void>;
};

export type CreateEventProducerOptions = {
  /** A producer connection (`createProducerConnection`); the caller owns and closes it. */
  connection: Redis;
  prefix: string;
  onError: (err: Error) => void;
};

/** The writer side of the `livechat-events` queue, as used by the webhook receiver. */
export const createEventProducer = ({
  connection,
  prefix,
  onError,
}: CreateEventProducerOptions): EventProducer => {
  const queue = new Queue<LivechatEventJob, unknown, string>(QUEUE_NAMES.livechatEvents, {
    connection,
    prefix,
    defaultJobOptions: DEFAULT_JOB_OPTIONS,
  });
  queue.on('error', onError);
  return {
    enqueue: async (job) => {
      // The dedupe key is the job id: a duplicate delivery while the first job is still in
      // Redis is absorbed by BullMQ's add script (same id → no new job) in the same round trip.
      const added = await queue.add(job.envelope.action, job, { jobId: job.dedupeKey });
      return added.id ?? job.dedupeKey;
    },
    close: () => queue.close(),
  };
};
