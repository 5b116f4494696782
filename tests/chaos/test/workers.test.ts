import { customIdFor, normaliseKeyword } from '@nudge/rules';
import { waitFor } from '@nudge/testing';
import { describe, expect, it } from 'vitest';
import {
  customIdOf,
  exitOf,
  sendsPerCustomId,
  storedEventsWithCustomId,
  tagCustomId,
  waitForOnlyJobCompleted,
  workerThatCalled,
} from '../src/chaos-helpers.js';
import { QUEUE_NAMES } from '../src/chaos-stack.js';
import { chaosRows } from '../src/rows.js';

// Worker processes killed, stopped, cut off from Redis and made to crash while they act as
// the bot (matrix rows W1–W8); the sandbox's journal is the ground truth for "exactly once"
// (accepted send_event calls per custom_id), and every row ends with the invariants checked.

const KEYWORD = 'where is my order';
const rows = chaosRows();

describe('kill -9 of a worker mid-job (W1, W2)', () => {
  // LiveChat calls time out after 1 s, so the send lock of a dead worker expires after 5 s.
  const workerEnv = { LIVECHAT_TIMEOUT_MS: '1000' };

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
    const queue = stack.queue(QUEUE_NAMES.cannedResponses);
    const job = await waitForOnlyJobCompleted(queue, 20_000);
    // Recovered through the stalled check (the victim never retried it), then skipped.
    expect(job.stalledCounter).toBe(1);
    expect(job.returnvalue).toEqual({ outcome: 'skipped', reason: 'already sent' });
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
    const stack = await rows.start({
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
    stack.expectExit(worker);
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
    const stack = await rows.start({
      workers: 2,
      workerEnv: {
        LIVECHAT_TIMEOUT_MS: String(LIVECHAT_TIMEOUT_MS),
        SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
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
    const job = await waitForOnlyJobCompleted(stack.queue(QUEUE_NAMES.cannedResponses), 25_000);
    expect(job.stalledCounter).toBe(1);
    expect(job.returnvalue).toEqual({ outcome: 'skipped', reason: 'already sent' });
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
