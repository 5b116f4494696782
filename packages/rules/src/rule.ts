import type { WebhookAction } from '@nudge/livechat';
import type { z } from 'zod';
import type { CustomIdKind } from './shared/custom-id.js';
import type { Decision } from './shared/decision.js';
import type { ChatSnapshot } from './shared/snapshot.js';
import type { RoutedWebhook } from './shared/webhook.js';

// The contract of a rule: one folder (see idle-reply/) exports one `defineRule(...)`, and the
// registry (registry.ts) lists it. Everything here is pure: a rule says what it wants done
// (intents, job requests, decisions); the worker does it (Redis, BullMQ, LiveChat) through
// `RuleJobContext`.

/** What a rule job returns: shown in the dashboard as its return value. */
export type JobOutcome =
  | { outcome: 'sent'; botId: string; eventIds: string[] }
  | { outcome: 'skipped'; reason: string }
  | { outcome: 'rescheduled'; reason: string; delayMs: number }
  | {
      outcome: 'routed';
      intents: string[];
      /** Rule jobs the route step ran itself (the others went to their rules' queues). */
      acted?: InlineOutcome[];
    };

/** A rule job run by the route step: the job its queue would have had, and what it did. */
export type InlineOutcome = {
  queue: string;
  jobId: string;
  result: Exclude<JobOutcome, { outcome: 'routed' }>;
};

/** The kind and the parts of an id; the worker hashes them (`hashedId`). */
export type IdParts = readonly [kind: string, ...parts: string[]];

/** A job for the rule's own queue, added (or cancelled) by the worker. */
export type JobRequest =
  | {
      op: 'add';
      /** One of the rule's job names. */
      name: string;
      data: Record<string, unknown>;
      /** The job's id: the same request twice is one job (a duplicate webhook is a no-op). */
      id: IdParts;
      delayMs?: number;
      /**
       * A timer: one pending job per `timer` id; a newer request replaces the pending one and
       * a job already running keeps the newest as its successor (BullMQ deduplication with
       * `replace` + `keepLastIfActive`).
       */
      timer?: IdParts;
    }
  /**
   * Drops the timer's pending job; one already running re-checks the chat itself. With
   * `startedBefore` (ms), a pending job whose `data.startedAt` is not older stays: webhooks
   * are routed concurrently, and an agent's answer routed late must not cancel the timer of
   * the customer's next message.
   */
  | { op: 'cancel-timer'; timer: IdParts; startedBefore?: number };

/** A chat and thread to act in. */
export type ChatRef = { chatId: string; threadId: string };

/** What a rule's job may do; the worker implements it. */
export type RuleJobContext<Settings> = {
  organizationId: string;
  botIds: ReadonlySet<string>;
  /** This rule's settings for the organization. */
  settings: Settings;
  now: () => number;
  /**
   * Under the chat's lock: reads the chat (get_chat), decides on it, and sends what the
   * decision says as the bot — at most once per custom id, and only while the bot accepts
   * chats.
   */
  actOnce: (chat: ChatRef, decide: (chat: ChatSnapshot) => Decision) => Promise<JobOutcome>;
  /** Adds (or cancels) a job of this rule's queue. */
  request: (request: JobRequest) => Promise<void>;
};

/** One job name of a rule's queue: the schema of its data (parsed on dequeue) and its run. */
export type RuleJob<Settings, Data> = {
  data: z.ZodType<Data>;
  // Method syntax: a rule's jobs take different data, and a registry holds them all.
  run(data: Data, ctx: RuleJobContext<Settings>): Promise<JobOutcome>;
};

export type Rule<
  Key extends string,
  Settings extends z.ZodType,
  Override extends z.ZodType,
  Intent extends { kind: string },
  Kind extends CustomIdKind = CustomIdKind,
> = {
  /** Its key in the rules file (`defaults.<key>`, `organizations.<id>.<key>`). */
  key: Key;
  /** Its BullMQ queue. DATA IN REDIS: renaming it strands every job stored under the old name. */
  queue: string;
  /** Full settings: every field defaulted, so `{}` parses. */
  settings: Settings;
  /** Per-organization override: every field optional, no defaults; `null` removes a default. */
  override: Override;
  /** The organization's settings: `defaults` with `override` applied (validated again after). */
  merge(defaults: z.output<Settings>, override: z.output<Override> | undefined): z.input<Settings>;
  /** The webhooks its route reads: `nudge setup` registers them while the rule is enabled. */
  webhooks: readonly WebhookAction[];
  /** The kinds of message it sends (their custom ids). */
  customIds: readonly Kind[];
  /** What to do about one webhook. Pure; a disabled rule returns nothing. */
  route(webhook: RoutedWebhook, settings: z.output<Settings>): Intent[];
  /** The job an intent becomes. */
  requestFor(intent: Intent, organizationId: string): JobRequest;
  /** Its queue's job names. */
  jobs: Readonly<Record<string, RuleJob<z.output<Settings>, unknown>>>;
};

// biome-ignore lint/suspicious/noExplicitAny: a registry holds rules of every settings type.
export type AnyRule = Rule<string, any, any, { kind: string }, CustomIdKind>;

/** Declares a rule; the types of its settings and intents flow into the registry. */
export const defineRule = <
  const Key extends string,
  Settings extends z.ZodType,
  Override extends z.ZodType,
  Intent extends { kind: string },
  const Kind extends CustomIdKind,
>(
  rule: Rule<Key, Settings, Override, Intent, Kind>,
): Rule<Key, Settings, Override, Intent, Kind> => rule;

/** A job of a rule, its data type inferred from the schema. */
export const defineJob = <Settings, Data>(
  data: z.ZodType<Data>,
  run: (data: Data, ctx: RuleJobContext<Settings>) => Promise<JobOutcome>,
): RuleJob<Settings, Data> => ({ data, run });
