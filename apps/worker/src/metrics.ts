import {
  type LivechatCallObservation,
  LivechatRateLimitedError,
  LivechatRetryableError,
  LivechatUnrecoverableError,
} from '@nudge/livechat';
import { Counter, Histogram, type Registry } from '@nudge/telemetry';
import { UnrecoverableError } from 'bullmq';
import { SendInProgressError } from './act-once.js';
import type { WorkerOutcome } from './context.js';

/** What the worker counts, served on /metrics. */
export type WorkerMetrics = {
  /** A job attempt returned this outcome after `ms`. */
  finished: (queue: string, outcome: WorkerOutcome, ms: number) => void;
  /** A job attempt threw `err` after `ms` (it retries, pauses the queue, or fails for good). */
  failed: (queue: string, err: unknown, ms: number) => void;
  /** A delayed job (a timer) started `ms` after it was due. */
  timerFired: (queue: string, latenessMs: number) => void;
  /** One LiveChat HTTP call. */
  livechatCall: (observation: LivechatCallObservation) => void;
  /** A rule job the route step could not act on (`err`) went to its rule's queue. */
  handedOff: (queue: string, err: unknown) => void;
};

const SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** A label from free text: lower case, runs of anything else as `_` (skip reasons are few). */
const labelOf = (text: string): string =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');

/** Why a job was skipped, as a bounded label: the rules' reasons, the gate's and the route's. */
export const skipClass = (reason: string): string => {
  if (/is not accepting chats/.test(reason)) {
    return 'bot_not_accepting';
  }
  if (/is not in the rules file/.test(reason)) {
    return 'organization_not_configured';
  }
  if (/^action .* is not handled$/.test(reason)) {
    return 'action_not_handled';
  }
  if (/^duplicate delivery/.test(reason)) {
    return 'duplicate_delivery';
  }
  return labelOf(reason);
};

/** Why an attempt failed, as a bounded label. */
export const errorClass = (err: unknown): string => {
  if (err instanceof LivechatRateLimitedError) {
    return 'livechat_rate_limited';
  }
  if (err instanceof LivechatUnrecoverableError) {
    return `livechat_${labelOf(err.type)}`;
  }
  if (err instanceof LivechatRetryableError) {
    return `livechat_retryable_${labelOf(err.type)}`;
  }
  if (err instanceof SendInProgressError) {
    return 'chat_busy';
  }
  if (err instanceof UnrecoverableError) {
    return 'invalid_job';
  }
  return 'error';
};

const classOf = (outcome: WorkerOutcome): string =>
  outcome.outcome === 'skipped' || outcome.outcome === 'rescheduled'
    ? skipClass(outcome.reason)
    : '';

export const createWorkerMetrics = (registry: Registry): WorkerMetrics => {
  const jobs = new Counter({
    name: 'nudge_jobs_total',
    help: 'Job attempts by queue and outcome (sent, skipped, rescheduled, routed, failed) and class (the skip reason or error class)',
    labelNames: ['queue', 'outcome', 'class'],
    registers: [registry],
  });
  const durations = new Histogram({
    name: 'nudge_job_duration_seconds',
    help: 'How long a job attempt ran, by queue and outcome',
    labelNames: ['queue', 'outcome'],
    buckets: SECONDS,
    registers: [registry],
  });
  const lateness = new Histogram({
    name: 'nudge_timer_lateness_seconds',
    help: 'How late a delayed job (an idle timer) started: start time minus due time',
    labelNames: ['queue'],
    buckets: SECONDS,
    registers: [registry],
  });
  const calls = new Histogram({
    name: 'nudge_livechat_call_duration_seconds',
    help: 'LiveChat API calls by action',
    labelNames: ['action'],
    buckets: SECONDS,
    registers: [registry],
  });
  const callErrors = new Counter({
    name: 'nudge_livechat_call_errors_total',
    help: 'LiveChat API calls that failed, by action and LiveChat error type',
    labelNames: ['action', 'type'],
    registers: [registry],
  });
  const handoffs = new Counter({
    name: 'nudge_inline_handoffs_total',
    help: 'Rule jobs the route step tried to act on itself and handed to their queue instead, by queue and error class',
    labelNames: ['queue', 'class'],
    registers: [registry],
  });
  return {
    handedOff: (queue, err) => handoffs.inc({ queue, class: errorClass(err) }),
    finished: (queue, outcome, ms) => {
      jobs.inc({ queue, outcome: outcome.outcome, class: classOf(outcome) });
      durations.observe({ queue, outcome: outcome.outcome }, ms / 1000);
    },
    failed: (queue, err, ms) => {
      jobs.inc({ queue, outcome: 'failed', class: errorClass(err) });
      durations.observe({ queue, outcome: 'failed' }, ms / 1000);
    },
    timerFired: (queue, latenessMs) => lateness.observe({ queue }, Math.max(0, latenessMs) / 1000),
    livechatCall: ({ action, durationMs, errorType }) => {
      calls.observe({ action }, durationMs / 1000);
      if (errorType !== undefined) {
        callErrors.inc({ action, type: errorType });
      }
    },
  };
};
