import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { QUEUE_RETENTION } from '@nudge/queues';
import { customIdFor } from '@nudge/rules';
import { waitFor } from '@nudge/testing';
import { finishedRunsOfChat } from '@nudge/tests/e2e-helpers';
import { describe, expect, it } from 'vitest';
import {
  ACTING,
  describeShortfall,
  failedCounts,
  sendsPerCustomId,
  tagCustomId,
  waitForDrained,
  waitForRecoveredTagJob,
  workerThatCalled,
} from '../src/chaos-helpers.js';
import { type ChaosStack, QUEUE_NAMES } from '../src/chaos-stack.js';
import { PROFILE } from '../src/profile.js';
import { chaosRows, expectedActions } from '../src/rows.js';

// Redis and the connections to it failing under the apps (matrix rows R1–R8): killed and
// restarted on its AOF, restarted empty, connections reset, slowed, and one worker cut off
// while it acts. Every row ends with the invariants checked.

const rows = chaosRows();

const ingestBase = (stack: ChaosStack) => stack.ingestUrl.replace(/\/livechat\/webhooks$/, '');

const waitForIngestReady = (stack: ChaosStack) =>
  waitFor(async () => (await fetch(`${ingestBase(stack)}/readyz`)).ok, {
    timeoutMs: 15_000,
    what: 'ingest ready again',
  });

// The jobs waiting at the kill are the tags' route jobs acting on the whispers (the default),
// or (WORKER_ACT_INLINE=false) the canned-responses jobs the route step queued: both runs.
describe.each(ACTING)('Redis restart (R1, R2), acting $acting', (acting) => {
  it('killed with jobs waiting and delayed: workers reconnect on their own and every action happens once', async () => {
    const CHATS = 8;
    const OUTAGE_MS = 7_000; // longer than BullMQ's drainDelay (5 s) + 1 s: the #4585 case
    // One job acting on a whisper at a time per worker, each slowed by get_chat: most wait.
    const stack = await rows.start({
      workers: 2,
      workerEnv: {
        ...(acting.inline
          ? { CONCURRENCY_LIVECHAT_EVENTS: '1' }
          : { CONCURRENCY_CANNED_RESPONSES: '1' }),
        ...acting.env,
      },
    });
    const { redisServer, chaosWorkers: workers } = stack;
    // Nothing acknowledged may be lost to the AOF's fsync window: this test is about the
    // workers reconnecting, not about Redis durability.
    await stack.redis.config('SET', 'appendfsync', 'always');
    await stack.setBotStatus('accepting_chats');
    const slow = stack.sandbox.faults.add({ action: 'get_chat', mode: 'delay', delayMs: 800 });

    const expected = new Set<string>();
    const tagChat = () => {
      const { chatId, threadId } = stack.sandbox.scenario.openChat();
      stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
      expected.add(tagCustomId(stack, chatId, threadId, 'refund'));
    };
    // Separate chats for the idle timers (delayed) and the tag whispers (waiting). The timers
    // first: their route jobs must not queue behind the slow whispers (one route job at a time
    // per worker when acting in the route step).
    for (let i = 0; i < CHATS; i += 1) {
      const { chatId, threadId, eventIds } = stack.sandbox.scenario.openChat({
        message: `Hello #${i}`,
      });
      const ref = { organizationId: stack.organizationId, chatId, threadId };
      expected.add(customIdFor({ ...ref, rule: 'idle-reply', key: eventIds.at(-1) ?? '' }));
    }
    const idle = stack.queue(QUEUE_NAMES.idleReply);
    await waitFor(async () => (await idle.getDelayedCount()) === CHATS, {
      timeoutMs: 15_000,
      what: 'idle timers delayed',
    });
    for (let i = 0; i < CHATS; i += 1) {
      tagChat();
    }
    const events = stack.queue(QUEUE_NAMES.livechatEvents);
    const canned = stack.queue(QUEUE_NAMES.cannedResponses);
    const waitingWhispers = async () =>
      acting.inline
        ? (await events.getWaiting()).filter((job) => job.name === 'thread_tagged').length
        : await canned.getWaitingCount();
    await waitFor(
      async () =>
        (await idle.getDelayedCount()) === CHATS && (await waitingWhispers()) >= CHATS / 2,
      { timeoutMs: 15_000, what: 'idle timers delayed and tag jobs waiting' },
    );

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
    await waitForIngestReady(stack);
    for (let i = 0; i < 4; i += 1) {
      tagChat();
    }

    await stack.waitForBotEvents(expected.size, undefined, 45_000).catch(async (err: Error) => {
      throw new Error(`${err.message}\n${await describeShortfall(stack, expected, workers)}`);
    });
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

describe('Redis comes back empty (R3)', () => {
  it('the loss is noticed and reconciled; apps work on; what was handled is not acted on twice', async () => {
    // Ingest beats every second (a quarter of the gap): the loss is noticed at once.
    const stack = await rows.start({ workers: 2, ingestEnv: { RECONCILE_AFTER_GAP_SECONDS: '4' } });
    const expected = expectedActions(stack);
    await stack.setBotStatus('accepting_chats');
    const before = stack.sandbox.scenario.openChat();
    stack.sandbox.scenario.tag({ chatId: before.chatId, tag: 'refund' });
    expected.tag(before);
    await stack.waitForBotEvents(1);
    await stack.sandbox.idle();

    // Data loss: Redis dies and its AOF with it (a disk lost, a failover to an empty replica).
    const lostBeforeSeq = (stack.sandbox.journal.entries.at(-1)?.seq ?? 0) + 1;
    await stack.redisServer.kill('SIGKILL');
    for (const entry of await readdir(stack.redisServer.dir)) {
      await rm(join(stack.redisServer.dir, entry), { recursive: true, force: true });
    }
    await stack.redisServer.restart();
    expect(await stack.queue(QUEUE_NAMES.cannedResponses).getCompletedCount()).toBe(0);
    await waitForIngestReady(stack);
    // The data-loss detector: ingest's heartbeat is gone, so it asks for a reconcile, which
    // reads the active chats from LiveChat and stores again what they imply.
    await stack.ingest.waitForLine((line) => String(line.msg).startsWith('redis lost its data'));
    const reconciled = await waitFor(
      async () =>
        (await stack.queue(QUEUE_NAMES.livechatEvents).getCompleted()).find(
          (job) => job.name === 'nudge-reconcile',
        ),
      { timeoutMs: 20_000, what: 'the reconcile to run' },
    );
    expect(reconciled.returnvalue).toMatchObject({ outcome: 'reconciled', chats: 1 });

    // LiveChat delivers the tag again (its retry, or a replay): the dedupe claim went with the
    // data, so the event is routed again; the whisper is in the chat, so it is not sent again.
    const tagged = stack.sandbox.journal
      .webhooks()
      .find(
        (webhook) =>
          webhook.action === 'thread_tagged' &&
          (webhook.body as { payload: { chat_id: string } }).payload.chat_id === before.chatId,
      );
    expect(await stack.relay.forward(tagged?.body as Record<string, unknown>)).toBe(200);
    // New work flows: the bot's status, lost with the data, is read from LiveChat.
    const after = stack.sandbox.scenario.openChat();
    stack.sandbox.scenario.tag({ chatId: after.chatId, tag: 'refund' });
    expected.tag(after);
    await stack.waitForBotEvents(2);
    for (const name of Object.values(QUEUE_NAMES)) {
      await waitForDrained(stack.queue(name), 30_000);
    }
    // Run again in the route step, or through the rule queue: either way, skipped.
    const again = await finishedRunsOfChat(stack, QUEUE_NAMES.cannedResponses, before.chatId);
    expect(again.map((run) => run.returnvalue)).toEqual([
      { outcome: 'skipped', reason: 'already sent' },
    ]);
    rows.expect({ actions: expected.actions, dataLostBeforeSeq: lostBeforeSeq });
  }, 60_000);
});

describe('connection resets (R4)', () => {
  it('CLIENT KILL and proxy resets every second under load: no crash, every action once', async () => {
    const stack = await rows.start({
      workers: 2,
      sandbox: { delivery: { timeoutMs: 3_000, retryDelaysMs: [500, 1_500, 3_000] } },
    });
    const expected = expectedActions(stack);
    await stack.setBotStatus('accepting_chats');
    const proxies = [stack.ingestProxy, ...stack.chaosWorkers.map(({ proxy }) => proxy)];
    const deadline = Date.now() + PROFILE.stormMs;
    let round = 0;
    while (Date.now() < deadline) {
      round += 1;
      for (let i = 0; i < 3; i += 1) {
        const chat = stack.sandbox.scenario.openChat();
        stack.sandbox.scenario.tag({ chatId: chat.chatId, tag: 'refund' });
        stack.sandbox.scenario.rate({ chatId: chat.chatId, score: 1 });
        expected.tag(chat);
        expected.rating(chat, 1);
      }
      if (round % 2 === 0) {
        await stack.redis.call('CLIENT', 'KILL', 'TYPE', 'normal');
      } else {
        const proxy = proxies[round % proxies.length];
        proxy?.set({ kind: 'reset' });
        proxy?.set({ kind: 'pass' });
      }
      await delay(1_000); // the storm's pace: a reset every second
    }
    rows.expect({ actions: expected.actions });
    await stack.waitForBotEvents(expected.actions.size, undefined, 45_000);
    for (const { proc } of stack.processes()) {
      expect(proc.lines.filter((line) => /unhandled|uncaught/i.test(String(line.msg)))).toEqual([]);
    }
  }, 90_000);
});

describe('latency (R5)', () => {
  it('300 ms each way to Redis at production lock timings: acks within 2 s or 503, no job stalls', async () => {
    const stack = await rows.start({
      workers: 2,
      // Production timings: a slow Redis must not cost a lock at lockDuration 30 s.
      workerEnv: { WORKER_LOCK_DURATION_MS: '30000', WORKER_STALLED_INTERVAL_MS: '30000' },
      sandbox: { delivery: { timeoutMs: 5_000, retryDelaysMs: [500, 1_500, 3_000] } },
    });
    const expected = expectedActions(stack);
    await stack.setBotStatus('accepting_chats');
    const proxies = [stack.ingestProxy, ...stack.chaosWorkers.map(({ proxy }) => proxy)];
    for (const proxy of proxies) {
      proxy.set({ kind: 'delay', ms: 300 });
    }
    for (let i = 0; i < 6; i += 1) {
      const chat = stack.sandbox.scenario.openChat();
      stack.sandbox.scenario.tag({ chatId: chat.chatId, tag: 'refund' });
      expected.tag(chat);
    }
    await stack.waitForBotEvents(expected.actions.size, undefined, 60_000);
    await stack.sandbox.idle();
    for (const proxy of proxies) {
      proxy.set({ kind: 'pass' });
    }
    rows.expect({ actions: expected.actions, lateWritesPossible: true });

    const attempts = stack.sandbox.journal.deliveries();
    // Every answer within the ack deadline (1.2 s) and its slack: 200, or 503 and a retry.
    expect(attempts.filter((attempt) => attempt.durationMs >= 2_000)).toEqual([]);
    expect(attempts.every((attempt) => attempt.status === 200 || attempt.status === 503)).toBe(
      true,
    );
    for (const { proc } of stack.chaosWorkers) {
      expect(proc.lines.filter((line) => String(line.msg).startsWith('job stalled'))).toEqual([]);
    }
    // The jobs that acted on the whispers: the tags' route jobs (acting in the route step),
    // and those handed to the canned-responses queue (the chat's turn slow to come). The
    // messages are out before their jobs finish (a few round trips at 300 ms): wait for those.
    await waitForDrained(stack.queue(QUEUE_NAMES.livechatEvents));
    await waitForDrained(stack.queue(QUEUE_NAMES.cannedResponses));
    const routed = await stack.queue(QUEUE_NAMES.livechatEvents).getCompleted();
    expect(routed.filter((job) => job.name === 'thread_tagged')).toHaveLength(6);
    const jobs = [...routed, ...(await stack.queue(QUEUE_NAMES.cannedResponses).getCompleted())];
    expect(jobs.map((job) => job.stalledCounter)).toEqual(jobs.map(() => 0));
  }, 90_000);
});

// The job whose lock the cut-off worker loses is the tag's route job acting on the whisper
// (the default), or (WORKER_ACT_INLINE=false) its canned-responses job: both run.
describe.each(ACTING)(
  'a worker cut off from Redis while LiveChat holds its send (R6), acting $acting',
  (acting) => {
    it('another worker re-runs the job, the first loses its lock and says so; one message', async () => {
      // LiveChat calls time out after 1 s: the chat's turn a dead worker held ends after 5 s.
      const stack = await rows.start({
        workers: 2,
        workerEnv: { LIVECHAT_TIMEOUT_MS: '1000', ...acting.env },
      });
      await stack.setBotStatus('accepting_chats');
      const hold = stack.sandbox.faults.add({ action: 'send_event', mode: 'hold', times: 1 });
      const chat = stack.sandbox.scenario.openChat();
      stack.sandbox.scenario.tag({ chatId: chat.chatId, tag: 'refund' });
      await stack.sandbox.journal.waitForCall((call) => call.fault?.id === hold.id, 15_000);
      const cutOff = workerThatCalled(stack.chaosWorkers, 'send_event');
      const other = stack.chaosWorkers.find((worker) => worker !== cutOff);
      cutOff.proxy.set({ kind: 'blackhole' });

      const { stalled, run } = await waitForRecoveredTagJob(stack, acting, chat.chatId, 30_000);
      expect(stalled.stalledCounter).toBe(1);
      expect(run.returnvalue).toEqual({ outcome: 'skipped', reason: 'already sent' });
      expect(other?.tap.actions).toContain('get_chat');

      // The partition heals: the cut-off worker finds its job taken and carries on.
      const linesBefore = cutOff.proc.lines.length;
      cutOff.proxy.set({ kind: 'pass' });
      // It may say so for other jobs it held too (a user_added_to_chat route job): the line
      // about the re-run job is the one asked for.
      const lockLost = await cutOff.proc.waitForLine(
        (line) =>
          cutOff.proc.lines.indexOf(line) >= linesBefore &&
          /(could not renew lock|Missing lock|Lock mismatch) for job/.test(JSON.stringify(line)) &&
          JSON.stringify(line).includes(stalled.id ?? '(no id)'),
        15_000,
      );
      expect(JSON.stringify(lockLost)).toContain(stalled.id ?? '');
      expect(sendsPerCustomId(stack)).toEqual(
        new Map([[tagCustomId(stack, chat.chatId, chat.threadId, 'refund'), 1]]),
      );
      const expected = expectedActions(stack);
      expected.tag(chat);
      rows.expect({ actions: expected.actions });
    }, 60_000);
  },
);

describe('a delayed job across an outage of Redis and every worker (R7)', () => {
  it('runs once, within 2 s of the workers returning after its due time', async () => {
    // The idle reply waits 5 s (the shortest it may).
    const stack = await rows.start({ workers: 2 });
    const expected = expectedActions(stack);
    await stack.setBotStatus('accepting_chats');
    const createdAt = Date.now();
    const chat = stack.sandbox.scenario.openChat({ message: 'Hello?' });
    expected.idle(chat, chat.eventIds.at(-1) ?? '');
    const idle = stack.queue(QUEUE_NAMES.idleReply);
    await waitFor(async () => (await idle.getDelayedCount()) === 1, {
      what: 'the idle timer to be scheduled',
    });
    await stack.sandbox.idle();

    for (const { proc } of stack.chaosWorkers) {
      await stack.kill(proc, 'SIGKILL');
    }
    await stack.redisServer.kill('SIGKILL');
    await delay(6_000); // the outage: Redis and the workers stay down past the due time
    await stack.redisServer.restart();
    const workers = await stack.startWorkers(2);

    const [nudge] = await stack.waitForBotEvents(1);
    const readyAt = Math.min(
      ...workers.map(({ proc }) =>
        Number(proc.lines.find((line) => line.msg === 'worker ready')?.time),
      ),
    );
    expect((nudge?.at ?? 0) - readyAt).toBeLessThan(2_000);
    expect(nudge?.at).toBeGreaterThanOrEqual(createdAt + 5_000);
    rows.expect({ actions: expected.actions });
  }, 60_000);
});

describe('event stream and retention bounds (R8)', () => {
  it(`${PROFILE.retentionJobs} jobs through: the events stream and completed jobs stay bounded`, async () => {
    const stack = await rows.start({ workers: 2 });
    await stack.setBotStatus('accepting_chats');
    // A routing status is state, not an event: every delivery is stored and routed, which
    // makes it the cheapest job to push through in numbers.
    const status = stack.sandbox.journal
      .webhooks()
      .findLast((webhook) => webhook.action === 'routing_status_set');
    const envelope = status?.body as Record<string, unknown>;
    let next = 0;
    const post = async () => {
      while (next < PROFILE.retentionJobs) {
        next += 1;
        expect(await stack.relay.forward(envelope)).toBe(200);
      }
    };
    await Promise.all(Array.from({ length: 20 }, post));
    const events = stack.queue(QUEUE_NAMES.livechatEvents);
    await waitForDrained(events, 120_000);
    const completed = await events.getCompletedCount();
    expect(completed).toBeLessThanOrEqual(QUEUE_RETENTION.completed.count);
    expect(completed).toBeLessThan(PROFILE.retentionJobs);
    // Four or five events per job went through the stream, trimmed to about 10 000.
    const length = await stack.redis.xlen(`${stack.prefix}:${QUEUE_NAMES.livechatEvents}:events`);
    expect(length).toBeGreaterThan(9_000);
    expect(length).toBeLessThanOrEqual(10_200);
    rows.expect({ actions: new Map() });
  }, 180_000);
});
