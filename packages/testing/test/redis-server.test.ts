import { describe, expect, inject, it } from 'vitest';
import {
  connectRedis,
  createTestPrefix,
  deleteKeysWithPrefix,
  startRedisServer,
  waitFor,
} from '../src/index.js';

describe('startRedisServer', () => {
  it('runs a queue-grade Redis that survives kill -9 with its AOF', async () => {
    const server = await startRedisServer();
    const redis = connectRedis(server.url);
    try {
      const config = await redis.config('GET', 'maxmemory-policy');
      expect(config).toEqual(['maxmemory-policy', 'noeviction']);
      expect(await redis.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      await redis.set('survivor', 'yes');
      // appendfsync everysec: the write is in the page cache, which kill -9 does not lose.
      await server.kill('SIGKILL');
      await server.restart();
      const value = await waitFor(() => redis.get('survivor'), { what: 'reconnect' });
      expect(value).toBe('yes');
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it('pauses and resumes the process', async () => {
    const server = await startRedisServer();
    const redis = connectRedis(server.url);
    try {
      await redis.ping();
      server.pause();
      const pending = redis.ping();
      const raced = await Promise.race([
        pending,
        new Promise((r) => setTimeout(() => r('silent'), 300)),
      ]);
      expect(raced).toBe('silent');
      server.resume();
      expect(await pending).toBe('PONG');
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });
});

describe('deleteKeysWithPrefix', () => {
  it('removes one prefix and nothing else', async () => {
    const redis = connectRedis(inject('redisUrl'));
    const mine = createTestPrefix();
    const other = createTestPrefix();
    try {
      await redis.set(`${mine}:a`, '1');
      await redis.set(`${mine}:b`, '1');
      await redis.set(`${other}:a`, '1');
      expect(await deleteKeysWithPrefix(redis, mine)).toBe(2);
      expect(await redis.exists(`${other}:a`)).toBe(1);
    } finally {
      await deleteKeysWithPrefix(redis, other);
      redis.disconnect();
    }
  });
});
