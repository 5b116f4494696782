import { once } from 'node:events';
import { request } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { FIXTURES, fixtureEnvelope } from '@nudge/livechat/testing';
import { type LivechatEventJob, QUEUE_NAMES } from '@nudge/queues';
import { connectRedis, createTestPrefix, deleteKeysWithPrefix } from '@nudge/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Queue, SECRET, send, startIngest } from './helpers.js';

const redis = connectRedis(inject('redisUrl'));
afterAll(() => redis.quit());

describe('SIGTERM', () => {
  it('stops accepting, finishes the request in flight, stores it and exits 0', async () => {
    const prefix = createTestPrefix();
    const ingest = await startIngest({ redisUrl: inject('redisUrl'), prefix });
    const envelope = fixtureEnvelope('incoming_event', { secret: SECRET });
    envelope.payload.event = { ...(FIXTURES.incoming_event.payload.event as object), id: 'TERM_1' };
    const body = Buffer.from(JSON.stringify(envelope));

    // A request whose headers the server has parsed (it answered 100 Continue) and whose body
    // is half sent: it is in flight when the signal arrives.
    const inFlight = new Promise<{ status: number; connection: string | undefined }>(
      (resolve, reject) => {
        const req = request(
          ingest.webhookUrl,
          {
            method: 'POST',
            headers: {
              'content-type': 'application/json',
              'content-length': body.length,
              expect: '100-continue',
            },
          },
          (res) => {
            res.resume();
            resolve({ status: res.statusCode ?? 0, connection: res.headers.connection });
          },
        );
        req.on('error', reject);
        req.on('continue', () => {
          req.write(body.subarray(0, 100));
          ingest.proc.kill('SIGTERM');
          void ingest.proc
            .waitForLine((line) => line.msg === 'shutting down: no new connections')
            .then(() => req.end(body.subarray(100)));
        });
        req.flushHeaders();
      },
    );
    const answered = await inFlight;
    expect(answered).toEqual({ status: 200, connection: 'close' });
    const { code } = await ingest.proc.exited;
    expect(code).toBe(0);
    await expect(send(`${ingest.url}/healthz`, { method: 'GET' })).rejects.toThrow(/ECONNREFUSED/);
    const queue = new Queue<LivechatEventJob>(QUEUE_NAMES.livechatEvents, {
      connection: redis,
      prefix,
    });
    expect(await queue.count()).toBe(1);
    await queue.close();
    await deleteKeysWithPrefix(redis, prefix);
    const order = ingest.proc.lines.map((line) => line.msg);
    expect(
      order.indexOf('in-flight requests finished'),
      `log order: ${order.join(' | ')}`,
    ).toBeLessThan(order.indexOf('bye'));
  });
});

describe('configuration', () => {
  it('refuses to start with every bad key listed', async () => {
    await expect(
      startIngest({
        redisUrl: 'http://wrong',
        prefix: 'a:b',
        env: { LIVECHAT_WEBHOOK_SECRETS: '', PORT: 'x' },
      }),
    ).rejects.toThrow(/REDIS_URL[\s\S]*QUEUE_PREFIX|QUEUE_PREFIX[\s\S]*REDIS_URL/);
  });
});

describe('a port in use', () => {
  it('stops at once with one line naming the port and PORT', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    try {
      const failed = startIngest({
        redisUrl: inject('redisUrl'),
        prefix: createTestPrefix(),
        env: { PORT: String(port) },
      });
      await expect(failed).rejects.toThrow(/exited \(1\)/);
      await expect(failed).rejects.toThrow(
        new RegExp(`"msg":"port ${port} is in use: set PORT to a free port"`),
      );
    } finally {
      server.close();
    }
  });
});
