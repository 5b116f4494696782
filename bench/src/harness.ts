import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FIXTURE_BOT_ID,
  FIXTURE_CUSTOMER_ID,
  FIXTURE_ORGANIZATION_ID,
} from '@nudge/livechat/testing';
import {
  findFreePort,
  type NodeProcess,
  type RedisServer,
  startNodeProcess,
  startRedisServer,
} from '@nudge/testing';
import { Redis } from 'ioredis';
import { customerEventIdOf, monotonicMs, threadIdOf } from './chats.js';

export const SECRET = 'bench-secret-0123456789';
/** The organization every bench acts in. */
export const ORGANIZATION = FIXTURE_ORGANIZATION_ID;
/** A second organization whose idle timers wait an hour: the idle-timer bench's backlog. */
export const SLOW_ORGANIZATION = '6a1f0c2e-bench-4e5f-9a8b-00000000b10c';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const INGEST_MAIN = fileURLToPath(import.meta.resolve('@nudge/ingest/main'));
const WORKER_MAIN = fileURLToPath(import.meta.resolve('@nudge/worker/main'));

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns something other than undefined. */
export const until = async <T>(
  what: string,
  check: () => Promise<T | undefined> | T | undefined,
  { timeoutMs = 30_000, everyMs = 50 }: { timeoutMs?: number; everyMs?: number } = {},
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) {
      return value;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    }
    await sleep(everyMs);
  }
};

// ───────────────────────────── CPU ─────────────────────────────

const TICKS_PER_SECOND = 100;

/** CPU time (user + system, every thread) a process has used so far, in ms. */
export const cpuMs = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces: the fields start after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
};

/** CPU ms of each pid since the returned function was made. */
export const cpuMeter = (pids: Record<string, number[]>) => {
  const read = () =>
    Object.fromEntries(
      Object.entries(pids).map(([name, list]) => [
        name,
        list.reduce((sum, pid) => sum + cpuMs(pid), 0),
      ]),
    );
  const start = read();
  return (): Record<string, number> => {
    const now = read();
    return Object.fromEntries(
      Object.keys(pids).map((name) => [name, (now[name] ?? 0) - (start[name] ?? 0)]),
    );
  };
};

// ───────────────────────────── load ─────────────────────────────

/** `uptime`'s three load averages. */
export const loadAverage = (): string =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');

// ───────────────────────────── Redis ─────────────────────────────

export type BenchRedis = {
  server: RedisServer;
  url: string;
  /** The bench's own connection (never used by the processes under test). */
  client: Redis;
  pid: number;
  flush: () => Promise<void>;
  stop: () => Promise<void>;
};

/**
 * A redis-server of the bench's own on a free port: no snapshots, AOF fsynced every second,
 * noeviction, hz 100 (the arguments of @nudge/testing's Redis, which are these), 2 GB.
 */
export const startBenchRedis = async (): Promise<BenchRedis> => {
  const server = await startRedisServer({ args: ['--maxmemory', '2gb'] });
  const client = new Redis(server.url, { maxRetriesPerRequest: null });
  const info = await client.info('server');
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  return {
    server,
    url: server.url,
    client,
    pid,
    flush: async () => {
      await client.flushall();
      await client.config('RESETSTAT');
    },
    stop: async () => {
      client.disconnect();
      await server.stop();
    },
  };
};

export const redisVersion = async (redis: Redis): Promise<string> =>
  /redis_version:(\S+)/.exec(await redis.info('server'))?.[1] ?? '?';

// ───────────────────────────── HTTP ─────────────────────────────

const agent = new Agent({ keepAlive: true, maxSockets: 256 });

type HttpAnswer = { status: number; body: string };

/** One HTTP request over the bench's keep-alive agent. */
export const http = (
  url: string,
  { method = 'GET', body }: { method?: string; body?: string } = {},
): Promise<HttpAnswer> =>
  new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers:
          body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });

const getJson = async <T>(url: string): Promise<T> => JSON.parse((await http(url)).body) as T;

const waitReady = (url: string, what: string, proc: NodeProcess) =>
  Promise.race([
    until(
      `${what} to be ready`,
      async () => ((await http(url).catch(() => undefined))?.status === 200 ? true : undefined),
      { timeoutMs: 30_000, everyMs: 50 },
    ),
    proc.exited.then(({ code, signal }) => {
      throw new Error(`${what} exited (${code ?? signal})`);
    }),
  ]).catch((err: Error) => {
    throw new Error(`${err.message}; its output:\n${proc.output()}`);
  });

// ───────────────────────────── webhooks ─────────────────────────────

const envelope = (
  organizationId: string,
  action: string,
  payload: Record<string, unknown>,
  additional: Record<string, unknown> = {},
) =>
  JSON.stringify({
    webhook_id: 'b2f0c7d9a1e34f5c8d7e6f5a4b3c2d1e',
    secret_key: SECRET,
    action,
    organization_id: organizationId,
    payload,
    additional_data: additional,
  });

/** thread_tagged `refund`: Nudge whispers the tag's suggestions at once. */
export const tagWebhook = (chatId: string, organizationId = ORGANIZATION): string =>
  envelope(organizationId, 'thread_tagged', {
    chat_id: chatId,
    thread_id: threadIdOf(chatId),
    tag: 'refund',
  });

/** incoming_event: a customer's message, which (re)starts the chat's idle timer. */
export const customerMessageWebhook = (
  chatId: string,
  createdAtMs: number,
  organizationId = ORGANIZATION,
): string =>
  envelope(
    organizationId,
    'incoming_event',
    {
      chat_id: chatId,
      thread_id: threadIdOf(chatId),
      event: {
        id: customerEventIdOf(chatId),
        created_at: new Date(createdAtMs).toISOString(),
        type: 'message',
        text: 'Hello? Anyone there?',
        author_id: FIXTURE_CUSTOMER_ID,
        visibility: 'all',
      },
    },
    { chat_presence_user_ids: [FIXTURE_CUSTOMER_ID, FIXTURE_BOT_ID] },
  );

const botAcceptingWebhook = (organizationId: string) =>
  envelope(organizationId, 'routing_status_set', {
    agent_id: FIXTURE_BOT_ID,
    status: 'accepting chats',
  });

/** Posts a webhook; resolves with the status. */
export const postWebhook = async (url: string, body: string): Promise<number> =>
  (await http(url, { method: 'POST', body })).status;

/** Posts every body, `concurrency` at a time (closed loop: for preloading, not for latency). */
export const postAll = async (url: string, bodies: readonly string[], concurrency = 32) => {
  let next = 0;
  let failed = 0;
  const lane = async () => {
    while (next < bodies.length) {
      const body = bodies[next] as string;
      next += 1;
      if ((await postWebhook(url, body)) !== 200) {
        failed += 1;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  if (failed > 0) {
    throw new Error(`${failed} of ${bodies.length} preloaded webhooks were refused`);
  }
};

export type OpenLoopResult = {
  /** When the first webhook was sent (wall clock, ms). */
  startedAtWall: number;
  /** chat id → when its webhook was sent (monotonic ms). */
  sentAt: Map<string, number>;
  non200: number;
  errors: number;
};

/**
 * Open loop: sends `rate` webhooks per second for `seconds`, on schedule whatever the answers
 * (a slow server gets more requests in flight, never fewer sent). `make(n, nowWallMs)` gives
 * the n-th webhook's chat and body. Resolves once every answer is in.
 */
export const openLoop = async ({
  url,
  rate,
  seconds,
  make,
}: {
  url: string;
  rate: number;
  seconds: number;
  make: (n: number, wallMs: number) => { chatId: string; body: string };
}): Promise<OpenLoopResult> => {
  const total = Math.round(rate * seconds);
  const sentAt = new Map<string, number>();
  const answers: Promise<void>[] = [];
  let non200 = 0;
  let errors = 0;
  const startedAtWall = Date.now();
  const start = monotonicMs();
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((monotonicMs() - start) * rate) / 1000) + 1);
      while (sent < due) {
        const { chatId, body } = make(sent, Date.now());
        sent += 1;
        sentAt.set(chatId, monotonicMs());
        answers.push(
          postWebhook(url, body).then(
            (status) => {
              if (status !== 200) {
                non200 += 1;
              }
            },
            () => {
              errors += 1;
            },
          ),
        );
      }
      if (sent < total) {
        setTimeout(tick, 1);
      } else {
        resolve();
      }
    };
    tick();
  });
  await Promise.all(answers);
  return { startedAtWall, sentAt, non200, errors };
};

// ───────────────────────────── fake LiveChat ─────────────────────────────

export type SentEvent = { chatId: string; at: number; wallAt: number; customId: string };

export type FakeLivechat = {
  url: string;
  pid: number;
  reset: () => Promise<void>;
  stats: () => Promise<{ calls: Record<string, number>; sent: number }>;
  sent: () => Promise<SentEvent[]>;
  /** Waits until `count` send_events arrived since the last reset. */
  waitForSent: (count: number, timeoutMs?: number) => Promise<void>;
  stop: () => Promise<void>;
};

export const startFakeLivechat = async (): Promise<FakeLivechat> => {
  const proc = startNodeProcess({ entry: here('./servers/fake-livechat.js'), env: { PORT: '0' } });
  const listening = await proc.waitForLine((line) => line.msg === 'listening');
  const url = `http://127.0.0.1:${String(listening.port)}`;
  const stats = () =>
    getJson<{ calls: Record<string, number>; sent: number }>(`${url}/bench/stats`);
  return {
    url,
    pid: proc.child.pid ?? 0,
    reset: async () => {
      await http(`${url}/bench/reset`, { method: 'POST' });
    },
    stats,
    sent: () => getJson<SentEvent[]>(`${url}/bench/sent`),
    waitForSent: async (count, timeoutMs = 60_000) => {
      await until(
        `${count} send_event calls`,
        async () => ((await stats()).sent >= count ? true : undefined),
        { timeoutMs, everyMs: 20 },
      );
    },
    stop: () => stopProcess(proc),
  };
};

// ───────────────────────────── pipelines ─────────────────────────────

let profiling = false;
const nudgeWorkerEnv: Record<string, string> = {};

/** A setting for every Nudge worker process started from now on (`--worker-env`). */
export const setNudgeWorkerEnv = (key: string, value: string): void => {
  nudgeWorkerEnv[key] = value;
};

/**
 * Every process started from now on writes a V8 CPU profile into `dir` when it stops (so they
 * are stopped with SIGTERM, which lets them exit, rather than SIGKILL).
 */
export const profileProcesses = (dir: string): void => {
  profiling = true;
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${dir}`;
};

const stopProcess = async (proc: NodeProcess) => {
  // Measurements are taken by then: nothing is lost by not draining.
  proc.kill(profiling ? 'SIGTERM' : 'SIGKILL');
  await proc.exited;
};

export type RunningProcess = { name: string; proc: NodeProcess; pid: number; metricsUrl?: string };

/** The naive pipeline's one queue. */
export const NAIVE_QUEUE = 'naive';

export type Pipeline = {
  kind: 'nudge' | 'naive';
  /** Where webhooks go (until `stopReceiver`). */
  webhookUrl: string;
  receiver: RunningProcess | undefined;
  workers: RunningProcess[];
  /** Starts one more worker process and waits until it takes jobs. */
  addWorker: () => Promise<RunningProcess>;
  /** Stops the receiver (the workers keep running). */
  stopReceiver: () => Promise<void>;
  stop: () => Promise<void>;
};

export type RulesOptions = {
  /** idle-reply's afterSeconds in ORGANIZATION (SLOW_ORGANIZATION waits an hour). */
  afterSeconds?: number;
};

/** The rules file of the benches: the tag `refund` has suggestions, no keywords. */
const writeRules = async ({ afterSeconds = 5 }: RulesOptions): Promise<string> => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-rules-'));
  const path = join(dir, 'rules.yaml');
  const organization = {
    bot: { id: FIXTURE_BOT_ID, secret: 'env:BENCH_BOT_SECRET' },
    pat: { accountId: 'bench-account', token: 'env:BENCH_PAT' },
  };
  // JSON is YAML.
  await writeFile(
    path,
    JSON.stringify({
      livechat: { apiVersion: '3.6', clientId: 'bench-client' },
      defaults: {
        idleReply: { afterSeconds, message: 'Thanks for waiting (bench)' },
        cannedResponses: {
          byTag: { refund: ['Refunds take 3–5 days.', 'Your order number?'] },
          byKeyword: {},
        },
      },
      organizations: {
        [ORGANIZATION]: organization,
        [SLOW_ORGANIZATION]: { ...organization, idleReply: { afterSeconds: 3_600 } },
      },
    }),
  );
  return path;
};

/**
 * A started pipeline's handle: the receiver can be stopped on its own (the workers keep
 * running); `stop` stops whatever still runs, then `cleanUp`.
 */
const pipelineOf = (
  kind: Pipeline['kind'],
  webhookUrl: string,
  receiver: RunningProcess,
  workers: RunningProcess[],
  addWorker: Pipeline['addWorker'],
  cleanUp: () => Promise<void> = async () => undefined,
): Pipeline => {
  const pipeline: Pipeline = {
    kind,
    webhookUrl,
    receiver,
    workers,
    addWorker,
    stopReceiver: async () => {
      if (pipeline.receiver) {
        await stopProcess(pipeline.receiver.proc);
        pipeline.receiver = undefined;
      }
    },
    stop: async () => {
      await Promise.all(
        [...workers, ...(pipeline.receiver ? [pipeline.receiver] : [])].map((p) =>
          stopProcess(p.proc),
        ),
      );
      await cleanUp();
    },
  };
  return pipeline;
};

type StartPipelineOptions = {
  redisUrl: string;
  livechatUrl: string;
  /** Worker processes to start now (more with `addWorker`). */
  workers?: number;
  /** Another Redis URL for the receiver or the workers (a counting proxy). */
  receiverRedisUrl?: string;
  workerRedisUrl?: string;
} & RulesOptions;

/**
 * Nudge as deployed: ingest and N worker processes (LOG_LEVEL=warn, defaults otherwise),
 * against the fake LiveChat. Its bot is told accepting chats by a routing_status_set webhook in
 * each organization, as LiveChat would, so the status gate reads it from Redis.
 */
export const startNudge = async ({
  redisUrl,
  livechatUrl,
  workers = 1,
  receiverRedisUrl = redisUrl,
  workerRedisUrl = redisUrl,
  ...rules
}: StartPipelineOptions): Promise<Pipeline> => {
  const rulesPath = await writeRules(rules);
  const common = { QUEUE_PREFIX: 'nudge', LOG_LEVEL: 'warn' };
  const started: RunningProcess[] = [];
  const port = await findFreePort();
  const ingestProc = startNodeProcess({
    entry: INGEST_MAIN,
    env: {
      ...common,
      REDIS_URL: receiverRedisUrl,
      PORT: String(port),
      HOST: '127.0.0.1',
      LIVECHAT_WEBHOOK_SECRETS: SECRET,
    },
  });
  try {
    const ingest: RunningProcess = {
      name: 'ingest',
      proc: ingestProc,
      pid: ingestProc.child.pid ?? 0,
    };
    await waitReady(`http://127.0.0.1:${port}/readyz`, 'ingest', ingestProc);
    const webhookUrl = `http://127.0.0.1:${port}/livechat/webhooks`;
    // The bot's status goes in as LiveChat would send it, before anything else.
    for (const organizationId of [ORGANIZATION, SLOW_ORGANIZATION]) {
      const status = await postWebhook(webhookUrl, botAcceptingWebhook(organizationId));
      if (status !== 200) {
        throw new Error(`ingest answered ${status} to routing_status_set`);
      }
    }
    const addWorker = async () => {
      const port = await findFreePort();
      const proc = startNodeProcess({
        entry: WORKER_MAIN,
        env: {
          ...common,
          REDIS_URL: workerRedisUrl,
          LIVECHAT_API_URL: livechatUrl,
          NUDGE_CONFIG: rulesPath,
          BENCH_BOT_SECRET: 'bench-bot-secret',
          BENCH_PAT: 'bench-pat',
          WORKER_METRICS_PORT: String(port),
          WORKER_METRICS_HOST: '127.0.0.1',
          ...nudgeWorkerEnv,
        },
      });
      const metricsUrl = `http://127.0.0.1:${port}`;
      const running = { name: 'worker', proc, pid: proc.child.pid ?? 0, metricsUrl };
      started.push(running);
      await waitReady(`${metricsUrl}/readyz`, 'worker', proc);
      return running;
    };
    for (let i = 0; i < workers; i += 1) {
      await addWorker();
    }
    return pipelineOf('nudge', webhookUrl, ingest, started, addWorker, () =>
      rm(dirname(rulesPath), { recursive: true, force: true }),
    );
  } catch (err) {
    // A process that never got ready must not outlive the bench (nor those started before it).
    await Promise.all(
      [ingestProc, ...started.map((running) => running.proc)].map((proc) => stopProcess(proc)),
    );
    throw err;
  }
};

/**
 * The naive one-hop pipeline: a node:http receiver with one queue.add per webhook, and worker
 * processes doing get_chat + send_event per job (`servers/naive-*.ts`).
 */
export const startNaive = async ({
  redisUrl,
  livechatUrl,
  workers = 1,
  receiverRedisUrl = redisUrl,
  workerRedisUrl = redisUrl,
  delayMs = 0,
}: StartPipelineOptions & { delayMs?: number }): Promise<Pipeline> => {
  const common = { NAIVE_QUEUE: NAIVE_QUEUE };
  const started: RunningProcess[] = [];
  const receiverProc = startNodeProcess({
    entry: here('./servers/naive-receiver.js'),
    env: {
      ...common,
      REDIS_URL: receiverRedisUrl,
      PORT: '0',
      NAIVE_SECRET: SECRET,
      NAIVE_DELAY_MS: String(delayMs),
      NAIVE_SLOW_ORGANIZATION: SLOW_ORGANIZATION,
    },
  });
  const listening = await receiverProc.waitForLine((line) => line.msg === 'listening');
  const receiver: RunningProcess = {
    name: 'receiver',
    proc: receiverProc,
    pid: receiverProc.child.pid ?? 0,
  };
  const webhookUrl = `http://127.0.0.1:${String(listening.port)}/livechat/webhooks`;
  const addWorker = async () => {
    const proc = startNodeProcess({
      entry: here('./servers/naive-worker.js'),
      env: { ...common, REDIS_URL: workerRedisUrl, LIVECHAT_API_URL: livechatUrl },
    });
    const running = { name: 'worker', proc, pid: proc.child.pid ?? 0 };
    started.push(running);
    await proc.waitForLine((line) => line.msg === 'worker ready');
    return running;
  };
  for (let i = 0; i < workers; i += 1) {
    await addWorker();
  }
  return pipelineOf('naive', webhookUrl, receiver, started, addWorker);
};

// ───────────────────────────── statistics and tables ─────────────────────────────

/** The p-th percentile (0–100) of ascending `sorted`, nearest rank. */
export const percentile = (sorted: readonly number[], p: number): number => {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] as number;
};

export const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = Math.floor(sorted.length / 2);
  if (sorted.length === 0) {
    return Number.NaN;
  }
  return sorted.length % 2 === 1
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** A number for a table: `digits` decimals, thousands separated. */
export const fmt = (value: number, digits = 1): string =>
  Number.isFinite(value)
    ? value.toLocaleString('en-US', {
        minimumFractionDigits: digits,
        maximumFractionDigits: digits,
      })
    : '–';

export const ratio = (value: number, baseline: number): string =>
  Number.isFinite(value / baseline) ? `${(value / baseline).toFixed(2)}×` : '–';

/** A Markdown table (readable as text too), columns padded. */
export const table = (header: string[], rows: string[][]): string => {
  const widths = header.map((cell, i) =>
    Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    `| ${cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join(' | ')} |`;
  return [
    line(header),
    `| ${widths.map((width, i) => (i === 0 ? '-'.repeat(width) : `${'-'.repeat(width - 1)}:`)).join(' | ')} |`,
    ...rows.map(line),
  ].join('\n');
};

/** A line of progress on stderr (stdout carries the tables). */
export const progress = (text: string) => {
  process.stderr.write(`  ${text}\n`);
};

export { sleep };
