import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

export type LocalRedis = {
  url: string;
  /** Where it came from, for the start banner. */
  source: 'REDIS_URL' | 'localhost:6379' | 'spawned';
  stop: () => Promise<void>;
};

const answersPing = async (url: string): Promise<boolean> => {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
};

const freePort = async (): Promise<number> => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  return typeof address === 'object' && address ? address.port : 0;
};

/**
 * The Redis for `nudge start`: `REDIS_URL` when set, else one already on 127.0.0.1:6379, else a
 * `redis-server` spawned with a queue's settings (AOF, noeviction, hz 100) keeping its data in
 * `dataDir`, so accepted webhooks survive a restart of the local stack.
 */
export const resolveLocalRedis = async ({
  env,
  dataDir,
}: {
  env: NodeJS.ProcessEnv;
  dataDir: string;
}): Promise<LocalRedis> => {
  if (env.REDIS_URL) {
    return { url: env.REDIS_URL, source: 'REDIS_URL', stop: async () => undefined };
  }
  const local = 'redis://127.0.0.1:6379';
  if (await answersPing(local)) {
    return { url: local, source: 'localhost:6379', stop: async () => undefined };
  }
  await mkdir(dataDir, { recursive: true });
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dataDir,
      '--save',
      '',
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'noeviction',
      '--hz',
      '100',
      '--logfile',
      '',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const failed = once(child, 'error').then(([err]) => {
    throw new Error(`could not start redis-server (is it installed?): ${String(err)}`);
  });
  let output = '';
  const ready = new Promise<void>((resolve) => {
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('Ready to accept connections')) {
        child.stdout?.resume();
        resolve();
      }
    });
  });
  await Promise.race([ready, failed]);
  return {
    url: `redis://127.0.0.1:${port}`,
    source: 'spawned',
    stop: async () => {
      child.kill('SIGTERM');
      if (child.exitCode === null) {
        await once(child, 'exit');
      }
    },
  };
};
