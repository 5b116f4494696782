import type { NudgeRules } from '@nudge/config';
import type { Logger } from '@nudge/telemetry';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { BotStatusGate } from './bot-status.js';
import type { LivechatClients } from './livechat-clients.js';
import type { SkippedEventReporter } from './skipped-events.js';

/** What every processor may use; built once in main.ts. */
export type WorkerContext = {
  /** The worker's own Redis connection, for Nudge's keys (markers, claims, caches). */
  redis: Redis;
  prefix: string;
  rules: NudgeRules;
  /** Producers of the rule queues, for the route step. */
  queues: { idleReply: Queue; cannedResponses: Queue; ratingReactions: Queue };
  livechat: LivechatClients;
  botStatus: BotStatusGate;
  /** Logs and counts a thread event left out because it doesn't parse. */
  reportSkippedEvent: SkippedEventReporter;
  /** Upper bound of one LiveChat call; sizes the send lock. */
  livechatTimeoutMs: number;
  log: Logger;
  now: () => number;
};

/** What a job returns: shown in the dashboard as its return value. */
export type JobOutcome =
  | { outcome: 'sent'; botId: string; eventIds: string[] }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'rescheduled'; reason: string; delayMs: number }
  | { outcome: 'routed'; intents: string[] };

export const skipped = (reason: string): JobOutcome => ({ outcome: 'skipped', reason });
