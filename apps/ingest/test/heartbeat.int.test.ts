import type { ReconcileJob } from '@nudge/queues';
import { createRedisKeys } from '@nudge/runtime';
import { createLogger } from '@nudge/telemetry';
import { connectRedis, createTestPrefix, waitFor } from '@nudge/testing';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { startHeartbeat } from '../src/heartbeat.js';

const redis = connectRedis(inject('redisUrl'));
afterAll(() => redis.disconnect());
const log = createLogger({ service: 'test', level: 'silent' });

/** A heartbeat started over a previous one written `agoMs` before now; what it asked for. */
const afterGap = async (agoMs: number | undefined, gapMs = 10_000) => {
  const key = createRedisKeys(createTestPrefix()).ingestHeartbeat();
  const now = 1_800_000_000_000;
  if (agoMs !== undefined) {
    await redis.set(key, String(now - agoMs));
  }
  const asked: { job: ReconcileJob; key: string }[] = [];
  const heartbeat = startHeartbeat({
    redis,
    key,
    gapMs,
    requestReconcile: async (job, onceKey) => {
      asked.push({ job, key: onceKey });
    },
    log,
    now: () => now,
  });
  // The first beat has written this start's time.
  await waitFor(async () => (await redis.get(key)) === String(now), { what: 'the first beat' });
  heartbeat.stop();
  await redis.del(key);
  return { asked, now };
};

describe('ingest heartbeat', () => {
  it('asks for a reconcile from just before a gap longer than the threshold, once per gap', async () => {
    const { asked, now } = await afterGap(60_000);
    expect(asked).toHaveLength(1);
    const [request] = asked;
    // From the last beat before the gap, less one beat interval (the webhooks sent between).
    expect(request?.job.sinceMs).toBe(now - 60_000 - 2_500);
    expect(request?.job.reason).toBe('no webhook could be stored for 60 s');
    expect(request?.key).toBe(String(now - 60_000));
  });

  it('does not for a shorter gap, for a first start, or when turned off', async () => {
    expect((await afterGap(5_000)).asked).toEqual([]);
    expect((await afterGap(undefined)).asked).toEqual([]);
    expect((await afterGap(60_000, 0)).asked).toEqual([]);
  });

  it('asks for a reconcile when the heartbeat it stored is gone (Redis lost its data)', async () => {
    const key = createRedisKeys(createTestPrefix()).ingestHeartbeat();
    let now = 1_800_000_000_000;
    const asked: { job: ReconcileJob; key: string }[] = [];
    const heartbeat = startHeartbeat({
      redis,
      key,
      gapMs: 1_000,
      requestReconcile: async (job, onceKey) => {
        asked.push({ job, key: onceKey });
      },
      log,
      now: () => now,
    });
    try {
      await waitFor(async () => (await redis.get(key)) === String(now), { what: 'the first beat' });
      const lastBeat = now;
      await redis.del(key);
      now += 1_000;
      await waitFor(async () => (await redis.get(key)) === String(now), {
        what: 'a beat after the loss',
      });
      expect(asked).toEqual([
        {
          job: { sinceMs: lastBeat - 250, reason: 'redis lost its data' },
          key: `lost-${lastBeat}`,
        },
      ]);
    } finally {
      heartbeat.stop();
      await redis.del(key);
    }
  });
});
