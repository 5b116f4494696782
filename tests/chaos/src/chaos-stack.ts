import { QUEUE_NAMES } from '@nudge/queues';

export { QUEUE_NAMES };

import { type NodeProcess, type RedisServer, startRedisServer, waitFor } from '@nudge/testing';
import { type Stack, type StackOptions, startStack } from '@nudge/tests/stack';
import { Redis } from 'ioredis';
import { type ActiveMonitor, startActiveMonitor } from './active-monitor.js';
import { type ApiTap, startApiTap } from './chaos-helpers.js';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';
import { type Census, takeCensus } from './redis-census.js';

// The product over real processes, as tests/stack.ts starts it, with what chaos rows need on
// top: a Redis of its own, each app process reaching it through a fault proxy of its own and
// each worker reaching LiveChat through a tap (which worker called what), kills recorded as
// intended, a monitor of active jobs and a census of Redis taken once everything is up.

/** A worker process with its own way to Redis (`proxy`) and to LiveChat (`tap`). */
export type ChaosWorker = { proc: NodeProcess; tap: ApiTap; proxy: FaultProxy };

export type ChaosStackOptions = Omit<StackOptions, 'redis' | 'sharedRedisUrl' | 'workers'> & {
  /** Workers to start, each through its own proxy and tap (more with `startWorkers`). */
  workers?: number;
  /** Extra `redis-server` arguments. */
  redisArgs?: string[];
  /** Also run a dashboard (no login, on 127.0.0.1) through a proxy of its own. */
  dashboard?: boolean;
};

export type ChaosStack = Stack & {
  /** The stack's own Redis, to kill, pause and restart (the stack restarts it to clean up). */
  redisServer: RedisServer;
  /** The test's connection (`redis`), as one Redis: the chaos suite never runs on a cluster. */
  oneRedis: Redis;
  ingestProxy: FaultProxy;
  chaosWorkers: ChaosWorker[];
  dashboard: { url: string; proc: NodeProcess; proxy: FaultProxy } | undefined;
  startWorkers: (count: number, env?: Record<string, string>) => Promise<ChaosWorker[]>;
  /** Signals a process the row means to stop, sparing it from the alive check; waits for it. */
  kill: (
    proc: NodeProcess,
    signal: NodeJS.Signals,
  ) => Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** A process the row expects to exit on its own (refusing a bad Redis, a deadline). */
  expectExit: (proc: NodeProcess) => void;
  /** Every app process started, and those that may have exited. */
  processes: () => { proc: NodeProcess; mayExit: boolean }[];
  lockDurationMs: number;
  stalledIntervalMs: number;
  monitor: ActiveMonitor;
  /** The prefix's keys and Redis memory once the stack was up, before the row. */
  baseline: Census;
  relayed: boolean;
};

/** Starts a chaos stack (see the top of this file). */
export const startChaosStack = async ({
  workers = 1,
  redisArgs = [],
  dashboard: withDashboard = false,
  ...options
}: ChaosStackOptions = {}): Promise<ChaosStack> => {
  const server = await startRedisServer({ args: redisArgs });
  let redisState: 'up' | 'down' | 'paused' = 'up';
  const redisServer: RedisServer = {
    ...server,
    kill: async (signal) => {
      await server.kill(signal);
      redisState = 'down';
    },
    restart: async (restartOptions) => {
      await server.restart(restartOptions);
      redisState = 'up';
    },
    pause: () => {
      server.pause();
      redisState = 'paused';
    },
    resume: () => {
      server.resume();
      redisState = 'up';
    },
  };
  const target = { host: '127.0.0.1', port: server.port };
  const proxies: FaultProxy[] = [];
  const newProxy = async () => {
    const proxy = await startFaultProxy(target);
    proxies.push(proxy);
    return proxy;
  };
  const ingestProxy = await newProxy();
  const stack = await startStack({
    ...options,
    sharedRedisUrl: server.url,
    workers: 0,
    ingestEnv: { REDIS_URL: ingestProxy.url, ...options.ingestEnv },
  });
  const taps: ApiTap[] = [];
  const chaosWorkers: ChaosWorker[] = [];
  const startWorkers = async (count: number, env: Record<string, string> = {}) => {
    const started: ChaosWorker[] = [];
    for (let i = 0; i < count; i += 1) {
      const [tap, proxy] = [await startApiTap(stack.sandbox.url), await newProxy()];
      taps.push(tap);
      const proc = await stack.startWorker({
        env: { ...env, LIVECHAT_API_URL: tap.url, REDIS_URL: proxy.url },
      });
      started.push({ proc, tap, proxy });
    }
    chaosWorkers.push(...started);
    return started;
  };
  await startWorkers(workers);

  let dashboard: ChaosStack['dashboard'];
  if (withDashboard) {
    const proxy = await newProxy();
    const { url, proc } = await stack.startDashboard({
      DASHBOARD_AUTH: 'off',
      REDIS_URL: proxy.url,
    });
    dashboard = { url, proc, proxy };
  }

  // Every ingest process: `restartIngest` starts a new one.
  const ingests: NodeProcess[] = [stack.ingest];
  const restartIngest = stack.restartIngest;
  const mayExit = new Set<NodeProcess>();
  const lockDurationMs = Number(stack.workerEnv.WORKER_LOCK_DURATION_MS);
  const stalledIntervalMs = Number(stack.workerEnv.WORKER_STALLED_INTERVAL_MS);
  // Rows take Redis away: the test's own clients see it too, and their errors are expected.
  stack.redis.on('error', () => undefined);
  for (const name of Object.values(QUEUE_NAMES)) {
    // Ready before any outage: BullMQ keeps a queue whose first connect failed broken.
    await stack
      .queue(name)
      .on('error', () => undefined)
      .waitUntilReady();
  }
  const monitor = startActiveMonitor({
    queues: Object.values(QUEUE_NAMES).map((name) => stack.queue(name)),
    // The longest a job may legitimately run: waiting for its chat's turn (2 LiveChat
    // timeouts; a route job acting on a whisper itself waits 1 s at most, INLINE_LOCK_WAIT_MS,
    // then hands it to its queue), then three or four LiveChat calls. Route jobs are watched
    // like any other: acting in the route step, they are the jobs a dead worker leaves active.
    boundMs: lockDurationMs + stalledIntervalMs + 6 * Number(stack.workerEnv.LIVECHAT_TIMEOUT_MS),
  });
  const oneRedis = stack.redis;
  if (!(oneRedis instanceof Redis)) {
    throw new Error('the chaos suite runs on one Redis, not a cluster');
  }
  const baseline = await takeCensus(oneRedis, stack.prefix);

  const stopStack = stack.stop;
  // Extends the stack object itself: its getters (the current ingest) stay live.
  return Object.assign(stack, {
    redisServer,
    oneRedis,
    ingestProxy,
    chaosWorkers,
    dashboard,
    startWorkers,
    restartIngest: async () => {
      await restartIngest();
      ingests.push(stack.ingest);
    },
    kill: async (proc: NodeProcess, signal: NodeJS.Signals) => {
      mayExit.add(proc);
      proc.kill(signal);
      return proc.exited;
    },
    expectExit: (proc: NodeProcess) => {
      mayExit.add(proc);
    },
    processes: () =>
      [...ingests, ...stack.workers, ...(dashboard ? [dashboard.proc] : [])].map((proc) => ({
        proc,
        mayExit: mayExit.has(proc),
      })),
    lockDurationMs,
    stalledIntervalMs,
    monitor,
    baseline,
    relayed: options.delivery === 'relay',
    stop: async () => {
      monitor.stop();
      for (const proc of ingests) {
        proc.kill('SIGKILL');
      }
      // The stack cleans its keys up as it stops: Redis must answer.
      if (redisState === 'paused') {
        redisServer.resume();
      } else if (redisState === 'down') {
        await redisServer.restart();
      }
      await waitFor(async () => (await stack.redis.ping()) === 'PONG', {
        what: 'Redis to answer before cleaning up',
      });
      await stopStack();
      await Promise.all([...taps, ...proxies].map((closable) => closable.close()));
      await server.stop();
    },
  });
};
