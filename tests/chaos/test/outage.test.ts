import { RECONCILE_JOB } from '@nudge/queues';
import { waitFor } from '@nudge/testing';
import { botEventsIn, elapse, PREFIX, runCli, waitForBotEventsIn } from '@nudge/tests/e2e-helpers';
import { type Stack, startStack } from '@nudge/tests/stack';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PROFILE } from '../src/profile.js';

// An outage longer than LiveChat's retries (item 3 of the chaos matrix's outage row): ingest is
// down while the sandbox delivers, and the sandbox gives up on every webhook (as LiveChat does
// after its few retries; the full profile uses LiveChat's own timings and a 90 s outage). When ingest
// is back it sees the gap in its heartbeat and the workers reconcile from LiveChat's state:
// every action due happens once; what was handled before the outage is not done again; a
// second sweep on demand (`nudge reconcile`) adds nothing.

const { outage } = PROFILE;

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    sharedRedisUrl: inject('redisUrl'),
    sandbox: { delivery: outage.delivery },
    ingestEnv: { RECONCILE_AFTER_GAP_SECONDS: String(outage.gapSeconds) },
    workerEnv: { RECONCILE_CALLS_PER_SECOND: '100' },
  });
  await stack.setBotStatus('accepting_chats');
}, 30_000);
afterAll(() => stack?.stop());

/** Every queue drained: nothing waiting, active or delayed (timers fired). */
const drained = () =>
  waitFor(
    async () => {
      for (const name of [
        'livechat-events',
        'idle-reply',
        'canned-responses',
        'rating-reactions',
      ]) {
        const counts = await stack.queue(name).getJobCounts('waiting', 'active', 'delayed');
        if ((counts.waiting ?? 0) + (counts.active ?? 0) + (counts.delayed ?? 0) > 0) {
          return false;
        }
      }
      return true;
    },
    { timeoutMs: 30_000, what: 'every queue drained' },
  );

describe('an outage longer than LiveChat retries', () => {
  it(
    'ingest down while LiveChat delivers: once back, every due action happens once',
    async () => {
      const { agentId } = stack.sandbox.credentials;
      const { scenario } = stack.sandbox;
      // Handled before the outage.
      const before = scenario.openChat({ agentIds: [agentId] });
      scenario.tag({ chatId: before.chatId, threadId: before.threadId, tag: 'refund' });
      await waitForBotEventsIn(stack, before.chatId, PREFIX.tag);

      await stack.killIngest();
      const down = Date.now();
      const deliveredBefore = stack.sandbox.journal.deliveries().length;
      const waiting = scenario.openChat({ message: 'Hello? Anyone there?', agentIds: [agentId] });
      const tagged = scenario.openChat({ agentIds: [agentId] });
      scenario.tag({ chatId: tagged.chatId, threadId: tagged.threadId, tag: 'refund' });
      const rated = scenario.openChat({ agentIds: [agentId] });
      scenario.rate({ chatId: rated.chatId, score: 1 });
      const answered = scenario.openChat({ message: 'Hi', agentIds: [agentId] });
      scenario.agentMessage({ chatId: answered.chatId, agentId, text: 'Hello, how can I help?' });
      // LiveChat tries each webhook a few times, then gives up on it.
      await stack.sandbox.idle();
      const lost = stack.sandbox.journal.deliveries().slice(deliveredBefore);
      expect(lost.length).toBeGreaterThan(0);
      expect(lost.some((delivery) => delivery.ok)).toBe(false);
      // The outage itself lasts its length, and longer than the gap that counts as one (test
      // input, not a wait for anything to happen).
      await elapse(
        Math.max(0, Math.max(outage.seconds, outage.gapSeconds + 0.5) * 1000 - (Date.now() - down)),
      );

      await stack.restartIngest();
      await waitForBotEventsIn(stack, waiting.chatId, PREFIX.idle);
      await waitForBotEventsIn(stack, tagged.chatId, PREFIX.tag);
      await waitForBotEventsIn(stack, rated.chatId, PREFIX.rating);
      const sweep = await waitFor(
        async () =>
          (await stack.queue('livechat-events').getCompleted()).find(
            (job) => job.name === RECONCILE_JOB,
          ),
        { what: 'the reconcile job completed' },
      );
      expect(sweep.returnvalue).toMatchObject({ outcome: 'reconciled', organizations: 1 });
      expect((sweep.returnvalue as { chats: number }).chats).toBeGreaterThanOrEqual(5);
      expect(sweep.data.sinceMs).toBeLessThanOrEqual(down);

      await drained();
      expect(botEventsIn(stack, waiting.chatId, PREFIX.idle)).toHaveLength(1);
      expect(botEventsIn(stack, tagged.chatId, PREFIX.tag)).toHaveLength(1);
      expect(botEventsIn(stack, rated.chatId, PREFIX.rating)).toHaveLength(1);
      expect(botEventsIn(stack, answered.chatId, PREFIX.idle)).toHaveLength(0);
      expect(botEventsIn(stack, before.chatId, PREFIX.tag)).toHaveLength(1);
      const total = stack.botEvents().length;

      // A second sweep, on demand: the same webhooks again, all known, nothing new.
      const { code, output } = await runCli(
        ['reconcile', '--since', '1h', '--rate', '100'],
        stack.workerEnv,
      );
      expect(code, output).toBe(0);
      expect(output).toMatch(
        new RegExp(
          `organization ${stack.organizationId}: \\d+ active chat\\(s\\), \\d+ webhook\\(s\\) stored again`,
        ),
      );
      await drained();
      // Stored under the ids of jobs Redis still holds, most add nothing at all.
      const after = (await stack.queue('livechat-events').getCompleted(0, 500)).filter(
        (job) => job.timestamp > (sweep.finishedOn ?? 0) && job.name !== RECONCILE_JOB,
      );
      for (const job of after) {
        const outcome = job.returnvalue as { outcome: string; reason?: string; intents?: string[] };
        // A copy of an event already handled; or one no rule acts on (the bot's own nudge, sent
        // after the first sweep read the chat; the bot joining, delivered live).
        const inert =
          /^duplicate delivery/.test(outcome.reason ?? '') ||
          (outcome.outcome === 'routed' &&
            (outcome.intents ?? []).every((intent) => intent === 'remember-users'));
        expect(inert, `${job.name}: ${JSON.stringify(outcome)}`).toBe(true);
      }
      expect(await stack.queue('livechat-events').getFailedCount()).toBe(0);
      expect(stack.botEvents()).toHaveLength(total);
    },
    (outage.seconds + 120) * 1000,
  );
});
