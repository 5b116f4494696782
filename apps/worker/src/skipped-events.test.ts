import { Writable } from 'node:stream';
import { createLogger, createMetricsRegistry } from '@nudge/telemetry';
import { describe, expect, it } from 'vitest';
import { createSkippedEventReporter, EVENTS_SKIPPED_METRIC } from './skipped-events.js';

describe('createSkippedEventReporter', () => {
  it('logs a warning per skipped event and counts them by reason', async () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk, _encoding, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    const registry = createMetricsRegistry({ service: 'worker' });
    const report = createSkippedEventReporter({
      registry,
      log: createLogger({ service: 'worker', destination }),
    });
    const skipped = {
      action: 'get_chat',
      chatId: 'C',
      threadId: 'T',
      index: 1,
      id: 'T_2',
      type: 'file',
      reason: 'schema_mismatch' as const,
      issues: [{ path: ['url'], message: 'Invalid input' }],
    };
    report(skipped);
    report(skipped);
    report({ ...skipped, id: undefined, type: undefined, reason: 'malformed' });

    expect(lines[0]).toMatchObject({
      level: 40,
      msg: 'LiveChat event skipped: it does not match our schema',
      action: 'get_chat',
      chatId: 'C',
      threadId: 'T',
      eventId: 'T_2',
      eventType: 'file',
      reason: 'schema_mismatch',
      issues: 'url: Invalid input',
    });
    const metric = await registry.getSingleMetricAsString(EVENTS_SKIPPED_METRIC);
    expect(metric).toContain(
      `${EVENTS_SKIPPED_METRIC}{reason="schema_mismatch",service="worker"} 2`,
    );
    expect(metric).toContain(`${EVENTS_SKIPPED_METRIC}{reason="malformed",service="worker"} 1`);
  });
});
