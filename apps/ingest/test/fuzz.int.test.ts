import { WEBHOOK_ACTIONS } from '@nudge/livechat';
import { FIXTURES, fixtureEnvelope } from '@nudge/livechat/testing';
import { type LivechatEventJob, QUEUE_NAMES } from '@nudge/queues';
import { connectRedis, createTestPrefix, deleteKeysWithPrefix } from '@nudge/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Ingest, Queue, SECRET, send, startIngest, storedJobs } from './helpers.js';

const LIMIT = 4_096;
const ALLOWED = new Set([200, 400, 401, 413, 415]);
const redis = connectRedis(inject('redisUrl'));
const prefix = createTestPrefix();
let ingest: Ingest;

beforeAll(async () => {
  ingest = await startIngest({
    redisUrl: inject('redisUrl'),
    prefix,
    env: { WEBHOOK_BODY_LIMIT_BYTES: String(LIMIT), LOG_LEVEL: 'info' },
  });
});
afterAll(async () => {
  await ingest.stop();
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});

// Envelope-shaped objects: every field may be right, wrong-typed or missing, plus extra keys.
// The payload (when an object) records whether the body carried the real secret, so the
// stored jobs can be checked afterwards.
const envelopeLike = fc
  .record(
    {
      secret_key: fc.oneof(fc.constant(SECRET), fc.string(), fc.jsonValue()),
      action: fc.oneof(fc.constantFrom(...WEBHOOK_ACTIONS, 'agent_created'), fc.jsonValue()),
      organization_id: fc.oneof(fc.uuid(), fc.string(), fc.jsonValue()),
      webhook_id: fc.oneof(fc.string(), fc.jsonValue()),
      payload: fc.oneof(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue()),
      additional_data: fc.jsonValue(),
      __proto__: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .map((body) => {
    const signed = body.secret_key === SECRET;
    const payload = body.payload;
    if (payload !== null && typeof payload === 'object' && !Array.isArray(payload)) {
      return JSON.stringify({ ...body, payload: { ...payload, fuzz_signed: signed } });
    }
    return JSON.stringify(body);
  });

// Valid signed webhooks (a random event id each), so some are always stored and "never stored
// without the secret" is checked on real stored jobs: the fully random envelopes above are
// stored too rarely to count on (none at all in 2 of 5 full runs seen).
const signedWebhook = fc.string({ minLength: 1, maxLength: 40 }).map((eventId) => {
  const envelope = fixtureEnvelope('incoming_event', { secret: SECRET });
  const payload = envelope.payload as Record<string, unknown>;
  payload.event = { ...(FIXTURES.incoming_event.payload.event as object), id: eventId };
  payload.fuzz_signed = true;
  return JSON.stringify(envelope);
});

const bodies = fc.oneof(
  { arbitrary: envelopeLike, weight: 4 },
  { arbitrary: signedWebhook, weight: 1 },
  { arbitrary: fc.jsonValue().map((value) => JSON.stringify(value) ?? ''), weight: 2 },
  { arbitrary: fc.string({ unit: 'grapheme' }), weight: 1 },
  { arbitrary: fc.uint8Array({ maxLength: 512 }).map((bytes) => Buffer.from(bytes)), weight: 1 },
  { arbitrary: fc.string({ minLength: LIMIT + 1, maxLength: LIMIT * 2 }), weight: 1 },
);

const contentTypes = fc.oneof(
  { arbitrary: fc.constant('application/json'), weight: 8 },
  {
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      undefined,
    ),
    weight: 2,
  },
);

describe('arbitrary bodies', () => {
  it('are always answered 200/400/401/413/415 and never stored without the secret', async () => {
    const seen = new Set<number>();
    await fc.assert(
      fc.asyncProperty(bodies, contentTypes, async (body, contentType) => {
        const headers: Record<string, string> = contentType ? { 'content-type': contentType } : {};
        const reply = await send(ingest.webhookUrl, { body, headers });
        seen.add(reply.status);
        expect(ALLOWED.has(reply.status), `${reply.status} ${reply.body}`).toBe(true);
      }),
      { numRuns: 1_200 },
    );
    // Every class of answer was exercised, so the property was not vacuous.
    expect([...seen].sort()).toEqual([200, 400, 401, 413, 415]);

    const queue = new Queue<LivechatEventJob>(QUEUE_NAMES.livechatEvents, {
      connection: redis,
      prefix,
    });
    try {
      const jobs = await storedJobs(queue);
      expect(jobs.length).toBeGreaterThan(0);
      for (const job of jobs) {
        expect(job.data.envelope.payload.fuzz_signed).toBe(true);
      }
    } finally {
      await queue.close();
    }
    expect((await send(`${ingest.url}/readyz`, { method: 'GET' })).status).toBe(200);
  });
});
