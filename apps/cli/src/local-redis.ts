import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, rm } from 'node:fs/promises';
import { loadConfig, RedisEnv } from '@nudge/config';
import { findExecutable, spawnTied } from './children.js';
import { freePort } from './ports.js';
import { probeRedis, waitForRedis } from './redis-probe.js';

export type LocalRedis = {
  url: string;
  /** REDIS_CLUSTER: `url` lists nodes of a Redis Cluster (only ever an explicit REDIS_URL). */
  cluster: boolean;
  /** Where it came from, for the start banner. */
  source: 'REDIS_URL' | 'localhost:6379' | 'spawned';
  stop: () => Promise<void>;
};

const NOT_INSTALLED =
  'redis-server is not installed: install Redis (e.g. apt-get install redis-server) or set REDIS_URL';

/** How long an explicit REDIS_URL may take to answer before `nudge start` gives up. */
const REDIS_URL_WAIT_MS = 4_000;

const spawnRedis = async (
  dataDir: string,
  fresh: boolean,
  signal: AbortSignal,
): Promise<LocalRedis> => {
  if (fresh) {
    await rm(dataDir, { recursive: true, force: true });
  }
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const redisServer = findExecutable('redis-server');
  if (redisServer === undefined) {
    throw new Error(NOT_INSTALLED);
  }
  const child: ChildProcess = spawnTied(
    redisServer,
    [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dataDir, '--save', ''],
      ...['--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--hz', '100'],
      ...['--hash-max-listpack-value', '512'],
      ...['--logfile', ''],
    ],
    // Its own process group: a Ctrl-C reaches the apps, which still need Redis to drain; the
    // CLI stops Redis last. Tied to the CLI all the same: a CLI killed outright takes it along.
    { stdio: ['ignore', 'pipe', 'inherit'], detached: true },
  );
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) {
      return;
    }
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  };
  const failed = once(child, 'error').then(([err]) => {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT' ? NOT_INSTALLED : `could not start redis-server: ${String(err)}`,
    );
  });
  const exitedEarly = once(child, 'exit').then(([code]) => {
    throw new Error(`redis-server exited (${String(code)}) before it was ready`);
  });
  let output = '';
  const ready = new Promise<void>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        resolve();
      }
    });
  });
  const aborted = new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
  try {
    await Promise.race([ready, failed, exitedEarly, aborted]);
  } catch (err) {
    await stop();
    throw err;
  }
  failed.catch(() => undefined);
  exitedEarly.catch(() => undefined);
  child.stdout?.resume();
  return { url: `redis://127.0.0.1:${port}`, cluster: false, source: 'spawned', stop };
};

/**
 * The Redis for `nudge start`: `REDIS_URL` when set (with `REDIS_CLUSTER`, a Redis Cluster;
 * waited for briefly, then a clear error);
 * otherwise, against real LiveChat, one already on 127.0.0.1:6379; otherwise — and always in
 * sandbox mode, which must not write into a Redis it did not start — a `redis-server` spawned
 * with a queue's settings (AOF, noeviction, hz 100) keeping its data in `dataDir`. The
 * sandbox forgets its chats when it stops, so in sandbox mode that data starts empty too.
 */
export const resolveLocalRedis = async ({
  env,
  dataDir,
  sandbox,
  signal,
}: {
  env: NodeJS.ProcessEnv;
  dataDir: string;
  /** Sandbox mode: never a Redis it did not start, and a fresh one (the sandbox is fresh). */
  sandbox: boolean;
  signal: AbortSignal;
}): Promise<LocalRedis> => {
  if (env.REDIS_URL) {
    // Bad values stop here with their message rather than once per app.
    const { REDIS_URL: url, REDIS_CLUSTER: cluster } = loadConfig(RedisEnv, env);
    const reason = await waitForRedis(url, { timeoutMs: REDIS_URL_WAIT_MS, signal, cluster });
    if (reason !== undefined && !signal.aborted) {
      throw new Error(
        `cannot reach Redis${cluster ? ' Cluster' : ''} at ${url} (REDIS_URL): ${reason}`,
      );
    }
    return { url, cluster, source: 'REDIS_URL', stop: async () => undefined };
  }
  if (loadConfig(RedisEnv, env).REDIS_CLUSTER) {
    throw new Error('REDIS_CLUSTER=true needs REDIS_URL: one or more nodes of the cluster');
  }
  const local = 'redis://127.0.0.1:6379';
  if (!sandbox && (await probeRedis(local, { connectTimeoutMs: 500 })) === undefined) {
    return { url: local, cluster: false, source: 'localhost:6379', stop: async () => undefined };
  }
  return spawnRedis(dataDir, sandbox, signal);
};
