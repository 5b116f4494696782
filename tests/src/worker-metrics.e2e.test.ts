import { waitFor } from '@nudge/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { PREFIX, waitForBotEventsIn, waitForFinishedJob } from './e2e-helpers.js';
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

/**
 * The value of the series `name{labels…}` in a Prometheus text exposition (other labels, e.g.
 * the registry's `service`, may be there too), or undefined when absent.
 */
const sample = (
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined => {
  for (const line of text.split('\n')) {
    const parsed = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (parsed?.[1] !== name) {
      continue;
    }
    const found = Object.fromEntries(
      [...(parsed[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) {
      return Number(parsed[3]);
    }
  }
  return undefined;
};
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
    const fault = stack.sandbox.faults.add({
      action: 'send_event',
      mode: 'error',
      errorType: 'validation',
      times: 1,
    });
    const refused = stack.sandbox.scenario.openChat({ agentIds: [agentId] });
    stack.sandbox.scenario.tag({
      chatId: refused.chatId,
      threadId: refused.threadId,
      tag: 'refund',
    });
    const failed = await waitForFinishedJob(stack, 'canned-responses', refused.chatId);
    expect(failed.failedReason).toBeDefined();
    stack.sandbox.faults.remove(fault.id);

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
            sample(scraped, 'nudge_jobs_total', { queue, outcome: 'sent', class: '' }) !==
            undefined,
        );
        return counted ? scraped : undefined;
      },
      { what: 'the sending jobs counted in the metrics' },
    );
    const jobs = (queue: string, outcome: string, cls = '') =>
      sample(text, 'nudge_jobs_total', { queue, outcome, class: cls });
    expect(jobs('canned-responses', 'sent')).toBe(1);
    expect(jobs('canned-responses', 'skipped', 'thread_inactive')).toBe(1);
    expect(jobs('canned-responses', 'failed', 'livechat_validation')).toBe(1);
    expect(jobs('idle-reply', 'sent')).toBe(1);
    expect(jobs('livechat-events', 'routed')).toBeGreaterThanOrEqual(7);
    expect(
      sample(text, 'nudge_job_duration_seconds_count', {
        queue: 'canned-responses',
        outcome: 'failed',
      }),
    ).toBe(1);
    expect(
      sample(text, 'nudge_livechat_call_errors_total', {
        action: 'send_event',
        type: 'validation',
      }),
    ).toBe(1);
    // The tag whisper, the idle nudge and the refused one.
    expect(
      sample(text, 'nudge_livechat_call_duration_seconds_count', { action: 'send_event' }),
    ).toBe(3);
    expect(sample(text, 'nudge_timer_lateness_seconds_count', { queue: 'idle-reply' })).toBe(1);
    expect(
      sample(text, 'nudge_livechat_events_skipped_total', { reason: 'schema_mismatch' }),
    ).toBeGreaterThanOrEqual(1);
  }, 60_000);
});
