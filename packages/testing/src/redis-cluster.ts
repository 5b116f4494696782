import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './fixtures.js';
import { findFreePort, spawnRedis, waitForExit } from './redis-server.js';

/** A Redis Cluster the test owns: N primaries, no replicas, each on 127.0.0.1. */
export type RedisCluster = {
  /** Every primary's URL, comma-separated: a REDIS_URL for REDIS_CLUSTER=true. */
  readonly url: string;
  /** The primaries' ports, in the order `--cluster create` got them (slot ranges ascending). */
  readonly ports: readonly number[];
  /** Holds each node's data directory and cluster config file. */
  readonly dir: string;
  /** SIGSTOP to the node on `port`: its TCP port stays open but nothing answers. */
  pause: (port: number) => void;
  /** SIGCONT after `pause`. */
  resume: (port: number) => void;
  /** Kills every node and removes the directory. */
  stop: () => Promise<void>;
};

export type StartRedisClusterOptions = {
  /** Primaries (at least 3, as `redis-cli --cluster create` demands). */
  primaries?: number;
  /** Milliseconds to wait for the cluster to report `cluster_state:ok` on every node. */
  readyTimeoutMs?: number;
};

/**
 * Why this machine can't run a local Redis Cluster (no `redis-server`, or a `redis-cli`
 * without `--cluster`, i.e. older than Redis 5), or undefined when it can.
 */
export const missingRedisClusterSupport = (): string | undefined => {
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    return 'no redis-server binary on PATH';
  }
  const help = spawnSync('redis-cli', ['--cluster', 'help'], { encoding: 'utf8' });
  if (help.error !== undefined) {
    return 'no redis-cli binary on PATH';
  }
  return /\bcreate\b/.test(`${help.stdout}${help.stderr}`)
    ? undefined
    : 'redis-cli has no --cluster (Redis 5 or later needed)';
};

const isFree = async (port: number): Promise<boolean> => {
  const server = createServer();
  server.listen(port, '127.0.0.1');
  try {
    await Promise.race([
      once(server, 'listening'),
      once(server, 'error').then(([err]) => {
        throw err;
      }),
    ]);
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
};

/** A free port whose cluster bus port (port + 10000) is free too. */
const findClusterPort = async (taken: ReadonlySet<number>): Promise<number> => {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = await findFreePort();
    if (port + 10_000 <= 65_535 && !taken.has(port) && (await isFree(port + 10_000))) {
      return port;
    }
  }
  throw new Error('no free port pair (port, port + 10000) for a cluster node');
};

const run = async (command: string, args: string[]): Promise<string> => {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  if (code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output}`);
  }
  return output;
};

/**
 * Spawns `primaries` `redis-server --cluster-enabled yes` (AOF, noeviction, hz 100) on free
 * ports in a fresh temp dir, joins them with `redis-cli --cluster create` (no replicas), and
 * resolves once every node reports `cluster_state:ok`.
 */
export const startRedisCluster = async ({
  primaries = 3,
  readyTimeoutMs = 20_000,
}: StartRedisClusterOptions = {}): Promise<RedisCluster> => {
  const dir = await mkdtemp(join(tmpdir(), 'nudge-redis-cluster-'));
  const byPort = new Map<number, ChildProcess>();
  const signal = (port: number, name: NodeJS.Signals) => {
    const child = byPort.get(port);
    if (!child) {
      throw new Error(`no cluster node on port ${port}`);
    }
    child.kill(name);
  };
  const stop = async () => {
    for (const child of byPort.values()) {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    }
    await Promise.all([...byPort.values()].map(waitForExit));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports: number[] = [];
    for (let i = 0; i < primaries; i += 1) {
      ports.push(await findClusterPort(new Set(ports)));
    }
    await Promise.all(
      ports.map(async (port) => {
        const nodeDir = join(dir, String(port));
        await mkdir(nodeDir);
        const child = await spawnRedis(
          port,
          nodeDir,
          [
            ...['--cluster-enabled', 'yes'],
            ...['--cluster-config-file', join(nodeDir, 'nodes.conf')],
            ...['--cluster-node-timeout', '5000'],
          ],
          10_000,
        );
        byPort.set(port, child);
      }),
    );
    await run('redis-cli', [
      '--cluster',
      'create',
      ...ports.map((port) => `127.0.0.1:${port}`),
      ...['--cluster-replicas', '0', '--cluster-yes'],
    ]);
    const nodes = ports.map((port) => new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 }));
    try {
      await waitFor(
        async () => {
          const infos = await Promise.all(
            nodes.map((node) => node.call('CLUSTER', 'INFO') as Promise<string>),
          );
          return infos.every(
            (info) => info.includes('cluster_state:ok') && info.includes('cluster_slots_ok:16384'),
          );
        },
        { timeoutMs: readyTimeoutMs, intervalMs: 50, what: 'cluster_state:ok on every node' },
      );
    } finally {
      for (const node of nodes) {
        node.disconnect();
      }
    }
    return {
      url: ports.map((port) => `redis://127.0.0.1:${port}`).join(','),
      ports,
      dir,
      pause: (port) => signal(port, 'SIGSTOP'),
      resume: (port) => signal(port, 'SIGCONT'),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
};
