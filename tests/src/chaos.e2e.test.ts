import { setTimeout as delay } from 'node:timers/promises';
import { customIdFor, normaliseKeyword } from '@nudge/rules';
import { waitFor } from '@nudge/testing';
import type { Job, Queue } from 'bullmq';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  exitOf,
  sendsPerCustomId,
  startTappedWorkers,
  storedEventsWithCustomId,
  type TappedWorker,
  waitForDrained,
  workerThatCalled,
} from './chaos-helpers.js';
import { QUEUE_NAMES, type Stack, type StackOptions, startStack } from './stack.js';

// Chaos end-to-end: real worker processes killed, stopped and cut off from Redis while they act
// as the bot; the sandbox's journal is the ground truth for "exactly once" (accepted send_event
// calls per custom_id).

const KEYWORD = 'where is my order';

let stack: Stack | undefined;
let tapped: TappedWorker[] = [];
afterEach(async () => {
  await stack?.stop();
  stack = undefined;
  await Promise.all(tapped.map(({ tap }) => tap.close()));
  tapped = [];
});

const start = async (options: StackOptions = {}): Promise<Stack> => {
  stack = await startStack({ sharedRedisUrl: inject('redisUrl'), ...options });
  return stack;
};

/** The job's fresh state from Redis (jobs from getJobs are snapshots). */
const reload = async (queue: Queue, job: Job): Promise<Job> => {
  const fresh = await queue.getJob(job.id ?? '');
  if (!fresh) {
    throw new Error(`job ${job.id} vanished`);
  }
  return fresh;
};

/** Waits until `queue` holds exactly one job and it is completed; returns it. */
const waitForOnlyJobCompleted = (queue: Queue, timeoutMs: number) =>
  waitFor(
    async () => {
      const jobs = await queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed']);
      const [job] = jobs;
      return jobs.length === 1 && job && (await job.getState()) === 'completed'
        ? reload(queue, job)
        : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `the one ${queue.name} job to complete` },
  );

/** Workers reaching LiveChat through taps (closed after the test). */
const startWorkers = async (stack: Stack, count: number, env?: Record<string, string>) => {
  const workers = await startTappedWorkers(stack, count, env);
  tapped.push(...workers);
  return workers;
};

const customIdOf = (request: unknown): string =>
  (request as { event?: { custom_id?: string } }).event?.custom_id ?? '';

const tagCustomId = (stack: Stack, chatId: string, threadId: string, tag: string) =>
  customIdFor({ rule: 'tag', organizationId: stack.organizationId, chatId, threadId, key: tag });

const failedCounts = async (stack: Stack) =>
  Object.fromEntries(
    await Promise.all(
      Object.values(QUEUE_NAMES).map(
        async (name) => [name, await stack.queue(name).getFailedCount()] as const,
      ),
    ),
  );

describe('kill -9 of a worker mid-job (W1, W2)', () => {
  // LiveChat calls time out after 1 s, so the send lock of a dead worker expires after 5 s.
  const workerEnv = { LIVECHAT_TIMEOUT_MS: '1000' };

  it('after LiveChat stored the message (response held): another worker recovers the job and does not send again', async () => {
    const stack = await start({ workers: 0, workerEnv });
    const workers = await startWorkers(stack, 2);
    await stack.setBotStatus('accepting_chats');
    // LiveChat stores and journals the event, then holds the answer: the worker never learns.
    const hold = stack.sandbox.faults.add({ action: 'send_event', mode: 'hold', times: 1 });

    const { chatId, threadId } = stack.sandbox.scenario.openChat();
    stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
    const held = await stack.sandbox.journal.waitForCall(
      (call) => call.fault?.id === hold.id,
      15_000,
    );
    const victim = workerThatCalled(workers, 'send_event');
    victim.proc.kill('SIGKILL');
    expect((await victim.proc.exited).signal).toBe('SIGKILL');

    const customId = tagCustomId(stack, chatId, threadId, 'refund');
    expect(customIdOf(held.request)).toBe(customId);
    const queue = stack.queue(QUEUE_NAMES.cannedResponses);
    const job = await waitForOnlyJobCompleted(queue, 20_000);
    // Recovered through the stalled check (the victim never retried it), then skipped.
    expect(job.stalledCounter).toBe(1);
    expect(job.returnvalue).toEqual({ outcome: 'skipped', reason: 'already sent' });
    expect(sendsPerCustomId(stack)).toEqual(new Map([[customId, 1]]));
    expect(storedEventsWithCustomId(stack.sandbox, chatId, customId)).toHaveLength(1);
  }, 40_000);

  it('before send_event (get_chat hanging): another worker recovers the job and sends once', async () => {
    const stack = await start({ workers: 0, workerEnv });
    const workers = await startWorkers(stack, 2);
    await stack.setBotStatus('accepting_chats');
    const hang = stack.sandbox.faults.add({ action: 'get_chat', mode: 'hang', times: 1 });

    const { chatId, threadId } = stack.sandbox.scenario.openChat();
    stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
    await stack.sandbox.journal.waitForRequest((call) => call.action === hang.action, 15_000);
    const victim = workerThatCalled(workers, 'get_chat');
    victim.proc.kill('SIGKILL');
    await victim.proc.exited;

    const customId = tagCustomId(stack, chatId, threadId, 'refund');
    const job = await waitForOnlyJobCompleted(stack.queue(QUEUE_NAMES.cannedResponses), 20_000);
    expect(job.stalledCounter).toBe(1);
    expect(job.returnvalue).toMatchObject({ outcome: 'sent', botId: stack.botId });
    expect(sendsPerCustomId(stack)).toEqual(new Map([[customId, 1]]));
    expect(storedEventsWithCustomId(stack.sandbox, chatId, customId)).toHaveLength(1);
    // The survivor sent it; the victim never got that far.
    expect(victim.tap.actions).not.toContain('send_event');
    expect(workers.find((worker) => worker !== victim)?.tap.actions).toContain('send_event');
  }, 40_000);
});

describe('SIGTERM (W3, W4)', () => {
  it('with active jobs: finishes them, exits 0 within the deadline, nothing stalled or duplicated', async () => {
    const JOBS = 10;
    const SHUTDOWN_TIMEOUT_MS = 5_000;
    const stack = await start({
      workers: 1,
      workerEnv: { LIVECHAT_TIMEOUT_MS: '5000', SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) },
    });
    await stack.setBotStatus('accepting_chats');
    // Every send takes 2 s, so all ten jobs are inside send_event when the signal comes.
    stack.sandbox.faults.add({ action: 'send_event', mode: 'delay', delayMs: 2_000 });
    const chats = Array.from({ length: JOBS }, () => {
      const { chatId, threadId } = stack.sandbox.scenario.openChat();
      stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
      return { chatId, customId: tagCustomId(stack, chatId, threadId, 'refund') };
    });
    const sendRequests = () =>
      stack.sandbox.journal.calls().filter((call) => call.action === 'send_event');
    await waitFor(() => sendRequests().length === JOBS, {
      timeoutMs: 15_000,
      what: `${JOBS} send_event requests`,
    });
    const queue = stack.queue(QUEUE_NAMES.cannedResponses);
    expect(await queue.getActiveCount()).toBe(JOBS);
    expect(sendRequests().every((call) => call.status === undefined)).toBe(true);

    const [worker] = stack.workers;
    if (!worker) {
      throw new Error('no worker');
    }
    const signalledAt = Date.now();
    worker.kill('SIGTERM');
    const exit = await exitOf(worker, signalledAt);
    expect(exit.code).toBe(0);
    expect(exit.afterMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    await worker.waitForLine((line) => line.msg === 'active jobs finished', 0);

    // Completed by that worker before it exited: no other worker exists to take them over.
    const jobs = await queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed']);
    expect(jobs).toHaveLength(JOBS);
    for (const job of jobs) {
      expect(await job.getState()).toBe('completed');
      expect(job.stalledCounter).toBe(0);
      expect(job.attemptsStarted).toBe(1);
      expect(job.returnvalue).toMatchObject({ outcome: 'sent' });
    }
    expect(sendsPerCustomId(stack)).toEqual(new Map(chats.map(({ customId }) => [customId, 1])));
  }, 40_000);

  it('with a hung LiveChat call: exits 1 at the deadline; another worker recovers the job once LiveChat does', async () => {
    const SHUTDOWN_TIMEOUT_MS = 500;
    const LIVECHAT_TIMEOUT_MS = 2_000;
    const stack = await start({
      workers: 0,
      workerEnv: {
        LIVECHAT_TIMEOUT_MS: String(LIVECHAT_TIMEOUT_MS),
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
      },
    });
    const workers = await startWorkers(stack, 2);
    await stack.setBotStatus('accepting_chats');
    const hang = stack.sandbox.faults.add({ action: 'send_event', mode: 'hang' });

    const { chatId, threadId } = stack.sandbox.scenario.openChat();
    stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
    await stack.sandbox.journal.waitForRequest((call) => call.action === hang.action, 15_000);
    const victim = workerThatCalled(workers, 'send_event');
    const signalledAt = Date.now();
    victim.proc.kill('SIGTERM');
    const exit = await exitOf(victim.proc, signalledAt);
    expect(exit.code).toBe(1);
    // Forced at the shutdown deadline, not freed by the LiveChat call's own timeout.
    expect(exit.afterMs).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS);
    expect(exit.afterMs).toBeLessThan(LIVECHAT_TIMEOUT_MS);
    await victim.proc.waitForLine(
      (line) => String(line.msg).startsWith('shutdown deadline passed'),
      0,
    );

    // LiveChat recovers: the abandoned call goes through after all (its outcome was unknown to
    // the worker), and the job, stalled, is re-run by the other worker, which must not repeat it.
    stack.sandbox.faults.remove(hang.id);
    const customId = tagCustomId(stack, chatId, threadId, 'refund');
    const job = await waitForOnlyJobCompleted(stack.queue(QUEUE_NAMES.cannedResponses), 25_000);
    expect(job.stalledCounter).toBe(1);
    expect(job.returnvalue).toEqual({ outcome: 'skipped', reason: 'already sent' });
    expect(sendsPerCustomId(stack)).toEqual(new Map([[customId, 1]]));
    expect(storedEventsWithCustomId(stack.sandbox, chatId, customId)).toHaveLength(1);
  }, 45_000);
});

describe('three workers under load', () => {
  it('≥ 500 webhooks over 90 chats: every rule acts exactly once per chat, queues drain, nothing fails', async () => {
    const CHATS = 90;
    const stack = await start({ workers: 3 });
    await stack.setBotStatus('accepting_chats');
    const organizationId = stack.organizationId;

    const expected = new Set<string>();
    for (let i = 0; i < CHATS; i += 1) {
      const score = i % 2 === 0 ? 1 : 0;
      const { chatId, threadId, eventIds } = stack.sandbox.scenario.openChat({
        message: `Hi, ${KEYWORD}? (#${i})`,
      });
      stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
      stack.sandbox.scenario.rate({ chatId, score });
      const ref = { organizationId, chatId, threadId };
      expected.add(customIdFor({ ...ref, rule: 'keyword', key: normaliseKeyword(KEYWORD) }));
      expected.add(customIdFor({ ...ref, rule: 'tag', key: 'refund' }));
      expected.add(customIdFor({ ...ref, rule: 'rating', key: String(score) }));
      // No agent answers: the customer's first message is nudged after afterSeconds.
      expected.add(customIdFor({ ...ref, rule: 'idle-reply', key: eventIds.at(-1) ?? '' }));
    }

    await stack.waitForBotEvents(expected.size, undefined, 60_000);
    await stack.sandbox.idle();
    for (const name of Object.values(QUEUE_NAMES)) {
      await waitForDrained(stack.queue(name), 30_000);
    }
    // Drained: nothing is left that could still send, so the counts are final.
    const sends = sendsPerCustomId(stack);
    expect([...sends.keys()].sort()).toEqual([...expected].sort());
    expect([...sends.values()].every((count) => count === 1)).toBe(true);
    expect(await failedCounts(stack)).toEqual(
      Object.fromEntries(Object.values(QUEUE_NAMES).map((name) => [name, 0])),
    );
    const delivered = new Set(
      stack.sandbox.journal
        .deliveries()
        .filter((delivery) => delivery.ok)
        .map((delivery) => delivery.deliveryId),
    );
    expect(delivered.size).toBeGreaterThanOrEqual(500);
  }, 90_000);
});

describe('two rules joining the bot to one chat at once', () => {
  // Both jobs read the chat before the bot joined. Without a per-chat turn, the whisper would
  // re-add the bot visible to agents only between the nudge's join and its send, and LiveChat
  // would refuse the nudge. act-once takes the chat's lock: the rules of one chat take turns.
  it('a whisper joining agents-only does not make the idle nudge fail', async () => {
    // Calls are held for seconds below; no timeout may end them first.
    const stack = await start({ workers: 1, workerEnv: { LIVECHAT_TIMEOUT_MS: '10000' } });
    await stack.setBotStatus('accepting_chats');
    const { journal, faults, scenario } = stack.sandbox;
    // The keyword job reads the chat (no bot yet) and is held there, holding the chat's turn.
    const readHeld = faults.add({ action: 'get_chat', mode: 'hold', times: 1 });
    const { chatId, threadId, eventIds } = scenario.openChat({ message: `Hi, ${KEYWORD}?` });
    await journal.waitForCall((call) => call.fault?.id === readHeld.id, 10_000);
    // The idle timer fires (afterSeconds 5) while the keyword job still has the chat.
    const queue = stack.queue(QUEUE_NAMES.idleReply);
    await waitFor(async () => (await queue.getJobCounts('active')).active === 1, {
      timeoutMs: 15_000,
      what: 'the idle timer to fire',
    });
    faults.remove(readHeld.id);

    const ref = { organizationId: stack.organizationId, chatId, threadId };
    const keywordId = customIdFor({ ...ref, rule: 'keyword', key: normaliseKeyword(KEYWORD) });
    const idleId = customIdFor({ ...ref, rule: 'idle-reply', key: eventIds.at(-1) ?? '' });
    await stack.waitForBotEvents(
      2,
      (event) => event.customId === keywordId || event.customId === idleId,
    );
    const job = await waitFor(
      async () => {
        const [only] = await queue.getJobs(['completed', 'failed']);
        return only;
      },
      { timeoutMs: 15_000, what: 'the idle job to finish' },
    );
    expect({ state: await job.getState(), reason: job.failedReason }).toEqual({
      state: 'completed',
      reason: undefined,
    });
    expect(sendsPerCustomId(stack).get(idleId)).toBe(1);
    expect(sendsPerCustomId(stack).get(keywordId)).toBe(1);
    // Turns, not interleaving: the idle job read the chat only after the whisper was sent.
    const inChat = journal
      .calls()
      .filter((call) => (call.request as { chat_id?: string }).chat_id === chatId);
    const idleRead = inChat.filter((call) => call.action === 'get_chat')[1];
    const whisper = inChat.find(
      (call) =>
        call.action === 'send_event' &&
        (call.request as { event?: { custom_id?: string } }).event?.custom_id === keywordId,
    );
    expect(idleRead?.seq).toBeGreaterThan(whisper?.seq ?? Number.POSITIVE_INFINITY);
  }, 30_000);
});

describe('Redis restart (R1, R2)', () => {
  it('killed with jobs waiting and delayed: workers reconnect on their own and every action happens once', async () => {
    const CHATS = 8;
    const OUTAGE_MS = 7_000; // longer than BullMQ's drainDelay (5 s) + 1 s: the #4585 case
    const stack = await start({ redis: 'own', workers: 0 });
    const redisServer = stack.redisServer;
    if (!redisServer) {
      throw new Error('no own Redis');
    }
    // Nothing acknowledged may be lost to the AOF's fsync window: this test is about the
    // workers reconnecting, not about Redis durability.
    await stack.redis.config('SET', 'appendfsync', 'always');
    // One canned-responses job at a time per worker, each slowed by get_chat: most wait.
    const workers = await startWorkers(stack, 2, { CONCURRENCY_CANNED_RESPONSES: '1' });
    await stack.setBotStatus('accepting_chats');
    const slow = stack.sandbox.faults.add({ action: 'get_chat', mode: 'delay', delayMs: 800 });

    const expected = new Set<string>();
    const tagChat = () => {
      const { chatId, threadId } = stack.sandbox.scenario.openChat();
      stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
      expected.add(tagCustomId(stack, chatId, threadId, 'refund'));
    };
    // Separate chats for the idle timers (delayed) and the tag whispers (waiting).
    for (let i = 0; i < CHATS; i += 1) {
      const { chatId, threadId, eventIds } = stack.sandbox.scenario.openChat({
        message: `Hello #${i}`,
      });
      const ref = { organizationId: stack.organizationId, chatId, threadId };
      expected.add(customIdFor({ ...ref, rule: 'idle-reply', key: eventIds.at(-1) ?? '' }));
      tagChat();
    }
    const idle = stack.queue(QUEUE_NAMES.idleReply);
    const canned = stack.queue(QUEUE_NAMES.cannedResponses);
    await waitFor(
      async () =>
        (await idle.getDelayedCount()) === CHATS && (await canned.getWaitingCount()) >= CHATS / 2,
      { timeoutMs: 15_000, what: 'idle timers delayed and tag jobs waiting' },
    );

    // The test's own clients see the outage too; their errors are expected, not news.
    stack.redis.on('error', () => undefined);
    for (const name of Object.values(QUEUE_NAMES)) {
      // Initialised before the outage: BullMQ keeps a queue whose first connect failed broken.
      await stack
        .queue(name)
        .on('error', () => undefined)
        .waitUntilReady();
    }
    // Counted before the kill: a worker says so once, possibly before the kill returns.
    const linesBefore = workers.map(({ proc }) => proc.lines.length);
    await redisServer.kill('SIGKILL');
    await delay(OUTAGE_MS); // the fault itself: Redis stays down this long
    workers.forEach(({ proc }, i) => {
      // Each worker noticed the outage, and kept running.
      const during = proc.lines.slice(linesBefore[i]);
      expect(
        during.filter((line) => line.msg === 'redis unavailable: retrying until it is back'),
      ).toHaveLength(1);
      expect(proc.child.exitCode).toBeNull();
    });
    await redisServer.restart();
    const callsAtRestart = workers.map(({ tap }) => tap.actions.length);

    // Jobs added after the outage are processed too (BullMQ #4585: workers never resumed).
    const ingestBase = stack.ingestUrl.replace(/\/livechat\/webhooks$/, '');
    await waitFor(async () => (await fetch(`${ingestBase}/readyz`)).ok, {
      timeoutMs: 15_000,
      what: 'ingest ready again',
    });
    for (let i = 0; i < 4; i += 1) {
      tagChat();
    }

    await stack.waitForBotEvents(expected.size, undefined, 45_000);
    for (const name of Object.values(QUEUE_NAMES)) {
      await waitForDrained(stack.queue(name), 30_000);
    }
    stack.sandbox.faults.remove(slow.id);
    const sends = sendsPerCustomId(stack);
    expect([...sends.keys()].sort()).toEqual([...expected].sort());
    expect([...sends.values()].every((count) => count === 1)).toBe(true);
    expect(await failedCounts(stack)).toEqual(
      Object.fromEntries(Object.values(QUEUE_NAMES).map((name) => [name, 0])),
    );
    // The same two processes, each back at work (calling LiveChat for jobs) after the restart,
    // and every one of their queue workers connected again.
    expect(stack.workers).toHaveLength(2);
    workers.forEach(({ proc, tap }, i) => {
      expect(proc.child.exitCode).toBeNull();
      expect(tap.actions.length).toBeGreaterThan(callsAtRestart[i] ?? 0);
    });
    for (const name of Object.values(QUEUE_NAMES)) {
      expect(await stack.queue(name).getWorkersCount()).toBe(2);
    }
  }, 90_000);
});
