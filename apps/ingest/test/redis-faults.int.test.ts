import { FIXTURES, fixtureEnvelope } from '@nudge/livechat/testing';
import { type LivechatEventJob, QUEUE_NAMES } from '@nudge/queues';
import {
  connectRedis,
  createTestPrefix,
  type RedisServer,
  startRedisServer,
  waitFor,
} from '@nudge/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type Ingest,
  postWebhook,
  Queue,
  SECRET,
  send,
  startIngest,
  storedJobs,
} from './helpers.js';

let counter = 0;
const uniqueEvent = () => {
  counter += 1;
  const envelope = fixtureEnvelope('incoming_event', { secret: SECRET });
  envelope.payload.event = {
    ...(FIXTURES.incoming_event.payload.event as object),
    id: `FAULT_${counter}`,
  };
  return envelope;
};

// Each test owns its Redis so it can kill, pause and restart it.
let server: RedisServer;
let ingest: Ingest | undefined;
const prefix = createTestPrefix();

beforeEach(async () => {
  server = await startRedisServer();
});
afterEach(async () => {
  await ingest?.stop();
  ingest = undefined;
  await server.stop();
});

const readyz = async (base: Ingest) => (await send(`${base.url}/readyz`, { method: 'GET' })).status;

describe('Redis killed (kill -9) and restarted', () => {
  it('answers 503 while Redis is gone, 200 again after, and loses nothing it accepted', async () => {
    ingest = await startIngest({ redisUrl: server.url, prefix });
    const accepted: string[] = [];
    for (let i = 0; i < 20; i += 1) {
      const reply = await postWebhook(ingest, uniqueEvent());
      expect(reply.status).toBe(200);
      accepted.push(reply.json().job_id as string);
    }

    await server.kill('SIGKILL');
    const started = Date.now();
    const during = await postWebhook(ingest, uniqueEvent());
    expect(during.status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(await readyz(ingest)).toBe(503);

    await server.restart();
    // The producer reconnects within its ≤ 500 ms backoff; LiveChat's retries land after that.
    const again = await waitFor(
      async () => {
        const reply = await postWebhook(ingest as Ingest, uniqueEvent());
        return reply.status === 200 ? reply : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'a 200 after the restart' },
    );
    accepted.push(again.json().job_id as string);
    expect(await readyz(ingest)).toBe(200);

    const redis = connectRedis(server.url);
    const queue = new Queue<LivechatEventJob>(QUEUE_NAMES.livechatEvents, {
      connection: redis,
      prefix,
    });
    try {
      const ids = (await storedJobs(queue)).map((job) => job.id);
      expect(ids.sort()).toEqual(accepted.sort());
    } finally {
      await queue.close();
      redis.disconnect();
    }
    // One line each way for the whole outage, however many reconnects it took.
    const { lines } = ingest.proc;
    const said = (msg: string) => lines.filter((line) => line.msg === msg);
    expect(said('redis connection lost: answering 503 until it is back')).toHaveLength(1);
    expect(said('redis available again')).toHaveLength(1);
  });
});

describe('Redis paused (SIGSTOP)', () => {
  it('answers 503 within 1.5 s, and the retry after SIGCONT stores exactly one job', async () => {
    ingest = await startIngest({ redisUrl: server.url, prefix });
    expect((await postWebhook(ingest, uniqueEvent())).status).toBe(200);

    const envelope = uniqueEvent();
    server.pause();
    const started = Date.now();
    const reply = await postWebhook(ingest, envelope);
    const elapsed = Date.now() - started;
    server.resume();
    expect(reply.status).toBe(503);
    expect(elapsed).toBeLessThan(1_500);

    // LiveChat retries the same delivery: the write that timed out may have landed anyway,
    // and the retry must not add a second job.
    const retried = await waitFor(
      async () => {
        const retry = await postWebhook(ingest as Ingest, envelope);
        return retry.status === 200 ? retry : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 100, what: 'the retry to succeed' },
    );
    const redis = connectRedis(server.url);
    const queue = new Queue<LivechatEventJob>(QUEUE_NAMES.livechatEvents, {
      connection: redis,
      prefix,
    });
    try {
      const jobs = await storedJobs(queue);
      expect(jobs).toHaveLength(2);
      expect(jobs.map((job) => job.id)).toContain(retried.json().job_id);
    } finally {
      await queue.close();
      redis.disconnect();
    }
  });
});

describe('Redis down when ingest starts', () => {
  it('starts anyway, is not ready and answers 503, then serves once Redis appears', async () => {
    await server.kill('SIGKILL');
    ingest = await startIngest({ redisUrl: server.url, prefix });
    expect(await readyz(ingest)).toBe(503);
    const started = Date.now();
    expect((await postWebhook(ingest, uniqueEvent())).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(1_500);

    await server.restart();
    await waitFor(async () => (await readyz(ingest as Ingest)) === 200, {
      timeoutMs: 10_000,
      what: 'readiness after Redis started',
    });
    expect((await postWebhook(ingest, uniqueEvent())).status).toBe(200);
  });
});

describe('Redis with an evicting policy', () => {
  it('refuses to start, saying why', async () => {
    const redis = connectRedis(server.url);
    await redis.config('SET', 'maxmemory-policy', 'allkeys-lru');
    redis.disconnect();
    await expect(startIngest({ redisUrl: server.url, prefix })).rejects.toThrow(
      /exited \(1\)[\s\S]*allkeys-lru/,
    );
  });

  it('exits when Redis comes back with an evicting policy', async () => {
    ingest = await startIngest({ redisUrl: server.url, prefix });
    // A failover to a misconfigured replacement at the same address.
    await server.restart({ args: ['--maxmemory-policy', 'volatile-lru'] });
    const { code } = await ingest.proc.exited;
    expect(code).toBe(1);
    const fatal = ingest.proc.lines.find((line) => line.level === 60);
    expect(fatal?.msg).toMatch(/maxmemory-policy is "volatile-lru".*noeviction/);
    ingest = undefined;
  });
});
