import { chatIdOfJob } from '@nudge/cli';
import { isWebhookAction, organizationOf, type WebhookEnvelope } from '@nudge/livechat';
import { deriveDedupeKey, isDeduplicated, QUEUE_NAMES, QUEUE_RETENTION } from '@nudge/queues';
import { type NodeProcess, waitFor } from '@nudge/testing';
import { waitForDrained } from './chaos-helpers.js';
import type { ChaosStack } from './chaos-stack.js';
import { type Census, takeCensus } from './redis-census.js';

// The invariants every chaos row ends with (README, "Chaos suite"):
// 1. every webhook answered 200 was stored, and leads to exactly one bot message per (event,
//    rule), or to a failed job of that rule in that chat, with a readable reason;
// 2. nothing of a webhook that was never answered 200 was stored (so it can't be acted on);
// 3. no job stayed active longer than lockDuration + stalledInterval + what a job may take
//    (route jobs included: they act on rule jobs due at once themselves, WORKER_ACT_INLINE);
// 4. after the drain, Redis holds the queues' structure, retained jobs and expiring keys, and
//    nothing else; its memory is what those keys take, give or take a little;
// 6. every process is alive unless the row stopped it, and ready (/readyz) again.

/** A bot message a row expects: its rule's queue and its chat. */
export type ExpectedAction = { queue: string; chatId: string };

export type Expectations = {
  /**
   * Bot messages (by custom_id) the row expects: each exactly once, or none and a failed job
   * of its rule's queue about its chat (with its reason). When given, no other message may
   * exist, and no job may fail but of these rules in these chats.
   */
  actions?: ReadonlyMap<string, ExpectedAction>;
  /**
   * A webhook answered 503 may still have been stored: a write that timed out (Redis paused
   * or blackholed) lands once the network heals, and ingest cannot take it back: the command
   * had already been sent when the add timed out (seen with BullMQ 6.7.0 and ioredis 6.0.0).
   * Its action then happens once.
   */
  lateWritesPossible?: boolean;
  /** Webhooks LiveChat created before this journal seq went with Redis's data (R3). */
  dataLostBeforeSeq?: number;
};

export type InvariantReport = {
  webhooks: number;
  /** Webhooks answered 200 (some delivery), and those never answered 200. */
  acknowledged: number;
  unacknowledged: number;
  botMessages: number;
  /** Webhooks answered 200 whose event is nowhere in Redis. */
  lost: string[];
  /** custom_ids sent (or stored in a chat) more than once. */
  duplicated: string[];
  failedJobs: { queue: string; id: string; chatId: string | undefined; reason: string }[];
  census: Census;
  /** Every broken invariant, one line each: a passing row has none. */
  violations: string[];
};

const SETTLE_MS = 60_000;
/** Bytes Redis may use beyond what its keys take: client buffers, scripts, AOF buffers. */
const MEMORY_SLACK = 16 * 1024 * 1024;

/** Waits until LiveChat's deliveries, retries included, and every queue settled. */
const settle = async (chaos: ChaosStack) => {
  const { sandbox } = chaos;
  // A row's faults end with the row: held and hanging calls are answered. And a supervisor
  // restarts workers: if the row stopped them all, one runs again.
  sandbox.faults.clear();
  if (
    !chaos.workers.some((proc) => proc.child.exitCode === null && proc.child.signalCode === null)
  ) {
    await chaos.startWorkers(1);
  }
  // The bot's own messages make LiveChat send webhooks too: settled is when a round of
  // deliveries and drained queues added nothing to the journal.
  const deadline = Date.now() + SETTLE_MS;
  for (;;) {
    const entries = sandbox.journal.entries.length;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      sandbox.idle(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`webhook deliveries still pending after ${SETTLE_MS} ms`)),
          Math.max(0, deadline - Date.now()),
        );
      }),
    ]).finally(() => clearTimeout(timer));
    for (const name of Object.values(QUEUE_NAMES)) {
      await waitForDrained(chaos.queue(name), Math.max(1, deadline - Date.now()));
    }
    if (sandbox.journal.entries.length === entries) {
      return;
    }
  }
};

/** The custom_ids the bot sent more than once, by the journal and by the chats themselves. */
const duplicatesOf = (chaos: ChaosStack): { sent: Map<string, number>; duplicated: string[] } => {
  const sent = new Map<string, number>();
  for (const message of chaos.botEvents()) {
    sent.set(message.customId, (sent.get(message.customId) ?? 0) + 1);
  }
  const duplicated = new Set([...sent].filter(([, count]) => count > 1).map(([id]) => id));
  const chats = new Set(chaos.botEvents().map((message) => message.chatId));
  for (const chatId of chats) {
    const chat = chaos.sandbox.scenario.getChat({ chatId }) as {
      threads: { events: { custom_id?: string }[] }[];
    };
    const stored = new Map<string, number>();
    for (const event of chat.threads.flatMap((thread) => thread.events)) {
      if (event.custom_id) {
        stored.set(event.custom_id, (stored.get(event.custom_id) ?? 0) + 1);
      }
    }
    for (const [id, count] of stored) {
      if (count > 1) {
        duplicated.add(id);
      }
    }
  }
  return { sent, duplicated: [...duplicated] };
};

/**
 * Invariants 1 and 2 on the stored side: each event answered 200 is in Redis, each event
 * never answered 200 is not. An event is what its dedupe key names: two webhooks can carry one
 * event (the bot added to a chat twice, first to whisper, then to talk to the customer).
 */
const storedEvents = async (chaos: ChaosStack, expectations: Expectations) => {
  const { journal } = chaos.sandbox;
  const attempts = new Map<number, string[]>();
  const answered = new Set<number>();
  for (const delivery of journal.deliveries()) {
    attempts.set(delivery.deliveryId, [
      ...(attempts.get(delivery.deliveryId) ?? []),
      String(delivery.status ?? delivery.error),
    ]);
    if (delivery.ok) {
      answered.add(delivery.deliveryId);
    }
  }
  const webhooks = journal.webhooks().filter((webhook) => isWebhookAction(webhook.action));
  const events = new Map<string, { seq: number; ok: boolean; attempts: string[] }>();
  for (const webhook of webhooks) {
    const envelope = webhook.body as WebhookEnvelope;
    if (!isDeduplicated(webhook.action)) {
      continue;
    }
    const key = deriveDedupeKey({
      organizationId: organizationOf(envelope),
      action: webhook.action,
      payload: envelope.payload,
    });
    const event = events.get(key) ?? { seq: webhook.seq, ok: false, attempts: [] };
    event.ok ||= answered.has(webhook.deliveryId);
    event.attempts.push(...(attempts.get(webhook.deliveryId) ?? []));
    events.set(key, event);
  }
  const exists = chaos.redis.pipeline();
  for (const key of events.keys()) {
    exists.exists(
      `${chaos.layout.queuePrefix(QUEUE_NAMES.livechatEvents)}:${QUEUE_NAMES.livechatEvents}:${key}`,
      chaos.keys.dedupe(key),
    );
  }
  const found = ((await exists.exec()) ?? []).map(([, count]) => Number(count) > 0);
  const lost: string[] = [];
  const stray: string[] = [];
  [...events].forEach(([key, event], i) => {
    const said = `${key} (answers: ${event.attempts.join(', ')})`;
    if (event.ok && !found[i] && event.seq >= (expectations.dataLostBeforeSeq ?? 0)) {
      lost.push(said);
    }
    if (!event.ok && found[i] && !expectations.lateWritesPossible) {
      stray.push(said);
    }
  });
  return {
    webhooks: webhooks.length,
    acknowledged: webhooks.filter((webhook) => answered.has(webhook.deliveryId)).length,
    lost,
    stray,
  };
};

const failedJobsOf = async (chaos: ChaosStack) => {
  const failed: InvariantReport['failedJobs'] = [];
  for (const queue of Object.values(QUEUE_NAMES)) {
    for (const job of await chaos.queue(queue).getFailed()) {
      if (job?.id) {
        failed.push({
          queue,
          id: job.id,
          chatId: chatIdOfJob(job),
          reason: job.failedReason ?? '',
        });
      }
    }
  }
  return failed;
};

/** Invariant 4: Redis back to its baseline, give or take what retention keeps. */
const boundsViolations = (baseline: Census, census: Census): string[] => {
  const violations: string[] = [];
  for (const [queue, states] of Object.entries(census.jobs)) {
    const pending = Object.entries(states).filter(
      ([state, count]) => !['completed', 'failed'].includes(state) && count > 0,
    );
    if (pending.length > 0) {
      violations.push(`queue ${queue} not drained: ${JSON.stringify(Object.fromEntries(pending))}`);
    }
    if ((states.completed ?? 0) > QUEUE_RETENTION.completed.count) {
      violations.push(`queue ${queue} keeps ${states.completed} completed jobs`);
    }
    // BullMQ trims the stream approximately (whole stream nodes of 100 entries).
    if ((census.eventsLength[queue] ?? 0) > 10_000 + 200) {
      violations.push(`queue ${queue}: ${census.eventsLength[queue]} events in its stream`);
    }
  }
  if (census.orphans.length > 0) {
    violations.push(
      `${census.orphans.length} key(s) with no TTL, no job and no queue: ${census.orphans.slice(0, 5).join(', ')}`,
    );
  }
  const unexplained =
    census.usedMemory - baseline.usedMemory - (census.keyBytes - baseline.keyBytes);
  if (unexplained > MEMORY_SLACK) {
    violations.push(
      `Redis uses ${unexplained} bytes more than its baseline plus what its keys take (${census.keys} keys, ${census.keyBytes} bytes)`,
    );
  }
  return violations;
};

/**
 * Why a running app's /readyz still fails after a while (Redis answers, its workers run), or
 * undefined once it answers 200: alive is not enough, a wedged worker is alive too.
 */
const notReady = async (proc: NodeProcess): Promise<string | undefined> => {
  const started = proc.lines.find(
    (line) => line.msg === 'listening' || line.msg === 'worker ready',
  );
  const port = started?.metricsPort ?? started?.port;
  if (port === undefined) {
    return undefined;
  }
  let last = '';
  try {
    await waitFor(
      async () => {
        const response = await fetch(`http://127.0.0.1:${String(port)}/readyz`);
        last = `${response.status} ${await response.text()}`;
        return response.ok;
      },
      { timeoutMs: 15_000, intervalMs: 200, what: 'readiness' },
    );
    return undefined;
  } catch {
    return last || 'no answer';
  }
};

/**
 * Lets everything settle (deliveries, retries, queues), then checks the invariants above.
 * Returns the report; `violations` lists what is broken, empty when the row passed.
 */
export const checkInvariants = async (
  chaos: ChaosStack,
  expectations: Expectations = {},
): Promise<InvariantReport> => {
  await settle(chaos);
  const violations: string[] = [];
  const stored = chaos.relayed
    ? { webhooks: 0, acknowledged: 0, lost: [], stray: [] }
    : await storedEvents(chaos, expectations);
  violations.push(...stored.lost.map((key) => `answered 200, not in Redis: ${key}`));
  violations.push(...stored.stray.map((key) => `never answered 200, stored anyway: ${key}`));

  const { sent, duplicated } = duplicatesOf(chaos);
  violations.push(...duplicated.map((id) => `bot message sent more than once: ${id}`));
  const failedJobs = await failedJobsOf(chaos);
  violations.push(
    ...failedJobs
      .filter((job) => job.reason.trim() === '')
      .map((job) => `failed without a reason: ${job.queue} ${job.id}`),
  );
  if (expectations.actions) {
    // Counted in LiveChat (custom_ids), not in jobs: a rule job run by its route step leaves no
    // job of its own. One that failed there was handed to its rule's queue (same id and data),
    // and fails, if it does, in that queue: "a failed job of that rule" holds either way. A
    // failed route job explains no missing message.
    const expected = expectations.actions;
    for (const [customId, { queue, chatId }] of expected) {
      const sends = sent.get(customId) ?? 0;
      const failed = failedJobs.filter((job) => job.queue === queue && job.chatId === chatId);
      if (sends === 0 && failed.length === 0) {
        violations.push(`no bot message ${customId} (${queue}, chat ${chatId}), nor a failed job`);
      }
    }
    for (const customId of sent.keys()) {
      if (!expected.has(customId)) {
        violations.push(`unexpected bot message ${customId}`);
      }
    }
    // A failed job belongs to a rule the row expected to act in its chat: the one whose
    // message is missing, or one the chat no longer needed (an idle timer a newer customer
    // message replaced, failed after its worker died twice under it).
    for (const job of failedJobs) {
      const explains = [...expected.values()].some(
        ({ queue, chatId }) => queue === job.queue && chatId === job.chatId,
      );
      if (!explains) {
        violations.push(`unexpected failed job ${job.queue} ${job.id}: ${job.reason}`);
      }
    }
  }

  violations.push(
    ...chaos.monitor
      .stuck()
      .map((job) => `job ${job.queue} ${job.jobId} active for ${job.activeMs} ms`),
  );
  const census = await takeCensus(chaos.oneRedis, chaos.prefix);
  violations.push(...boundsViolations(chaos.baseline, census));
  for (const { proc, mayExit } of chaos.processes()) {
    const running = proc.child.exitCode === null && proc.child.signalCode === null;
    if (!mayExit && !running) {
      violations.push(
        `process ${proc.child.pid} exited (${proc.child.exitCode ?? proc.child.signalCode}): ${proc.output().split('\n').slice(-3).join(' | ')}`,
      );
    }
    const unready = running ? await notReady(proc) : undefined;
    if (unready !== undefined) {
      violations.push(`process ${proc.child.pid} not ready: ${unready}`);
    }
  }
  return {
    webhooks: stored.webhooks,
    acknowledged: stored.acknowledged,
    unacknowledged: stored.webhooks - stored.acknowledged,
    botMessages: [...sent.values()].reduce((sum, count) => sum + count, 0),
    lost: stored.lost,
    duplicated,
    failedJobs,
    census,
    violations,
  };
};
