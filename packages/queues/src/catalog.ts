import { type AnyRule, RULES, type RuleSettings } from '@nudge/rules';
import type { DefaultJobOptions } from 'bullmq';
import { z } from 'zod';

// ─────────────────────────────────────────────────────────────────────────────────────────
// QUEUE NAMES ARE PART OF THE DATA IN REDIS. Renaming one strands every job stored under the
// old name: do not change these values without a migration plan. Each rule names its own
// queue (its `queue`, in its folder of @nudge/rules); the webhooks' queue is Nudge's own.
// ─────────────────────────────────────────────────────────────────────────────────────────

/** Where ingest stores every webhook; the worker routes each to the rules' queues. */
export const EVENTS_QUEUE = 'livechat-events';

type RuleQueues<R extends readonly AnyRule[]> = { [K in R[number] as K['key']]: string };

/** The queues of a set of rules and the events queue: by rule key, plus `livechatEvents`. */
export const queueNamesOf = <R extends readonly AnyRule[]>(
  rules: R,
): RuleQueues<R> & { livechatEvents: string } =>
  ({
    livechatEvents: EVENTS_QUEUE,
    ...Object.fromEntries(rules.map((rule) => [rule.key, rule.queue])),
  }) as RuleQueues<R> & { livechatEvents: string };

/**
 * A comma-separated list of queue names (`--queues`, `--queue`), each one of `known`; throws
 * naming the unknown ones and the known ones.
 */
export const parseQueueNames = (value: string, known: readonly string[]): string[] => {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !known.includes(name));
  if (names.length === 0 || unknown.length > 0) {
    throw new Error(`unknown queue(s) ${unknown.join(', ')}; known: ${known.join(', ')}`);
  }
  return names;
};

/** The registry's queues. */
export const QUEUE_NAMES: Readonly<Record<'livechatEvents' | keyof RuleSettings, string>> =
  queueNamesOf(RULES);
export type QueueName = string;

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
  // The LiveChat chat it is about, when it is about one (indexed for the dashboard's
  // "find by chat"). Absent on jobs stored before it was added: read the envelope then.
  chatId: z.string().min(1).optional(),
});
export type LivechatEventJob = z.output<typeof LivechatEventJob>;

/**
 * A job of the events queue that is not a webhook: look for what webhooks lost in an outage
 * (ingest or Redis down longer than LiveChat retries) and store it again. Its name can't be a
 * LiveChat action (they have no dashes).
 */
export const RECONCILE_JOB = 'nudge-reconcile';
export const ReconcileJob = z.object({
  // Events created from this time on are looked for (ms since epoch).
  sinceMs: z.number().int().nonnegative(),
  // Why: the outage detected, or who asked.
  reason: z.string(),
});
export type ReconcileJob = z.output<typeof ReconcileJob>;
