import type { NudgeRules, OrganizationRules } from '@nudge/config';
import type { ChatJobIndex, LivechatEventJob } from '@nudge/queues';
import type { AnyRule, InlineOutcome, JobOutcome, JobRequest, RuleSet } from '@nudge/rules';
import type { RedisClient, RedisKeys } from '@nudge/runtime';
import type { Logger } from '@nudge/telemetry';
import type { Queue } from 'bullmq';
import type { BotStatusGate } from './bot-status.js';
import type { LivechatClients } from './livechat-clients.js';
import type { SkippedEventReporter } from './skipped-events.js';

/** The route step acting on rule jobs due at once itself (`inline.ts`). */
export type InlineActing = {
  /** Runs `request` now: its outcome, or undefined when it must go to its queue instead. */
  tryRun: (
    ctx: WorkerContext,
    rule: AnyRule,
    organization: OrganizationRules,
    request: JobRequest,
  ) => Promise<InlineOutcome | undefined>;
};

/** What every processor may use; built once by `startWorker`. */
export type WorkerContext = {
  /** The worker's own Redis connection, for Nudge's keys (markers, claims, caches). */
  redis: RedisClient;
  /** The prefix of Nudge's keys (`RedisLayout.keyPrefix`). */
  prefix: string;
  keys: RedisKeys;
  /** Which jobs are about which chat (the dashboard's "find by chat"). */
  chatJobs: ChatJobIndex;
  rules: NudgeRules;
  /** The rules this worker runs (the registry's, or a test's). */
  ruleSet: RuleSet<readonly AnyRule[]>;
  /** Each rule's queue (by rule key), for the route step and the rules' own requests. */
  ruleQueues: ReadonlyMap<string, Queue>;
  livechat: LivechatClients;
  botStatus: BotStatusGate;
  /** The route step acting on immediate rule jobs itself. */
  inline: InlineActing;
  /** Logs and counts a thread event left out because it doesn't parse. */
  reportSkippedEvent: SkippedEventReporter;
  /** Upper bound of one LiveChat call; sizes the chat lock. */
  livechatTimeoutMs: number;
  /** Stores webhooks as ingest does (reconciling after an outage). */
  storeWebhooks: (jobs: LivechatEventJob[]) => Promise<void>;
  /** LiveChat calls a reconcile sweep may make per second. */
  reconcileCallsPerSecond: number;
  log: Logger;
  now: () => number;
};

export const skipped = (reason: string): JobOutcome => ({ outcome: 'skipped', reason });

/** What a job of the worker did: a rule's or the route step's outcome, or a sweep's. */
export type WorkerOutcome =
  | JobOutcome
  | { outcome: 'reconciled'; organizations: number; chats: number; webhooks: number };

/** The queue of a rule. */
export const queueOf = (ctx: WorkerContext, rule: AnyRule): Queue => {
  const queue = ctx.ruleQueues.get(rule.key);
  if (queue === undefined) {
    throw new Error(`no queue for rule ${rule.key}`);
  }
  return queue;
};
