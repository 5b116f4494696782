import { deriveDedupeKey } from '@nudge/queues';
import { waitFor } from '@nudge/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ChaosStack, QUEUE_NAMES, startChaosStack } from '../src/chaos-stack.js';
import { checkInvariants } from '../src/invariants.js';
import { expectedActions } from '../src/rows.js';

// The invariant checker itself: a stack broken on purpose in each way the checker watches for
// must be reported, each way in its own line; a checker that passes everything proves nothing.

let stack: ChaosStack;
beforeAll(async () => {
  stack = await startChaosStack({ workers: 2 });
  await stack.setBotStatus('accepting_chats');
}, 60_000);
afterAll(() => stack?.stop());

describe('the invariant checker', () => {
  it('reports a lost event, a duplicate, a missing and an unexpected message, a stuck job, a leaked key and a dead process', async () => {
    const { scenario, journal, faults } = stack.sandbox;
    const expected = expectedActions(stack);

    // A job that takes longer than the (lowered) bound: "stuck". The tag's whisper is acted on
    // in its route step (WORKER_ACT_INLINE, the default): the stuck job is that route job.
    stack.monitor.setBoundMs(1_000);
    const slow = faults.add({ action: 'get_chat', mode: 'delay', delayMs: 1_800, times: 1 });
    const sent = scenario.openChat();
    scenario.tag({ chatId: sent.chatId, tag: 'refund' });
    await stack.waitForBotEvents(1);
    faults.remove(slow.id);
    // Sent, but not expected: "unexpected". Expected, never sent: "missing".
    const never = scenario.openChat();
    const missing = expected.tag(never);
    // The same custom_id twice in LiveChat's chat: "duplicated".
    const [message] = stack.botEvents();
    scenario.injectEvent({
      chatId: sent.chatId,
      event: { type: 'message', text: 'again', custom_id: message?.customId ?? '' },
    });
    await stack.sandbox.idle();
    // An acknowledged webhook whose event vanished from Redis: "lost".
    const tagged = journal.webhooks().find((webhook) => webhook.action === 'thread_tagged');
    const envelope = tagged?.body as { organization_id: string; payload: Record<string, unknown> };
    const key = deriveDedupeKey({
      organizationId: envelope.organization_id,
      action: 'thread_tagged',
      payload: envelope.payload,
    });
    const slowJob = await waitFor(async () => {
      const job = await stack.queue(QUEUE_NAMES.livechatEvents).getJob(key);
      return job?.finishedOn ? job : undefined;
    });
    // It acted on the whisper itself, slowly.
    expect(slowJob.returnvalue).toMatchObject({
      acted: [{ queue: QUEUE_NAMES.cannedResponses, result: { outcome: 'sent' } }],
    });
    await stack.redis.del(
      `${stack.prefix}:${QUEUE_NAMES.livechatEvents}:${key}`,
      stack.keys.dedupe(key),
    );
    // A key nobody accounts for: "leaked". A worker that died unasked: "dead".
    await stack.redis.set(`${stack.prefix}:leaked`, 'x');
    const [worker] = stack.chaosWorkers;
    worker?.proc.kill('SIGKILL');
    await worker?.proc.exited;

    const report = await checkInvariants(stack, { actions: expected.actions });
    expect(report.violations).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          new RegExp(`^answered 200, not in Redis: ${key} \\(answers: 200\\)$`),
        ),
        `bot message sent more than once: ${message?.customId}`,
        expect.stringMatching(new RegExp(`^no bot message ${missing} .*nor a failed job$`)),
        `unexpected bot message ${message?.customId}`,
        expect.stringMatching(new RegExp(`^job livechat-events ${slowJob.id} active for \\d+ ms$`)),
        expect.stringMatching(new RegExp(`^1 key\\(s\\) with no TTL.*${stack.prefix}:leaked$`)),
        expect.stringMatching(
          new RegExp(`^process ${worker?.proc.child.pid} exited \\(SIGKILL\\)`),
        ),
      ]),
    );
    // Nothing else: the stuck line may come with others (any job slower than the lowered bound).
    expect(report.violations.filter((line) => !/ active for \d+ ms$/.test(line))).toHaveLength(6);
    expect(report.lost).toEqual([expect.stringMatching(new RegExp(`^${key} `))]);
    expect(report.duplicated).toEqual([message?.customId]);
  }, 60_000);
});
