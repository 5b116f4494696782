import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A Redis the test owns: it may kill, pause and restart it. */
export type RedisServer = {
  readonly url: string;
  readonly port: number;
  /** The data directory; the AOF survives `kill` + `restart`. */
  readonly dir: string;
  /** Sends a signal (default SIGKILL) and waits for the process to exit. */
  kill: (signal?: NodeJS.Signals) => Promise<void>;
  /**
   * Kills (if running) and starts redis-server again on the same port and data directory,
   * optionally with other arguments (e.g. a misconfigured replacement).
   */
  restart: (options?: { args?: string[] }) => Promise<void>;
  /** SIGSTOP: the TCP port stays open but nothing answers. */
  pause: () => void;
  /** SIGCONT after `pause`. */
  resume: () => void;
  /** Stops the server and removes its data directory. */
  stop: () => Promise<void>;
};

export type StartRedisOptions = {
  /** Extra `redis-server` arguments, e.g. `['--maxmemory-policy', 'allkeys-lru']`. */
  args?: string[];
  /** Milliseconds to wait for "Ready to accept connections". */
  readyTimeoutMs?: number;
};

// A queue's Redis, as production should run it: AOF, noeviction, a 100 Hz timer so delayed
// jobs fire within ~10 ms of their due time, and job hashes kept compact (listpack: a BullMQ
// job's `data` and `opts` are over the default 64 bytes, which makes it a ~35 % bigger table).
const QUEUE_REDIS_ARGS = [
  '--bind',
  '127.0.0.1',
  '--save',
  '',
  '--appendonly',
  'yes',
  '--appendfsync',
  'everysec',
  '--maxmemory',
  '256mb',
  '--maxmemory-policy',
  'noeviction',
  '--hz',
  '100',
  '--hash-max-listpack-value',
  '512',
  '--enable-debug-command',
  'local',
];

/** True when a `redis-server` binary is on PATH. */
export const hasRedisServerBinary = (): boolean =>
  spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** A TCP port that was free a moment ago. */
export const findFreePort = async (): Promise<number> => {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  if (address === null || typeof address === 'string') {
    throw new Error('could not read the port of a probe listener');
  }
  return address.port;
};

/** Spawns one `redis-server` with a queue's settings and `args`; resolves once it is ready. */
export const spawnRedis = async (
  port: number,
  dir: string,
  args: string[],
  readyTimeoutMs: number,
): Promise<ChildProcess> => {
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--dir', dir, '--logfile', '', ...QUEUE_REDIS_ARGS, ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`redis-server not ready after ${readyTimeoutMs} ms:\n${output}`));
    }, readyTimeoutMs);
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited with ${code}:\n${output}`));
    });
  });
  try {
    await ready;
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  // Keep draining output so a chatty server never blocks on a full pipe.
  child.stdout?.resume();
  child.stderr?.resume();
  return child;
};

/** Resolves once `child` has exited (at once if it already has). */
export const waitForExit = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  await once(child, 'exit');
};

/** Spawns a `redis-server` on a free port in a fresh temp dir (AOF, noeviction, hz 100, listpack job hashes). */
export const startRedisServer = async ({
  args = [],
  readyTimeoutMs = 10_000,
}: StartRedisOptions = {}): Promise<RedisServer> => {
  const dir = await mkdtemp(join(tmpdir(), 'nudge-redis-'));
  const port = await findFreePort();
  let child = await spawnRedis(port, dir, args, readyTimeoutMs);

  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const running = child;
    if (running.signalCode === 'SIGSTOP') {
      running.kill('SIGCONT');
    }
    running.kill(signal);
    await waitForExit(running);
  };

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    kill,
    restart: async ({ args: override } = {}) => {
      await kill('SIGKILL');
      child = await spawnRedis(port, dir, override ?? args, readyTimeoutMs);
    },
    pause: () => {
      child.kill('SIGSTOP');
    },
    resume: () => {
      child.kill('SIGCONT');
    },
    stop: async () => {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
      await waitForExit(child);
      await rm(dir, { recursive: true, force: true });
    },
  };
};
