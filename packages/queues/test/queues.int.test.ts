import { FIXTURES } from '@nudge/livechat/testing';
import { createRedisLayout } from '@nudge/runtime';
import {
  connectRedis,
  createTestPrefix,
  deleteKeysWithPrefix,
  startRedisServer,
  waitFor,
} from '@nudge/testing';
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  assertQueueRedisPolicy,
  claimDelivery,
  createChatJobIndex,
  createEventProducer,
  createProducerConnection,
  deriveDedupeKey,
  EvictionPolicyError,
  HASH_LISTPACK_VALUE,
  QUEUE_NAMES,
  readRedisPolicy,
} from '../src/index.js';

const redis = connectRedis(inject('redisUrl'));
afterAll(() => redis.quit());

const eventJob = (eventId: string) => {
  const { secret_key: _, ...envelope } = structuredClone(FIXTURES.incoming_event);
  envelope.payload.event = { ...(envelope.payload.event as object), id: eventId };
  return {
    organizationId: envelope.organization_id,
    envelope,
    dedupeKey: deriveDedupeKey({
      organizationId: envelope.organization_id,
      action: envelope.action,
      payload: envelope.payload,
    }),
    receivedAt: Date.now(),
  };
};

describe('createEventProducer', () => {
  it('stores a webhook once per dedupe key, with retention bounded by age and count', async () => {
    const prefix = createTestPrefix();
    const connection = createProducerConnection(inject('redisUrl'));
    const errors: Error[] = [];
    const producer = createEventProducer({
      connection,
      layout: createRedisLayout(prefix),
      onError: (err) => errors.push(err),
    });
    const queue = new Queue(QUEUE_NAMES.livechatEvents, { connection: redis, prefix });
    try {
      await waitFor(() => connection.status === 'ready', { what: 'producer connection' });
      const job = eventJob('K600PKZON8_9');
      const ids = await Promise.all([
        producer.enqueue(job),
        producer.enqueue(job),
        producer.enqueue(job),
      ]);
      expect(new Set(ids)).toEqual(new Set([job.dedupeKey]));
      await producer.enqueue(eventJob('K600PKZON8_10'));
      expect(await queue.getJobCounts('waiting')).toEqual({ waiting: 2 });
      const stored = await queue.getJob(job.dedupeKey);
      expect(stored?.name).toBe('incoming_event');
      expect(stored?.data).toEqual(job);
      expect(stored?.opts.attempts).toBeGreaterThan(1);
      // Retention is the workers' (QUEUE_RETENTION), not carried by every job.
      expect(stored?.opts.removeOnComplete).toBeUndefined();
      expect(errors).toEqual([]);
    } finally {
      await producer.close();
      await queue.close();
      connection.disconnect();
      await deleteKeysWithPrefix(redis, prefix);
    }
  });

  it('indexes a stored webhook by chat, close writing what still waits for its batch', async () => {
    const prefix = createTestPrefix();
    const layout = createRedisLayout(prefix);
    const connection = createProducerConnection(inject('redisUrl'));
    const errors: Error[] = [];
    const producer = createEventProducer({
      connection,
      layout,
      onError: (err) => errors.push(err),
    });
    try {
      await waitFor(() => connection.status === 'ready', { what: 'producer connection' });
      const job = { ...eventJob('K600PKZON8_11'), chatId: 'PJ0MRSHTDG' };
      await producer.enqueue(job);
      await producer.close();
      // The connection goes at once: an entry left to the batch's timer would never be written.
      connection.disconnect();
      const index = createChatJobIndex(redis, layout.keyPrefix);
      expect(
        (await index.read('PJ0MRSHTDG')).map(({ queue, jobId }) => ({ queue, jobId })),
      ).toEqual([{ queue: QUEUE_NAMES.livechatEvents, jobId: job.dedupeKey }]);
      expect(errors).toEqual([]);
    } finally {
      connection.disconnect();
      await deleteKeysWithPrefix(redis, prefix);
    }
  });
});

describe('claimDelivery', () => {
  it('lets the first copy through, the same job again, and no other copy for 24 h', async () => {
    const prefix = createTestPrefix();
    const base = { redis, prefix, dedupeKey: 'incoming_event-abc', action: 'incoming_event' };
    try {
      expect(await claimDelivery({ ...base, claimant: 'job@1' })).toBe('first');
      expect(await claimDelivery({ ...base, claimant: 'job@1' })).toBe('same');
      // The same event stored again after the first job was removed by retention.
      expect(await claimDelivery({ ...base, claimant: 'job@2' })).toBe('duplicate');
      const ttl = await redis.pttl(`${prefix}:dedupe:incoming_event-abc`);
      expect(ttl).toBeGreaterThan(23 * 3_600_000);
    } finally {
      await deleteKeysWithPrefix(redis, prefix);
    }
  });

  it('claims nothing for a routing status: every delivery is applied', async () => {
    const prefix = createTestPrefix();
    const base = {
      redis,
      prefix,
      dedupeKey: 'routing_status_set-abc',
      action: 'routing_status_set',
    };
    expect(await claimDelivery({ ...base, claimant: 'job@1' })).toBe('first');
    expect(await claimDelivery({ ...base, claimant: 'job@2' })).toBe('first');
    expect(await redis.exists(`${prefix}:dedupe:routing_status_set-abc`)).toBe(0);
  });
});

describe('assertQueueRedisPolicy', () => {
  let lru: Awaited<ReturnType<typeof startRedisServer>>;
  beforeAll(async () => {
    lru = await startRedisServer({ args: ['--maxmemory-policy', 'allkeys-lru'] });
  });
  afterAll(() => lru.stop());

  it('passes on noeviction with AOF and refuses any evicting policy', async () => {
    expect(await assertQueueRedisPolicy(redis)).toMatchObject({ evictionPolicy: 'noeviction' });
    const client = connectRedis(lru.url);
    try {
      const failure = assertQueueRedisPolicy(client);
      await expect(failure).rejects.toBeInstanceOf(EvictionPolicyError);
      await expect(failure).rejects.toThrow(/allkeys-lru.*noeviction/s);
    } finally {
      client.disconnect();
    }
  });

  it('reports hash-max-listpack-value, which the worker warns about below 512', async () => {
    const client = connectRedis(lru.url);
    try {
      for (const value of [HASH_LISTPACK_VALUE, 64]) {
        await client.config('SET', 'hash-max-listpack-value', String(value));
        expect(await readRedisPolicy(client)).toMatchObject({ hashListpackValue: value });
      }
    } finally {
      client.disconnect();
    }
  });
});
