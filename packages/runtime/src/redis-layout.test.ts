import { describe, expect, it } from 'vitest';
import { createRedisKeys } from './redis-keys.js';
import { createRedisLayout, hashTagOf } from './redis-layout.js';

const QUEUES = ['livechat-events', 'idle-reply', 'canned-responses', 'rating-reactions'];

describe('createRedisLayout', () => {
  it('leaves every key name as it is on one Redis (key names are data)', () => {
    const layout = createRedisLayout('nudge');
    expect(layout.keyPrefix).toBe('nudge');
    expect(QUEUES.map(layout.queuePrefix)).toEqual(QUEUES.map(() => 'nudge'));
    expect(createRedisKeys(layout.keyPrefix).dedupe('x')).toBe('nudge:dedupe:x');
    expect(createRedisLayout('{nudge}').queuePrefix('idle-reply')).toBe('{nudge}');
  });

  it('on a cluster gives each queue a hash tag of its own and Nudge keys one shared tag', () => {
    const layout = createRedisLayout('nudge', { cluster: true });
    expect(QUEUES.map(layout.queuePrefix)).toEqual(QUEUES.map((queue) => `{nudge:${queue}}`));
    expect(new Set(QUEUES.map((queue) => hashTagOf(layout.queuePrefix(queue)))).size).toBe(4);
    const keys = createRedisKeys(layout.keyPrefix);
    const tags = new Set(
      [
        keys.dedupe('d'),
        keys.sent('s'),
        keys.chatLock('org', 'chat'),
        keys.botStatus('org', 'bot'),
        keys.botStatusFromApi('org', 'bot'),
        keys.chatUsers('org', 'chat'),
        keys.chatJobs('chat'),
        keys.botToken('org:bot'),
        keys.botTokenLock('org:bot'),
      ].map(hashTagOf),
    );
    expect([...tags]).toEqual(['nudge']);
    // Ingest's probe and heartbeat live beside the events queue (see redis-keys.ts).
    const ingest = createRedisKeys(layout.queuePrefix('livechat-events'));
    expect(ingest.ingestReadiness()).toBe('{nudge:livechat-events}:ingest:readyz');
    expect(
      createRedisKeys(createRedisLayout('nudge').queuePrefix('livechat-events')).ingestHeartbeat(),
    ).toBe('nudge:ingest:heartbeat');
  });

  it("on a cluster keeps a prefix's own hash tag for everything (one slot, as chosen)", () => {
    const layout = createRedisLayout('{nudge}', { cluster: true });
    expect(layout.keyPrefix).toBe('{nudge}');
    expect(layout.queuePrefix('idle-reply')).toBe('{nudge}');
  });
});

describe('hashTagOf', () => {
  it('reads the tag as Redis Cluster does: first {, first } after it, not empty', () => {
    expect(hashTagOf('{a}:b')).toBe('a');
    expect(hashTagOf('x{a}{b}')).toBe('a');
    expect(hashTagOf('{}{a}')).toBeUndefined();
    expect(hashTagOf('{{a}}')).toBe('{a');
    expect(hashTagOf('plain:key')).toBeUndefined();
    expect(hashTagOf('open{only')).toBeUndefined();
  });
});
