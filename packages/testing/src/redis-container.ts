import type { RedisServer } from './redis-server.js';

/**
 * Fallback for machines with a Docker engine but no `redis-server`: a Redis 7 container
 * started through testcontainers, with the same flags as the spawned server.
 * `kill`/`restart` restart the container (its AOF lives in the container's filesystem);
 * `pause`/`resume` are not available.
 */
export const startRedisContainer = async (): Promise<RedisServer> => {
  const { GenericContainer, Wait } = await import('testcontainers');
  const container = await new GenericContainer('redis:7-alpine')
    .withCommand([
      'redis-server',
      '--appendonly',
      'yes',
      '--maxmemory',
      '256mb',
      '--maxmemory-policy',
      'noeviction',
      '--hz',
      '100',
      '--hash-max-listpack-value',
      '512',
    ])
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  const unsupported = () => {
    throw new Error('pause/resume need a spawned redis-server, not a container');
  };
  return {
    // Docker may map a new host port after a restart, so read it each time.
    get url() {
      return `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
    },
    get port() {
      return container.getMappedPort(6379);
    },
    dir: '/data',
    kill: async () => {
      await container.stop({ remove: false });
    },
    restart: async (options) => {
      if (options?.args) {
        throw new Error('restarting with other arguments needs a spawned redis-server');
      }
      await container.restart();
    },
    pause: unsupported,
    resume: unsupported,
    stop: async () => {
      await container.stop();
    },
  };
};
