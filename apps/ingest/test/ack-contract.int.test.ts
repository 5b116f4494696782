import { WEBHOOK_ACTIONS } from '@nudge/livechat';
import { FIXTURES, fixtureEnvelope } from '@nudge/livechat/testing';
import { type LivechatEventJob, QUEUE_NAMES } from '@nudge/queues';
import { connectRedis, createTestPrefix, deleteKeysWithPrefix, waitFor } from '@nudge/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { type Ingest, postWebhook, Queue, SECRET, send, startIngest } from './helpers.js';

const OLD_SECRET = 'rotating-out-secret-1a2b';
const LIMIT = 64 * 1024;
const redis = connectRedis(inject('redisUrl'));
const prefix = createTestPrefix();
const queue = new Queue<LivechatEventJob>(QUEUE_NAMES.livechatEvents, {
  connection: redis,
  prefix,
});
let ingest: Ingest;

beforeAll(async () => {
  ingest = await startIngest({
    redisUrl: inject('redisUrl'),
    prefix,
    env: {
      LIVECHAT_WEBHOOK_SECRETS: `${SECRET},${OLD_SECRET}`,
      WEBHOOK_BODY_LIMIT_BYTES: String(LIMIT),
    },
  });
});
afterAll(async () => {
  await ingest.stop();
  await queue.close();
  await deleteKeysWithPrefix(redis, prefix);
  await redis.quit();
});
beforeEach(async () => {
  await queue.obliterate({ force: true });
});

let counter = 0;
/** A fresh incoming_event (unique event id) signed with `secret`. */
const uniqueEvent = (secret = SECRET) => {
  counter += 1;
  const envelope = fixtureEnvelope('incoming_event', { secret });
  envelope.payload.event = {
    ...(FIXTURES.incoming_event.payload.event as object),
    id: `EVT_${counter}`,
  };
  return envelope;
};

describe('valid webhooks', () => {
  it('answers 200 only with the job stored, secret stripped, named by the action', async () => {
    const envelope = uniqueEvent();
    const reply = await postWebhook(ingest, envelope);
    expect(reply.status).toBe(200);
    const jobId = reply.json().job_id as string;
    // The reply came after the write: the job is there without waiting.
    const job = await queue.getJob(jobId);
    expect(job?.name).toBe('incoming_event');
    const { secret_key: _, ...withoutSecret } = envelope;
    expect(job?.data.envelope).toEqual(withoutSecret);
    expect(job?.data.organizationId).toBe(envelope.organization_id);
    expect(JSON.stringify(job?.data)).not.toContain(SECRET);
  });

  it.each(WEBHOOK_ACTIONS)('stores %s', async (action) => {
    const reply = await postWebhook(ingest, fixtureEnvelope(action, { secret: SECRET }));
    expect(reply.status).toBe(200);
    expect(reply.json().status).toBe('stored');
    expect((await queue.getJob(reply.json().job_id as string))?.name).toBe(action);
  });

  it('accepts the next and the previous secret during a rotation', async () => {
    expect((await postWebhook(ingest, uniqueEvent(SECRET))).status).toBe(200);
    expect((await postWebhook(ingest, uniqueEvent(OLD_SECRET))).status).toBe(200);
    expect(await queue.count()).toBe(2);
  });

  it('stores a valid envelope whose payload our schema rejects (the worker fails it visibly)', async () => {
    const drifted = fixtureEnvelope('incoming_event', {
      secret: SECRET,
      payload: { event: { type: 'message', text: 'no id, no author' } },
    });
    const reply = await postWebhook(ingest, drifted);
    expect(reply.status).toBe(200);
    expect((await queue.getJob(reply.json().job_id as string))?.data.envelope.payload).toEqual(
      drifted.payload,
    );
  });

  it('answers 200 to an unknown action without storing it, and counts it', async () => {
    const reply = await postWebhook(ingest, {
      ...fixtureEnvelope('incoming_event', { secret: SECRET }),
      action: 'incoming_rich_message_postback',
    });
    expect(reply.status).toBe(200);
    expect(reply.json()).toEqual({ status: 'ignored' });
    expect(await queue.count()).toBe(0);
    const metrics = (await send(`${ingest.url}/metrics`, { method: 'GET' })).body;
    expect(metrics).toMatch(
      /nudge_webhooks_total\{[^}]*action="other",outcome="ignored"[^}]*\} [1-9]/,
    );
  });
});

describe('duplicates', () => {
  it('stores one job for the same event delivered twice, even under another webhook_id', async () => {
    const envelope = uniqueEvent();
    const first = await postWebhook(ingest, envelope);
    const second = await postWebhook(ingest, { ...envelope, webhook_id: 'another-registration' });
    expect([first.status, second.status]).toEqual([200, 200]);
    expect(second.json().job_id).toBe(first.json().job_id);
    expect(await queue.count()).toBe(1);
  });

  it('stores one job for 50 simultaneous copies', async () => {
    const envelope = uniqueEvent();
    const replies = await Promise.all(
      Array.from({ length: 50 }, () => postWebhook(ingest, envelope)),
    );
    expect(new Set(replies.map((reply) => reply.status))).toEqual(new Set([200]));
    expect(await queue.count()).toBe(1);
  });

  it('stores two jobs for two events', async () => {
    await postWebhook(ingest, uniqueEvent());
    await postWebhook(ingest, uniqueEvent());
    expect(await queue.count()).toBe(2);
  });
});

describe('bad input', () => {
  const rejects = async (
    reply: Promise<{ status: number; json: () => Record<string, unknown> }>,
    status: number,
  ) => {
    const answered = await reply;
    expect(answered.status).toBe(status);
    expect(answered.json().message).toEqual(expect.any(String));
    expect(await queue.count()).toBe(0);
    return answered.json();
  };

  it('401 for a wrong, missing or non-string secret', async () => {
    await rejects(postWebhook(ingest, uniqueEvent('wrong-secret')), 401);
    const { secret_key: _, ...unsigned } = uniqueEvent();
    await rejects(postWebhook(ingest, unsigned), 401);
    await rejects(postWebhook(ingest, { ...uniqueEvent(), secret_key: [SECRET] }), 401);
  });

  it('400 for a body that is not JSON or not an object', async () => {
    await rejects(send(ingest.webhookUrl, { body: '{"secret_key": "x",' }), 400);
    await rejects(send(ingest.webhookUrl, { body: '[1,2]' }), 400);
    await rejects(send(ingest.webhookUrl, { body: 'null' }), 400);
    await rejects(send(ingest.webhookUrl, { body: '' }), 400);
  });

  it('400 with the reason for an invalid envelope', async () => {
    const { payload: _, ...noPayload } = uniqueEvent();
    const body = await rejects(postWebhook(ingest, noPayload), 400);
    expect(body.message).toMatch(/^payload: /);
    const { organization_id: _o, ...noOrg } = uniqueEvent();
    expect((await rejects(postWebhook(ingest, noOrg), 400)).message).toMatch(/organization_id/);
  });

  it('400 for JSON nested absurdly deep, without harming the process', async () => {
    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const body = `{"secret_key":"${SECRET}","action":"incoming_event","organization_id":"o","payload":{"x":${deep}}}`;
    await rejects(send(ingest.webhookUrl, { body }), 400);
    expect((await postWebhook(ingest, uniqueEvent())).status).toBe(200);
  });

  it('415 for a body that is not declared JSON', async () => {
    await rejects(
      send(ingest.webhookUrl, {
        body: JSON.stringify(uniqueEvent()),
        headers: { 'content-type': 'text/plain' },
      }),
      415,
    );
    await rejects(
      send(ingest.webhookUrl, { body: JSON.stringify(uniqueEvent()), headers: {} }),
      415,
    );
  });

  it('413 for a body over the limit, declared or streamed', async () => {
    const big = { ...uniqueEvent(), padding: 'x'.repeat(LIMIT) };
    await rejects(postWebhook(ingest, big), 413);
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const streamed = send(ingest.webhookUrl, {
      headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      chunks: [Buffer.from('{"a":"'), ...Array.from({ length: 8 }, () => chunk), Buffer.from('"}')],
    });
    await rejects(streamed, 413);
    expect((await postWebhook(ingest, uniqueEvent())).status).toBe(200);
  });

  it('keeps __proto__ keys as data, polluting nothing', async () => {
    const envelope = JSON.parse(
      JSON.stringify(uniqueEvent()).replace(
        '"payload":{',
        '"payload":{"__proto__":{"polluted":true},',
      ),
    );
    const reply = await send(ingest.webhookUrl, {
      body: JSON.stringify({ ...envelope, constructor: { x: 1 } }),
    });
    expect(reply.status).toBe(200);
    const job = await queue.getJob(reply.json().job_id as string);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(job?.data.envelope.payload.chat_id).toBe(FIXTURES.incoming_event.payload.chat_id);
  });

  it('405 for another method on the webhook path, 404 elsewhere', async () => {
    expect((await send(ingest.webhookUrl, { method: 'GET' })).status).toBe(405);
    expect((await send(`${ingest.url}/nowhere`, { method: 'POST', body: '{}' })).status).toBe(404);
  });
});

describe('probes and metrics', () => {
  it('healthz and readyz answer 200 with Redis up', async () => {
    expect((await send(`${ingest.url}/healthz`, { method: 'GET' })).json()).toEqual({
      status: 'ok',
    });
    const ready = await send(`${ingest.url}/readyz`, { method: 'GET' });
    expect([ready.status, ready.json()]).toEqual([200, { status: 'ready' }]);
  });

  it('metrics count webhooks by action and outcome and observe ack latency', async () => {
    await postWebhook(ingest, fixtureEnvelope('thread_tagged', { secret: SECRET }));
    await postWebhook(ingest, uniqueEvent('nope'));
    const metrics = await waitFor(async () => {
      const text = (await send(`${ingest.url}/metrics`, { method: 'GET' })).body;
      return text.includes('outcome="unauthorized"') ? text : undefined;
    });
    expect(metrics).toMatch(
      /nudge_webhooks_total\{[^}]*action="thread_tagged",outcome="stored"[^}]*\} [1-9]/,
    );
    expect(metrics).toMatch(/nudge_webhook_ack_seconds_count\{[^}]*status="200"[^}]*\} [1-9]/);
    expect(metrics).toMatch(
      /nudge_webhook_ack_seconds_bucket\{le="0.01",[^}]*status="401"[^}]*\} [1-9]/,
    );
  });
});

describe('secrets', () => {
  it('never reach Redis or the logs', async () => {
    await postWebhook(ingest, uniqueEvent());
    await postWebhook(ingest, fixtureEnvelope('incoming_chat', { secret: SECRET }));
    await postWebhook(ingest, { ...uniqueEvent(), action: 'agent_created' });
    await postWebhook(ingest, { ...uniqueEvent(), payload: 'not an object' });
    expect(await queue.count()).toBe(2);
    // Read every value under the prefix in plain form (DUMP may compress long strings).
    let everything = '';
    for (const key of await redis.keys(`${prefix}:*`)) {
      const type = await redis.type(key);
      const value =
        type === 'hash'
          ? await redis.hgetall(key)
          : type === 'string'
            ? await redis.get(key)
            : type === 'list'
              ? await redis.lrange(key, 0, -1)
              : type === 'zset'
                ? await redis.zrange(key, '0', '-1')
                : type === 'stream'
                  ? await redis.xrange(key, '-', '+')
                  : await redis.smembers(key);
      everything += JSON.stringify(value);
    }
    // The stored webhooks are in what was read, and the secret is not.
    expect(everything).toContain('Where is my order');
    expect(everything).not.toContain(SECRET);
    expect(ingest.proc.output()).not.toContain(SECRET);
    expect(ingest.proc.output()).toContain('webhook stored');
  });
});
