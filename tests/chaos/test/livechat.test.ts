import { DEFAULT_JOB_OPTIONS, retryFailedJob } from '@nudge/queues';
import { waitFor } from '@nudge/testing';
import {
  botEventsIn,
  chatEventsWithCustomId,
  isInlineRun,
  jobsOfChat,
  only,
  outcomeOf,
  PREFIX,
  waitForBotEventsIn,
  waitForFinishedJob,
  waitUntilSettled,
} from '@nudge/tests/e2e-helpers';
import type { Job } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosStack, startChaosStack } from '../src/chaos-stack.js';
import { checkInvariants } from '../src/invariants.js';
import { expectedActions, logReport } from '../src/rows.js';

// LiveChat failing (sandbox faults; matrix rows L1–L7) and the bot's routing status. Faults
// and the bot status are global to the stack, so these tests run one after another, and the
// invariants are checked after each over everything the file did so far.

const RATE_LIMIT_MS = 1_500;
const TIMEOUT_MS = 2_000; // LIVECHAT_TIMEOUT_MS in the harness

let stack: ChaosStack;
let expected: ReturnType<typeof expectedActions>;
let agentId: string;
/** attemptsMade of a job that succeeded at its first try (BullMQ counts the finishing one). */
let cleanAttempts: number;

/**
 * A chat with an agent, tagged `tag`: its canned-responses job whispers the suggestions (the
 * invariants expect that whisper, or one failed job, unless `acts` is false).
 */
const tagNewChat = (tag = 'refund', { acts = true } = {}) => {
  const { chatId, threadId } = stack.sandbox.scenario.openChat({ agentIds: [agentId] });
  stack.sandbox.scenario.tag({ chatId, tag });
  if (acts) {
    expected.tag({ chatId, threadId }, tag);
  }
  return { chatId, threadId };
};

const tagJob = (chatId: string): Promise<Job> =>
  waitFor(
    async () => {
      const jobs = await stack.queue('canned-responses').getJobs();
      return jobs.find((job) => job?.data.chatId === chatId);
    },
    { what: `the tag job of chat ${chatId}` },
  );

/** The statuses LiveChat answered send_event with in `chatId`, in order. */
const sendStatuses = (chatId: string, on: ChaosStack = stack) =>
  on.sandbox.journal
    .calls()
    .filter(
      (call) =>
        call.action === 'send_event' && (call.request as { chat_id: string }).chat_id === chatId,
    )
    .map((call) => call.status);

/**
 * How often the route step tried the job `jobId` itself and handed it to its queue on failure
 * (WORKER_ACT_INLINE): attempts its queue's `attemptsMade` does not count.
 */
const handoffsOf = (jobId: string) =>
  stack.chaosWorkers
    .flatMap(({ proc }) => proc.lines)
    .filter(
      (line) =>
        line.jobId === jobId && String(line.msg).startsWith('acting in the route step failed'),
    ).length;

beforeAll(async () => {
  stack = await startChaosStack({
    // Two workers: a rate-limit pause must hold for every worker, not just the one that hit it.
    workers: 2,
    // Longer than any first backoff (≤ 1 s), so a rate-limit pause is told apart from a retry.
    // Through the rule queue: these rows are about a rule job's retries, pauses and failures.
    // Acting in the route step, whether a job is tried there first depends on earlier rows (a
    // rule steps aside for 30 s, per worker process, after a retryable failure), so the
    // attempts LiveChat sees would depend on the order and timing of the rows; the route
    // step's hand-offs are covered by worker-metrics.e2e and the big run.
    workerEnv: { LIVECHAT_RATE_LIMIT_MS: String(RATE_LIMIT_MS), WORKER_ACT_INLINE: 'false' },
    rules: {
      cannedResponses: {
        byTag: { refund: ['Refunds take 3–5 days.'], shipping: ['Ships in 24 h.'] },
      },
    },
  });
  expected = expectedActions(stack);
  await stack.setBotStatus('accepting_chats');
  agentId = stack.sandbox.credentials.agentId;
  const { chatId } = tagNewChat();
  await waitForBotEventsIn(stack, chatId, PREFIX.tag);
  cleanAttempts = (await waitForFinishedJob(stack, 'canned-responses', chatId)).attemptsMade;
}, 30_000);
afterEach(async ({ task }) => {
  stack.sandbox.faults.clear();
  if (task.result?.state !== 'fail') {
    const report = await checkInvariants(stack, { actions: expected.actions });
    logReport(task.name, report);
    expect(report.violations).toEqual([]);
  }
});
afterAll(() => stack?.stop());

describe('LiveChat faults (L1, L2, L3, L5)', () => {
  it('500 twice, then OK: retried with backoff, one message', async () => {
    stack.sandbox.faults.add({
      action: 'send_event',
      mode: 'error',
      errorType: 'internal',
      status: 500,
      times: 2,
    });
    const { chatId } = tagNewChat();

    await waitForBotEventsIn(stack, chatId, PREFIX.tag);
    const job = await waitForFinishedJob(stack, 'canned-responses', chatId);
    expect(outcomeOf(job).outcome).toBe('sent');
    // Three tries in all: the first may be the route step's own (then the job is handed to its
    // queue, which makes the other two), unless an earlier 500 put the rule through its queue.
    expect(job.attemptsMade + handoffsOf(job.id ?? '')).toBe(cleanAttempts + 2);
    expect(sendStatuses(chatId)).toEqual([500, 500, 200]);
    expect(chatEventsWithCustomId(stack, chatId)).toHaveLength(1);
  });

  it('too_many_requests: the queue pauses, the attempt is not used up, then one message', async () => {
    stack.sandbox.faults.add({
      action: 'send_event',
      mode: 'error',
      errorType: 'too_many_requests',
      times: 1,
    });
    const { chatId } = tagNewChat();
    const limited = await stack.sandbox.journal.waitForCall(
      (call) => call.action === 'send_event' && call.status === 429,
    );
    // The whole queue is paused (across workers), not just this job delayed.
    const ttl = await waitFor(
      async () => {
        const remaining = await stack.queue('canned-responses').getRateLimitTtl();
        return remaining > 0 ? remaining : undefined;
      },
      { timeoutMs: RATE_LIMIT_MS, intervalMs: 10, what: 'the queue to be rate-limited' },
    );
    expect(ttl).toBeLessThanOrEqual(RATE_LIMIT_MS);

    const message = only(await waitForBotEventsIn(stack, chatId, PREFIX.tag), 'message');
    expect(message.at - Date.parse(limited.time)).toBeGreaterThanOrEqual(RATE_LIMIT_MS - 100);
    const job = await waitForFinishedJob(stack, 'canned-responses', chatId);
    expect(outcomeOf(job).outcome).toBe('sent');
    expect(job.attemptsMade).toBe(cleanAttempts);
    expect(chatEventsWithCustomId(stack, chatId)).toHaveLength(1);
  });

  it('a hanging call times out and is retried; one message once LiveChat answers', async () => {
    const hang = stack.sandbox.faults.add({ action: 'get_chat', mode: 'hang' });
    const { chatId } = tagNewChat();
    const hung = await stack.sandbox.journal.waitForRequest(
      (call) =>
        call.action === 'get_chat' && (call.request as { chat_id?: string }).chat_id === chatId,
    );

    // The attempt failed on the client's timeout and waits for its retry.
    const job = await tagJob(chatId);
    const failed = await waitFor(
      async () => {
        const fresh = await stack.queue('canned-responses').getJob(job.id ?? '');
        return fresh && fresh.attemptsMade > 0 ? fresh : undefined;
      },
      { timeoutMs: TIMEOUT_MS * 3, what: 'the attempt to time out' },
    );
    expect(Date.now() - Date.parse(hung.time)).toBeGreaterThanOrEqual(TIMEOUT_MS - 100);
    expect(failed.failedReason).toMatch(/get_chat .*failed: timeout/);
    expect(botEventsIn(stack, chatId)).toEqual([]);

    stack.sandbox.faults.remove(hang.id);
    await waitForBotEventsIn(stack, chatId, PREFIX.tag);
    const done = await waitForFinishedJob(stack, 'canned-responses', chatId);
    expect(outcomeOf(done).outcome).toBe('sent');
    expect(done.attemptsMade).toBeGreaterThanOrEqual(cleanAttempts + 1);
    await waitUntilSettled(stack, ['livechat-events', 'canned-responses'], chatId);
    expect(chatEventsWithCustomId(stack, chatId)).toHaveLength(1);
  });

  it('validation: fails at once, naming LiveChat’s error type, no retries', async () => {
    stack.sandbox.faults.add({ action: 'send_event', mode: 'error', errorType: 'validation' });
    const { chatId } = tagNewChat();

    const job = await waitForFinishedJob(stack, 'canned-responses', chatId);
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/^LiveChat send_event \(v3\.6\) failed: validation: /);
    expect(sendStatuses(chatId)).toEqual([400]);
    expect(chatEventsWithCustomId(stack, chatId)).toEqual([]);
  });
});

describe('LiveChat authentication errors mid-run (L4)', () => {
  /** The bot tokens LiveChat issued so far. */
  const issuedTokens = () =>
    stack.sandbox.journal
      .calls()
      .filter((call) => call.action === 'issue_bot_token' && call.status === 200)
      .map((call) => (call.response as { token: string }).token);
  it('a token LiveChat rejects is refreshed once and the call retried: one message, no attempt used', async () => {
    const issued = issuedTokens().length;
    stack.sandbox.faults.add({
      action: 'send_event',
      mode: 'error',
      errorType: 'authentication',
      times: 1,
    });
    const { chatId } = tagNewChat();

    await waitForBotEventsIn(stack, chatId, PREFIX.tag);
    const job = await waitForFinishedJob(stack, 'canned-responses', chatId);
    expect(outcomeOf(job).outcome).toBe('sent');
    expect(job.attemptsMade).toBe(cleanAttempts);
    expect(sendStatuses(chatId)).toEqual([401, 200]);
    expect(issuedTokens()).toHaveLength(issued + 1);
    expect(chatEventsWithCustomId(stack, chatId)).toHaveLength(1);
  });

  it('rejected again after the refresh: the job fails at once, naming the error; no token in any log', async () => {
    stack.sandbox.faults.add({
      action: 'send_event',
      mode: 'error',
      errorType: 'authentication',
      times: 2,
    });
    const { chatId } = tagNewChat();

    const job = await waitForFinishedJob(stack, 'canned-responses', chatId);
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/^LiveChat send_event \(v3\.6\) failed: authentication: /);
    expect(sendStatuses(chatId)).toEqual([401, 401]);
    expect(chatEventsWithCustomId(stack, chatId)).toEqual([]);
    const output = stack
      .processes()
      .map(({ proc }) => proc.output())
      .join('\n');
    expect(output).toContain('LiveChat rejected the bot token');
    for (const token of issuedTokens()) {
      expect(output).not.toContain(token);
    }
  });
});

describe('LiveChat failing every time (L7)', () => {
  it('the job fails after its attempts with the reason; replayed once LiveChat is back, it sends once', async () => {
    const down = stack.sandbox.faults.add({
      action: 'send_event',
      mode: 'error',
      errorType: 'internal',
      status: 500,
    });
    const { chatId } = tagNewChat();
    // The backoff between attempts grows to a minute: each retry is promoted as soon as it
    // waits, so the attempts are used up in seconds. Their number is what this row is about.
    const failed = await waitFor(
      async () => {
        const [job] = await jobsOfChat(stack, 'canned-responses', chatId);
        const state = await job?.getState();
        if (state === 'delayed') {
          await job?.promote().catch(() => undefined);
        }
        return state === 'failed'
          ? stack.queue('canned-responses').getJob(job?.id ?? '')
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 50, what: 'the job to use up its attempts' },
    );
    expect(failed?.attemptsMade).toBe(DEFAULT_JOB_OPTIONS.attempts);
    expect(failed?.failedReason).toMatch(/^LiveChat send_event \(v3\.6\) failed: internal/);
    expect(botEventsIn(stack, chatId)).toEqual([]);

    // LiveChat is back; the operator replays the job (as the dashboard and nudge replay do).
    stack.sandbox.faults.remove(down.id);
    expect(failed && (await retryFailedJob(failed))).toBe(true);
    await waitForBotEventsIn(stack, chatId, PREFIX.tag);
    await waitUntilSettled(stack, ['canned-responses'], chatId);
    expect(chatEventsWithCustomId(stack, chatId)).toHaveLength(1);
  });
});

// Last: these change the bot's status for the whole stack.
describe('bot status gate', () => {
  it('skips with the reason while the bot is not accepting chats; no LiveChat writes', async () => {
    await stack.setBotStatus('not_accepting_chats');
    const { chatId } = tagNewChat('refund', { acts: false });
    const job = await waitForFinishedJob(stack, 'canned-responses', chatId);
    expect(outcomeOf(job)).toEqual({
      outcome: 'skipped',
      reason: `bot ${stack.botId} is not accepting chats (not_accepting_chats)`,
    });
    const writes = stack.sandbox.journal
      .calls()
      .filter(
        (call) =>
          (call.action === 'send_event' || call.action === 'add_user_to_chat') &&
          (call.request as { chat_id?: string }).chat_id === chatId,
      );
    expect(writes).toEqual([]);
    expect(chatEventsWithCustomId(stack, chatId)).toEqual([]);
  });

  it('acts again once the bot is back to accepting chats', async () => {
    // Back to the status it had before the previous test: a routing_status_set webhook
    // identical to the one sent at the start.
    const since = stack.sandbox.journal.entries.at(-1)?.seq ?? 0;
    stack.sandbox.scenario.setBotStatus({ botId: stack.botId, status: 'accepting_chats' });
    const webhook = await stack.sandbox.journal.waitForWebhook(
      (entry) => entry.action === 'routing_status_set' && entry.seq > since,
    );
    await stack.sandbox.journal.waitForDelivery(
      (entry) => entry.deliveryId === webhook.deliveryId && entry.ok,
    );
    // Ingest took it (200); whatever it stored has been routed before the next chat is tagged.
    await waitFor(
      async () => {
        const counts = await stack
          .queue('livechat-events')
          .getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((count) => count === 0);
      },
      { what: 'the events queue to drain' },
    );

    const { chatId } = tagNewChat('shipping');
    const job = await waitForFinishedJob(stack, 'canned-responses', chatId);
    expect(outcomeOf(job)).toMatchObject({ outcome: 'sent' });
    const [whisper] = await waitForBotEventsIn(stack, chatId, PREFIX.tag);
    expect(whisper?.text).toContain('Ships in 24 h.');
  });
});

describe('acting in the route step while LiveChat fails (WORKER_ACT_INLINE, the default)', () => {
  it('a retryable failure hands the whisper to its queue, retried there; the rule then goes through its queue', async () => {
    const inline = await startChaosStack({
      workers: 1,
      rules: { cannedResponses: { byTag: { refund: ['Refunds take 3–5 days.'] } } },
    });
    try {
      await inline.setBotStatus('accepting_chats');
      const { agentId: agent } = inline.sandbox.credentials;
      inline.sandbox.faults.add({
        action: 'send_event',
        mode: 'error',
        errorType: 'internal',
        times: 1,
      });
      const first = inline.sandbox.scenario.openChat({ agentIds: [agent] });
      inline.sandbox.scenario.tag({ chatId: first.chatId, tag: 'refund' });
      await waitForBotEventsIn(inline, first.chatId, PREFIX.tag);
      // Tried in the route step (500), then a job of its queue that sent it.
      const queued = await waitForFinishedJob(
        inline,
        'canned-responses',
        first.chatId,
        (job) => !isInlineRun(job),
      );
      expect(outcomeOf(queued).outcome).toBe('sent');
      expect(sendStatuses(first.chatId, inline)).toEqual([500, 200]);

      // For the next 30 s that worker sends the rule's jobs straight to the queue.
      const second = inline.sandbox.scenario.openChat({ agentIds: [agent] });
      inline.sandbox.scenario.tag({ chatId: second.chatId, tag: 'refund' });
      await waitForBotEventsIn(inline, second.chatId, PREFIX.tag);
      const next = await waitForFinishedJob(inline, 'canned-responses', second.chatId);
      expect(isInlineRun(next)).toBe(false);
      expect(outcomeOf(next).outcome).toBe('sent');
      expect(sendStatuses(second.chatId, inline)).toEqual([200]);
      expect(chatEventsWithCustomId(inline, second.chatId)).toHaveLength(1);
    } finally {
      await inline.stop();
    }
  }, 30_000);
});
