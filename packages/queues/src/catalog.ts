import type { DefaultJobOptions } from 'bullmq';
import { z } from 'zod';

// ─────────────────────────────────────────────────────────────────────────────────────────
// QUEUE NAMES ARE PART OF THE DATA IN REDIS. Renaming one strands every job stored under the
// old name: do not change these values without a migration plan.
// ─────────────────────────────────────────────────────────────────────────────────────────
export const QUEUE_NAMES = {
  livechatEvents: 'livechat-events',
  idleReply: 'idle-reply',
  cannedResponses: 'canned-responses',
  ratingReactions: 'rating-reactions',
} as const;
export type QueueName = (typeof QUEUE_NAMES)[keyof typeof QUEUE_NAMES];

/**
 * How long finished jobs stay in Redis. Bounded by age *and* count so a burst can't fill
 * Redis (which runs with noeviction: full means every write fails). Failed jobs stay longer:
 * they are what an operator replays. Applied by the workers (BullMQ's worker-level
 * `removeOnComplete`/`removeOnFail`), so jobs don't each carry it.
 */
export const QUEUE_RETENTION = {
  completed: { age: 60 * 60, count: 5_000 },
  failed: { age: 7 * 24 * 60 * 60, count: 50_000 },
} as const;

/** Retries: exponential backoff with jitter, so retries after an outage don't stampede. */
export const DEFAULT_JOB_OPTIONS = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 1_000, jitter: 0.5 },
} as const satisfies DefaultJobOptions;

// A stored LiveChat webhook. The job name is the LiveChat action, verbatim.
export const LivechatEventJob = z.object({
  // organization_id, or the legacy license_id as a string.
  organizationId: z.string().min(1),
  // Everything LiveChat sent except `secret_key`; the payload is validated per action by the
  // worker, not at the door, so schema drift fails visibly instead of being dropped.
  envelope: z.looseObject({
    action: z.string(),
    payload: z.record(z.string(), z.unknown()),
  }),
  // Derived from the event (see dedupe.ts); also the job id.
  dedupeKey: z.string().min(1),
  // When ingest stored it (ms since epoch).
  receivedAt: z.number().int(),
});
export type LivechatEventJob = z.output<typeof LivechatEventJob>;

const ChatRef = {
  organizationId: z.string().min(1),
  chatId: z.string().min(1),
  threadId: z.string().min(1),
};

// idle-reply: fires `afterSeconds` after the last unanswered customer message.
export const IdleReplyJob = z.object({
  ...ChatRef,
  // The customer message that (re)started the timer.
  eventId: z.string().min(1),
});
export type IdleReplyJob = z.output<typeof IdleReplyJob>;

// canned-responses: a tag (or keyword) whose suggestions go to the agents as a whisper.
export const TagSuggestionsJob = z.object({ ...ChatRef, tag: z.string().min(1) });
export type TagSuggestionsJob = z.output<typeof TagSuggestionsJob>;

export const KeywordSuggestionsJob = z.object({
  ...ChatRef,
  eventId: z.string().min(1),
  keyword: z.string().min(1),
});
export type KeywordSuggestionsJob = z.output<typeof KeywordSuggestionsJob>;

// rating-reactions: one whisper per (chat, thread, score).
export const RatingReactionJob = z.object({
  ...ChatRef,
  score: z.union([z.literal(0), z.literal(1)]),
  comment: z.string().optional(),
});
export type RatingReactionJob = z.output<typeof RatingReactionJob>;

/** Each queue's job names and the schema of their data (parsed again on dequeue). */
export const JOB_CATALOG = {
  [QUEUE_NAMES.idleReply]: { nudge: IdleReplyJob },
  [QUEUE_NAMES.cannedResponses]: {
    'tag-suggestions': TagSuggestionsJob,
    'keyword-suggestions': KeywordSuggestionsJob,
  },
  [QUEUE_NAMES.ratingReactions]: { react: RatingReactionJob },
} as const satisfies Record<Exclude<QueueName, 'livechat-events'>, Record<string, z.ZodType>>;
