import { customIdFor, normaliseKeyword } from '@nudge/rules';
import { type LogLine, waitFor } from '@nudge/testing';
import type { JobType } from 'bullmq';
import { describe, expect, it } from 'vitest';
import {
  ACTING,
  customIdOf,
  exitOf,
  sendsPerCustomId,
  storedEventsWithCustomId,
  tagCustomId,
  waitForRecoveredTagJob,
  workerThatCalled,
} from '../src/chaos-helpers.js';
import { QUEUE_NAMES } from '../src/chaos-stack.js';
import { chaosRows, expectedActions } from '../src/rows.js';

// Worker processes killed, stopped, cut off from Redis and made to crash while they act as
// the bot (matrix rows W1–W8); the sandbox's journal is the ground truth for "exactly once"
// (accepted send_event calls per custom_id), and every row ends with the invariants checked.

const KEYWORD = 'where is my order';
const rows = chaosRows();

// Each row about a stalled job's recovery runs twice (ACTING): with the worker acting in the
// route step (the default: the route job stalls, is re-run, and acts again under the same
// guards, or hands the whisper to its queue while the dead worker's chat turn lasts), and
// through the rule queue (WORKER_ACT_INLINE=false: the canned-responses job itself stalls).
describe.each(ACTING)('kill -9 of a worker mid-job (W1, W2), acting $acting', (acting) => {
  // LiveChat calls time out after 1 s, so the chat lock of a dead worker expires after 5 s.
  const workerEnv = { LIVECHAT_TIMEOUT_MS: '1000', ...acting.env };

  it('after LiveChat stored the message (response held): another worker recovers the job and does not send again', async () => {
    const stack = await rows.start({ workers: 2, workerEnv });
    const workers = stack.chaosWorkers;
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
    expect((await stack.kill(victim.proc, 'SIGKILL')).signal).toBe('SIGKILL');

    const customId = tagCustomId(stack, chatId, threadId, 'refund');
    expect(customIdOf(held.request)).toBe(customId);
    const { stalled, run } = await waitForRecoveredTagJob(stack, acting, chatId, 20_000);
    // Recovered through the stalled check (the victim never retried it), then skipped.
    expect(stalled.stalledCounter).toBe(1);
    expect(run.returnvalue).toEqual({ outcome: 'skipped', reason: 'already sent' });
    expect(sendsPerCustomId(stack)).toEqual(new Map([[customId, 1]]));
    expect(storedEventsWithCustomId(stack.sandbox, chatId, customId)).toHaveLength(1);
  }, 40_000);

  it('before send_event (get_chat hanging): another worker recovers the job and sends once', async () => {
    const stack = await rows.start({ workers: 2, workerEnv });
    const workers = stack.chaosWorkers;
    await stack.setBotStatus('accepting_chats');
    const hang = stack.sandbox.faults.add({ action: 'get_chat', mode: 'hang', times: 1 });

    const { chatId, threadId } = stack.sandbox.scenario.openChat();
    stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
    await stack.sandbox.journal.waitForRequest((call) => call.action === hang.action, 15_000);
    const victim = workerThatCalled(workers, 'get_chat');
    await stack.kill(victim.proc, 'SIGKILL');

    const customId = tagCustomId(stack, chatId, threadId, 'refund');
    const { stalled, run } = await waitForRecoveredTagJob(stack, acting, chatId, 20_000);
    expect(stalled.stalledCounter).toBe(1);
    expect(run.returnvalue).toMatchObject({ outcome: 'sent', botId: stack.botId });
    expect(sendsPerCustomId(stack)).toEqual(new Map([[customId, 1]]));
    expect(storedEventsWithCustomId(stack.sandbox, chatId, customId)).toHaveLength(1);
    // The survivor sent it; the victim never got that far.
    expect(victim.tap.actions).not.toContain('send_event');
    expect(workers.find((worker) => worker !== victim)?.tap.actions).toContain('send_event');
  }, 40_000);
});

describe('a route job re-run after its worker died, the chat free again (W1, W2)', () => {
  // Only a route job's first run acts itself. Its re-run hands the rule jobs to their queues
  // even when nothing else stands in the way (the dead worker's chat turn has run out), so a job
  // that kills its worker fails in its rule's queue, where it is replayed, rather than take the
  // webhook's route job, and with it the webhook's other rules, down with it.
  it('hands the whisper to its queue, where it is sent once', async () => {
    const stack = await rows.start({ workers: 1, workerEnv: { LIVECHAT_TIMEOUT_MS: '1000' } });
    await stack.setBotStatus('accepting_chats');
    const hang = stack.sandbox.faults.add({ action: 'get_chat', mode: 'hang', times: 1 });

    const { chatId, threadId } = stack.sandbox.scenario.openChat();
    stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
    await stack.sandbox.journal.waitForRequest((call) => call.action === hang.action, 15_000);
    const [victim] = stack.chaosWorkers;
    if (!victim) {
      throw new Error('no worker');
    }
    await stack.kill(victim.proc, 'SIGKILL');
    // The dead worker's chat lock expires (5 × the LiveChat timeout) before anyone re-runs it.
    const lock = stack.keys.chatLock(stack.organizationId, chatId);
    await waitFor(async () => (await stack.redis.exists(lock)) === 0, {
      timeoutMs: 10_000,
      what: "the dead worker's chat lock to expire",
    });
    await stack.startWorkers(1);

    const customId = tagCustomId(stack, chatId, threadId, 'refund');
    const inline = ACTING[0];
    const { stalled, run } = await waitForRecoveredTagJob(stack, inline, chatId, 20_000);
    expect(stalled.stalledCounter).toBe(1);
    expect(stalled.returnvalue).toEqual({ outcome: 'routed', intents: ['suggest-for-tag'] });
    expect(await stack.queue(QUEUE_NAMES.cannedResponses).getJob(run.id ?? '')).toBeDefined();
    expect(run.returnvalue).toMatchObject({ outcome: 'sent', botId: stack.botId });
    expect(sendsPerCustomId(stack)).toEqual(new Map([[customId, 1]]));
  }, 40_000);
});

// The jobs a worker holds when the signal comes are route jobs acting on the whispers, or
// (through the rule queue) the whispers' canned-responses jobs: both must be finished or left
// to be recovered.
describe.each(ACTING)('SIGTERM (W3, W4), acting $acting', (acting) => {
  it('with active jobs: finishes them, exits 0 within the deadline, nothing stalled or duplicated', async () => {
    const JOBS = 10;
    const SHUTDOWN_TIMEOUT_MS = 5_000;
    const stack = await rows.start({
      workers: 1,
      workerEnv: {
        LIVECHAT_TIMEOUT_MS: '5000',
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        ...acting.env,
      },
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
    const canned = stack.queue(QUEUE_NAMES.cannedResponses);
    const events = stack.queue(QUEUE_NAMES.livechatEvents);
    const STATES = ['completed', 'failed', 'active', 'waiting', 'delayed'] as const;
    // The jobs acting on the whispers: the tags' route jobs (the events queue has other jobs,
    // the chats' other webhooks), or the canned-responses jobs.
    const whisperJobs = async (states: readonly JobType[]) =>
      acting.inline
        ? (await events.getJobs([...states])).filter((job) => job.name === 'thread_tagged')
        : await canned.getJobs([...states]);
    expect(await whisperJobs(['active'])).toHaveLength(JOBS);
    expect(sendRequests().every((call) => call.status === undefined)).toBe(true);

    const [worker] = stack.workers;
    if (!worker) {
      throw new Error('no worker');
    }
    const signalledAt = Date.now();
    stack.expectExit(worker);
    worker.kill('SIGTERM');
    const exit = await exitOf(worker, signalledAt);
    expect(exit.code).toBe(0);
    expect(exit.afterMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);
    await worker.waitForLine((line) => line.msg === 'active jobs finished', 0);

    // Completed by that worker before it exited: no other worker exists to take them over.
    const jobs = await whisperJobs(STATES);
    expect(jobs).toHaveLength(JOBS);
    for (const job of jobs) {
      expect(await job.getState()).toBe('completed');
      expect(job.stalledCounter).toBe(0);
      expect(job.attemptsStarted).toBe(1);
      expect(job.returnvalue).toMatchObject(
        acting.inline
          ? {
              outcome: 'routed',
              acted: [{ queue: QUEUE_NAMES.cannedResponses, result: { outcome: 'sent' } }],
            }
          : { outcome: 'sent' },
      );
    }
    if (acting.inline) {
      // Acted on in the route step, none handed to the queue.
      expect(await canned.getJobs([...STATES])).toEqual([]);
    }
    expect(sendsPerCustomId(stack)).toEqual(new Map(chats.map(({ customId }) => [customId, 1])));
  }, 40_000);

  it('with a hung LiveChat call: exits 1 at the deadline; another worker recovers the job once LiveChat does', async () => {
    const SHUTDOWN_TIMEOUT_MS = 500;
    const LIVECHAT_TIMEOUT_MS = 2_000;
    const stack = await rows.start({
      workers: 2,
      workerEnv: {
        LIVECHAT_TIMEOUT_MS: String(LIVECHAT_TIMEOUT_MS),
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
        ...acting.env,
      },
    });
    const workers = stack.chaosWorkers;
    await stack.setBotStatus('accepting_chats');
    const hang = stack.sandbox.faults.add({ action: 'send_event', mode: 'hang' });

    const { chatId, threadId } = stack.sandbox.scenario.openChat();
    stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
    await stack.sandbox.journal.waitForRequest((call) => call.action === hang.action, 15_000);
    const victim = workerThatCalled(workers, 'send_event');
    const signalledAt = Date.now();
    stack.expectExit(victim.proc);
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
    const { stalled, run } = await waitForRecoveredTagJob(stack, acting, chatId, 25_000);
    expect(stalled.stalledCounter).toBe(1);
    expect(run.returnvalue).toEqual({ outcome: 'skipped', reason: 'already sent' });
    expect(sendsPerCustomId(stack)).toEqual(new Map([[customId, 1]]));
    expect(storedEventsWithCustomId(stack.sandbox, chatId, customId)).toHaveLength(1);
  }, 45_000);
});

describe('two rules joining the bot to one chat at once', () => {
  // Both jobs read the chat before the bot joined. Without a per-chat turn, the whisper would
  // re-add the bot visible to agents only between the nudge's join and its send, and LiveChat
  // would refuse the nudge. act-once takes the chat's lock: the rules of one chat take turns.
  it('a whisper joining agents-only does not make the idle nudge fail', async () => {
    // Calls are held for seconds below; no timeout may end them first.
    const stack = await rows.start({ workers: 1, workerEnv: { LIVECHAT_TIMEOUT_MS: '10000' } });
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

describe.each(ACTING)('event loop blocked (W5), acting $acting', (acting) => {
  // SIGSTOP freezes the worker as a long block of its event loop would: its locks run out,
  // another worker takes the job over, and then it wakes up in the middle of acting.
  it('frozen between reading the chat and sending: the job is re-run elsewhere, one message', async () => {
    // LiveChat calls time out after 1 s: the chat's turn of a frozen worker ends after 5 s.
    const stack = await rows.start({
      workers: 2,
      workerEnv: { LIVECHAT_TIMEOUT_MS: '1000', ...acting.env },
    });
    await stack.setBotStatus('accepting_chats');
    // LiveChat adds the bot, and answers 200 ms later: the worker is frozen in between, so
    // when it wakes up the answer is there and its next step is send_event.
    const join = stack.sandbox.faults.add({
      action: 'add_user_to_chat',
      mode: 'hold',
      holdMs: 200,
      times: 1,
    });
    const chat = stack.sandbox.scenario.openChat();
    stack.sandbox.scenario.tag({ chatId: chat.chatId, tag: 'refund' });
    await stack.sandbox.journal.waitForRequest((call) => call.action === join.action, 15_000);
    const frozen = workerThatCalled(stack.chaosWorkers, 'add_user_to_chat');
    frozen.proc.kill('SIGSTOP');

    // The other worker re-runs the stalled job once the frozen one's chat turn expired.
    const customId = tagCustomId(stack, chat.chatId, chat.threadId, 'refund');
    const [sent] = await stack.waitForBotEvents(1, (event) => event.customId === customId, 20_000);
    const other = stack.chaosWorkers.find((worker) => worker !== frozen);
    expect(other?.tap.actions).toContain('send_event');
    const { stalled, run } = await waitForRecoveredTagJob(stack, acting, chat.chatId, 20_000);
    expect(stalled.stalledCounter).toBe(1);
    expect(run.returnvalue).toMatchObject({ outcome: 'sent', botId: stack.botId });
    // The take-over is what alerts are made of: the other worker says that job stalled.
    await other?.proc.waitForLine(
      (line) =>
        String(line.msg).startsWith('job stalled') &&
        line.queue === stalled.queueName &&
        line.jobId === stalled.id,
    );
    const linesBefore = frozen.proc.lines.length;
    frozen.proc.kill('SIGCONT');

    // The frozen worker wakes up inside its LiveChat call: the call's own timeout fires before
    // the answer is read, so it gives the whisper up (in the route step: it hands it to its
    // queue, where that job exists already) and sends nothing; finishing the stalled job, it
    // finds its lock gone.
    const after = (line: LogLine) => frozen.proc.lines.indexOf(line) >= linesBefore;
    const gaveUp = await frozen.proc.waitForLine(
      (line) =>
        after(line) &&
        line.jobId === run.id &&
        (line.msg === 'job attempt failed' ||
          line.msg === 'job done' ||
          String(line.msg).startsWith('acting in the route step failed')),
      15_000,
    );
    expect(gaveUp.msg).toBe(
      acting.inline
        ? 'acting in the route step failed: the job goes to its queue'
        : 'job attempt failed',
    );
    await frozen.proc.waitForLine(
      (line) => after(line) && JSON.stringify(line).includes(`Missing lock for job ${stalled.id}`),
      15_000,
    );
    expect(frozen.tap.actions).not.toContain('send_event');
    expect(sendsPerCustomId(stack)).toEqual(new Map([[customId, 1]]));
    expect(storedEventsWithCustomId(stack.sandbox, chat.chatId, customId)).toHaveLength(1);
    expect(sent?.botId).toBe(stack.botId);
  }, 60_000);
});

describe('a poison job (W6)', () => {
  it('kills every worker that starts it: after its stalls it fails, visibly; other jobs flow', async () => {
    const stack = await rows.start({
      workers: 2,
      dashboard: true,
      workerEnv: { LIVECHAT_TIMEOUT_MS: '1000' },
    });
    const expected = expectedActions(stack);
    await stack.setBotStatus('accepting_chats');
    const poison = stack.sandbox.scenario.openChat();
    // A supervisor: whichever worker reads the poison chat dies (as if the handler crashed the
    // process), and a fresh worker takes its place.
    let kills = 0;
    const restarts: Promise<unknown>[] = [];
    const supervise = (entry: { action: string; request: unknown }) => {
      const chatId = (entry.request as { chat_id?: string }).chat_id;
      if (entry.action !== 'get_chat' || chatId !== poison.chatId) {
        return;
      }
      const victim = stack.chaosWorkers.find(
        ({ proc, tap }) =>
          proc.child.exitCode === null &&
          proc.child.signalCode === null &&
          tap.actions.some((action, i) => action === 'get_chat' && tap.chats[i] === chatId),
      );
      if (victim) {
        kills += 1;
        restarts.push(stack.kill(victim.proc, 'SIGKILL').then(() => stack.startWorkers(1)));
      }
    };
    stack.sandbox.journal.events.on('request', supervise);
    stack.sandbox.scenario.tag({ chatId: poison.chatId, tag: 'refund' });
    expected.tag(poison);
    // Once it crashed a worker, other chats are tagged and whispered to meanwhile (after the
    // first crash: a job is only ever on one of the crashing workers, and stalls once at most).
    await waitFor(() => kills > 0, { timeoutMs: 15_000, what: 'the first crash' });
    for (let i = 0; i < 6; i += 1) {
      const chat = stack.sandbox.scenario.openChat();
      stack.sandbox.scenario.tag({ chatId: chat.chatId, tag: 'refund' });
      expected.tag(chat);
    }

    const queue = stack.queue(QUEUE_NAMES.cannedResponses);
    const failed = await waitFor(
      async () => (await queue.getFailed()).find((job) => job.data.chatId === poison.chatId),
      { timeoutMs: 45_000, intervalMs: 100, what: 'the poison job to fail' },
    );
    stack.sandbox.journal.events.off('request', supervise);
    await Promise.all(restarts);
    expect(failed.failedReason).toMatch(/stalled more than allowable limit|started more than/);
    expect(kills).toBeGreaterThanOrEqual(2);
    await stack.waitForBotEvents(6, (event) => event.chatId !== poison.chatId, 30_000);
    expect(stack.botEvents((event) => event.chatId === poison.chatId)).toEqual([]);
    // The dashboard shows it, with its reason, under its chat.
    const page = await (await fetch(`${stack.dashboard?.url}/chats?chat=${poison.chatId}`)).text();
    expect(page).toContain(failed.id ?? '');
    expect(page).toContain('stalled more than allowable limit');
    rows.expect({ actions: expected.actions });
  }, 90_000);
});

describe('per-chat ordering with four workers (W8)', () => {
  it('five customer messages at once per chat: answered and closed chats get no nudge, the rest one each', async () => {
    const stack = await rows.start({ workers: 4 });
    const expected = expectedActions(stack);
    await stack.setBotStatus('accepting_chats');
    const { scenario, credentials } = stack.sandbox;
    const agentId = credentials.agentId;
    for (let i = 0; i < 4; i += 1) {
      for (const ending of ['answered', 'closed', 'waiting'] as const) {
        const chat = scenario.openChat({ agentIds: [agentId] });
        let last = '';
        for (let n = 0; n < 5; n += 1) {
          const text = ending === 'waiting' && n % 2 === 1 ? `${KEYWORD}? (${n})` : `Hello (${n})`;
          last = scenario.customerMessage({ chatId: chat.chatId, text }).eventId;
        }
        if (ending === 'answered') {
          scenario.agentMessage({ chatId: chat.chatId, agentId, text: 'On it!' });
        } else if (ending === 'closed') {
          scenario.close({ chatId: chat.chatId, agentId });
        } else {
          expected.idle(chat, last);
          expected.keyword(chat, KEYWORD);
        }
      }
    }
    rows.expect({ actions: expected.actions });
    await stack.waitForBotEvents(expected.actions.size, undefined, 30_000);
  }, 60_000);
});
