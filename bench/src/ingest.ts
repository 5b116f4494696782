import { fileURLToPath } from 'node:url';
import { startNodeProcess, startRedisServer } from '@nudge/testing';
import autocannon from 'autocannon';
import { Redis } from 'ioredis';
import { createWorkload } from './workload.js';

const SECRET = 'bench-secret-0123456789';
const CONNECTIONS = 50;
const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const INGEST_MAIN = fileURLToPath(import.meta.resolve('@nudge/ingest/main'));

type Target = { key: string; label: string; entry: string; env?: Record<string, string> };
const TARGETS: Target[] = [
  {
    key: 'a',
    label: 'nudge ingest',
    entry: INGEST_MAIN,
    env: { QUEUE_PREFIX: 'bench', LIVECHAT_WEBHOOK_SECRETS: SECRET, HOST: '127.0.0.1' },
  },
  {
    key: 'b',
    label: 'bare express 5 (acks, stores nothing)',
    entry: here('./servers/bare-express.js'),
  },
  { key: 'c', label: 'express 5 + queue.add (naive)', entry: here('./servers/express-queue.js') },
  { key: 'd', label: 'node:http + queue.add (floor)', entry: here('./servers/http-queue.js') },
];

/** Waits until the server stops writing (the wait list stops growing for 200 ms). */
const settle = async (redis: Redis) => {
  let previous = -1;
  for (;;) {
    const now = await redis.dbsize();
    if (now === previous) {
      return;
    }
    previous = now;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
};

type Measured = {
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  ok: number;
};

const load = async (url: string, seconds: number): Promise<Measured> => {
  const next = createWorkload(SECRET);
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/livechat/webhooks',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({ ...request, body: next() }),
      },
    ],
  });
  return {
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors + result.timeouts,
    ok: result['2xx'],
  };
};

/**
 * `npm run bench -- ingest`: Nudge's webhook receiver against three baselines, one after the
 * other in this run, on one Redis (AOF everysec, noeviction). Reports ratios, not absolutes:
 * the machine is shared and noisy.
 */
export const benchIngest = async ({
  seconds,
  warmup,
  rounds,
}: {
  seconds: number;
  warmup: number;
  rounds: number;
}) => {
  const redisServer = await startRedisServer({ args: ['--maxmemory', '8gb'] });
  const redis = new Redis(redisServer.url);
  const results = new Map<string, Measured[]>();
  try {
    // Rounds interleave the servers, so a slow minute of the shared machine hits all of them.
    for (let round = 1; round <= rounds; round += 1) {
      for (const target of TARGETS) {
        const proc = startNodeProcess({
          entry: target.entry,
          env: { REDIS_URL: redisServer.url, PORT: '0', ...target.env },
        });
        try {
          const listening = await proc.waitForLine((line) => line.msg === 'listening');
          const url = `http://127.0.0.1:${String(listening.port)}`;
          await load(url, warmup);
          // The load stops with requests in flight: let the server finish them, then flush.
          await settle(redis);
          await redis.flushall();
          const measured = await load(url, seconds);
          results.set(target.key, [...(results.get(target.key) ?? []), measured]);
          if (target.key === 'a') {
            // Every 200 stood for a stored job. Each load stops with up to one request per
            // connection in flight: stored, but its 200 never counted — at the end of this
            // window, and at the end of the warm-up (stored after the flush).
            await settle(redis);
            const stored = await redis.llen('bench:livechat-events:wait');
            if (stored < measured.ok || stored > measured.ok + 2 * CONNECTIONS) {
              throw new Error(`nudge answered ${measured.ok} × 200 but stored ${stored} jobs`);
            }
          }
          process.stdout.write(
            `  round ${round} ${target.key}: ${Math.round(measured.rps)} req/s\n`,
          );
        } finally {
          proc.kill('SIGTERM');
          await proc.exited;
        }
        await redis.flushall();
      }
    }
  } finally {
    redis.disconnect();
    await redisServer.stop();
  }
  return results;
};

const median = (values: number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[middle] ?? Number.NaN)
    : ((sorted[middle - 1] ?? Number.NaN) + (sorted[middle] ?? Number.NaN)) / 2;
};

/** Prints medians over the rounds, and the ratios of the medians. */
export const printIngest = (results: Map<string, Measured[]>) => {
  const row = (cells: string[]) =>
    cells.map((cell, i) => (i === 0 ? cell.padEnd(44) : cell.padStart(9))).join('');
  console.log(row(['server (median of rounds)', 'req/s', 'p50 ms', 'p99 ms', 'non-2xx', 'errors']));
  const of = (key: string, pick: (m: Measured) => number) =>
    median((results.get(key) ?? []).map(pick));
  for (const target of TARGETS) {
    if (results.has(target.key)) {
      const sum = (pick: (m: Measured) => number) =>
        (results.get(target.key) ?? []).reduce((total, m) => total + pick(m), 0);
      console.log(
        row([
          `(${target.key}) ${target.label}`,
          String(Math.round(of(target.key, (m) => m.rps))),
          String(of(target.key, (m) => m.p50)),
          String(of(target.key, (m) => m.p99)),
          String(sum((m) => m.non2xx)),
          String(sum((m) => m.errors)),
        ]),
      );
    }
  }
  const rps = (key: string) => of(key, (m) => m.rps);
  const ac = rps('a') / rps('c');
  const ad = rps('a') / rps('d');
  const p99 = of('a', (m) => m.p99);
  const perRound = (results.get('a') ?? []).map(
    (m, i) => m.rps / (results.get('d')?.[i]?.rps ?? Number.NaN),
  );
  console.log('');
  console.log(`a/c = ${ac.toFixed(2)}  (goal ≥ 2)     ${ac >= 2 ? 'met' : 'NOT met'}`);
  console.log(
    `a/d = ${ad.toFixed(2)}  (goal ≥ 0.8)   ${ad >= 0.8 ? 'met' : 'NOT met'}   per round: ${perRound.map((r) => r.toFixed(2)).join(', ')}`,
  );
  console.log(`a p99 = ${p99} ms  (goal ≤ 10 ms)  ${p99 <= 10 ? 'met' : 'NOT met'}`);
};
