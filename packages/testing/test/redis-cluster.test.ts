import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  connectRedis,
  connectRedisCluster,
  createTestPrefix,
  deleteKeysWithPrefix,
  missingRedisClusterSupport,
  startRedisCluster,
} from '../src/index.js';

const missing = missingRedisClusterSupport();

if (missing !== undefined) {
  describe('startRedisCluster', () => {
    // Said, not silent; and where CI said the tools are there (.ci/run), a failure.
    it('needs redis-server and a redis-cli with --cluster (Redis 5 or later)', ({ skip }) => {
      const reason = `no local Redis Cluster: ${missing}`;
      if (process.env.NUDGE_CI_TOOLS) {
        expect.fail(`${reason}; NUDGE_CI_TOOLS is set, so it is required`);
      }
      skip(reason);
    });
  });
}

describe.skipIf(missing !== undefined)('startRedisCluster', () => {
  it('runs three queue-grade primaries sharing the 16384 slots, and removes them on stop', async () => {
    const cluster = await startRedisCluster();
    const redis = connectRedisCluster(cluster.url);
    const other = createTestPrefix();
    try {
      expect(cluster.ports).toHaveLength(3);
      expect(cluster.url.split(',')).toHaveLength(3);
      const slots = await redis.cluster('SLOTS');
      expect(new Set(slots.map(([, , primary]) => primary?.[1]))).toEqual(new Set(cluster.ports));
      expect(slots.reduce((sum, [from, to]) => sum + to - from + 1, 0)).toBe(16_384);
      for (const node of redis.nodes('master')) {
        expect(await node.config('GET', 'maxmemory-policy')).toEqual([
          'maxmemory-policy',
          'noeviction',
        ]);
        expect(await node.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      }

      // Keys spread over every primary are all found and deleted, the other prefix's kept.
      const mine = createTestPrefix();
      const keys = Array.from({ length: 30 }, (_, i) => `${mine}:${i}`);
      for (const key of [...keys, `{${mine}}:a`, `{${mine}:q}:b`, `${other}:a`]) {
        await redis.set(key, '1');
      }
      const holders = await Promise.all(
        redis.nodes('master').map(async (node) => (await node.dbsize()) > 0),
      );
      expect(holders.every(Boolean)).toBe(true);
      expect(await deleteKeysWithPrefix(redis, mine)).toBe(32);
      expect(await redis.exists(`${other}:a`)).toBe(1);

      // A node is a plain Redis too (for the single-server path of the same helpers).
      const node = connectRedis(`redis://127.0.0.1:${cluster.ports[0]}`);
      expect(await node.ping()).toBe('PONG');
      node.disconnect();
    } finally {
      await deleteKeysWithPrefix(redis, other);
      redis.disconnect();
      await cluster.stop();
    }
    expect(existsSync(cluster.dir)).toBe(false);
  });
});
