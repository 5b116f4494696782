import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import type { LivechatEventJob } from '@nudge/queues';
import { type NodeProcess, startNodeProcess } from '@nudge/testing';
import { Queue } from 'bullmq';

export const SECRET = 'test-secret-4f9c2a7e1b';
const MAIN = fileURLToPath(new URL('../dist/main.js', import.meta.url));

export type Ingest = {
  url: string;
  webhookUrl: string;
  proc: NodeProcess;
  stop: () => Promise<number | null>;
};

/** Starts the built ingest as a real process on a free port and waits until it listens. */
export const startIngest = async ({
  redisUrl,
  prefix,
  env = {},
}: {
  redisUrl: string;
  prefix: string;
  env?: Record<string, string>;
}): Promise<Ingest> => {
  const proc = startNodeProcess({
    entry: MAIN,
    env: {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      PORT: '0',
      HOST: '127.0.0.1',
      LIVECHAT_WEBHOOK_SECRETS: SECRET,
      LOG_LEVEL: 'debug',
      ...env,
    },
  });
  const listening = await proc.waitForLine((line) => line.msg === 'listening');
  const url = `http://127.0.0.1:${String(listening.port)}`;
  return {
    url,
    webhookUrl: `${url}/livechat/webhooks`,
    proc,
    stop: async () => {
      proc.kill('SIGTERM');
      return (await proc.exited).code;
    },
  };
};

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

type Reply = { status: number; body: string; json: () => Record<string, unknown> };

/** A raw HTTP request (no fetch: tests need exact control of headers and streamed bodies). */
export const send = (
  url: string,
  {
    method = 'POST',
    body,
    headers = { 'content-type': 'application/json' },
    chunks,
  }: {
    method?: string;
    body?: string | Buffer;
    headers?: Record<string, string>;
    /** Sent with chunked transfer encoding instead of `body`. */
    chunks?: Buffer[];
  } = {},
): Promise<Reply> =>
  new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(parts).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text, json: () => JSON.parse(text) });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    if (chunks) {
      for (const chunk of chunks) {
        req.write(chunk);
      }
      req.end();
    } else {
      req.end(body);
    }
  });

/** Posts a JSON webhook body. */
export const postWebhook = (ingest: Ingest, body: unknown): Promise<Reply> =>
  send(ingest.webhookUrl, { body: JSON.stringify(body) });

/** The stored jobs of the events queue, all states. */
export const storedJobs = async (queue: Queue<LivechatEventJob>) =>
  queue.getJobs(['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized']);

export { Queue };
