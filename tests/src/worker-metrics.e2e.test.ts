import { waitFor } from '@nudge/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  failedTagWhisper,
  metricSample,
  PREFIX,
  waitForBotEventsIn,
  waitForFinishedJob,
} from './e2e-helpers.js';
import { type Stack, startStack } from './stack.js';

// A worker's /healthz, /readyz and /metrics after a run with sent, skipped and failed jobs, a
// fired idle timer, LiveChat call errors and an event that doesn't parse: each series there,
// with the right count.

let stack: Stack;
let base: string;
beforeAll(async () => {
  stack = await startStack({ sharedRedisUrl: inject('redisUrl') });
  await stack.setBotStatus('accepting_chats');
  const [worker] = stack.workers;
  const ready = await worker?.waitForLine((line) => line.msg === 'worker ready');
  base = `http://127.0.0.1:${String(ready?.metricsPort)}`;
}, 30_000);
afterAll(() => stack?.stop());

const scrape = async () => (await fetch(`${base}/metrics`)).text();

describe('worker health and metrics', () => {
  it('answers /healthz and /readyz', async () => {
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });

  it('counts sent, skipped and failed jobs, timer lateness, LiveChat calls and skipped events', async () => {
    const { agentId } = stack.sandbox.credentials;
    // Sent: a tag's suggestions, and (5 s later) an idle nudge, fired by its timer.
    const sent = stack.sandbox.scenario.openChat({ message: 'Hello?', agentIds: [agentId] });
    stack.sandbox.scenario.tag({ chatId: sent.chatId, threadId: sent.threadId, tag: 'refund' });
    await waitForBotEventsIn(stack, sent.chatId, PREFIX.tag);

    // Skipped: a tag on a closed thread.
    const closed = stack.sandbox.scenario.openChat({ agentIds: [agentId] });
    stack.sandbox.scenario.close({ chatId: closed.chatId, agentId });
    stack.sandbox.scenario.tag({ chatId: closed.chatId, threadId: closed.threadId, tag: 'refund' });
    await waitForFinishedJob(stack, 'canned-responses', closed.chatId);

    // Failed: LiveChat refuses the whisper (validation: no retries).
    const { job: failed } = await failedTagWhisper(stack);
    expect(failed.failedReason).toBeDefined();

    // An event get_chat returns that doesn't parse (a file without its fields).
    stack.sandbox.scenario.injectEvent({
      chatId: sent.chatId,
      event: { type: 'file', author_id: agentId, visibility: 'agents' },
    });
    await waitForBotEventsIn(stack, sent.chatId, PREFIX.idle);

    // A message arrives before its job's outcome is counted (the count follows the return of
    // the job), so wait for the outcomes of both sending jobs, not for the messages alone.
    const text = await waitFor(
      async () => {
        const scraped = await scrape();
        const counted = ['idle-reply', 'canned-responses'].every(
          (queue) =>
            metricSample(scraped, 'nudge_jobs_total', { queue, outcome: 'sent', class: '' }) !==
            undefined,
        );
        return counted ? scraped : undefined;
      },
      { what: 'the sending jobs counted in the metrics' },
    );
    const jobs = (queue: string, outcome: string, cls = '') =>
      metricSample(text, 'nudge_jobs_total', { queue, outcome, class: cls });
    expect(jobs('canned-responses', 'sent')).toBe(1);
    expect(jobs('canned-responses', 'skipped', 'thread_inactive')).toBe(1);
    expect(jobs('canned-responses', 'failed', 'livechat_validation')).toBe(1);
    expect(jobs('idle-reply', 'sent')).toBe(1);
    expect(jobs('livechat-events', 'routed')).toBeGreaterThanOrEqual(7);
    expect(
      metricSample(text, 'nudge_job_duration_seconds_count', {
        queue: 'canned-responses',
        outcome: 'failed',
      }),
    ).toBe(1);
    // The refused whisper was tried twice: by the route step, which handed it to its queue,
    // then by its job there, which failed (counted once, above).
    expect(
      metricSample(text, 'nudge_inline_handoffs_total', {
        queue: 'canned-responses',
        class: 'livechat_validation',
      }),
    ).toBe(1);
    expect(
      metricSample(text, 'nudge_livechat_call_errors_total', {
        action: 'send_event',
        type: 'validation',
      }),
    ).toBe(2);
    // The tag whisper, the idle nudge and the refused one's two attempts.
    expect(
      metricSample(text, 'nudge_livechat_call_duration_seconds_count', { action: 'send_event' }),
    ).toBe(4);
    expect(metricSample(text, 'nudge_timer_lateness_seconds_count', { queue: 'idle-reply' })).toBe(
      1,
    );
    expect(
      metricSample(text, 'nudge_livechat_events_skipped_total', { reason: 'schema_mismatch' }),
    ).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
