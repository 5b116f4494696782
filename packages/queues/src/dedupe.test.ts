import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, DEDUPE_HORIZON_MS, deriveDedupeKey, isDeduplicated } from './dedupe.js';

const ORG = '390e44e6-f1e6-0368-c6dd-74f14508c2e0';
const message = (eventId: string, text = 'hi') => ({
  chat_id: 'C1',
  thread_id: 'T1',
  event: { id: eventId, type: 'message', text, author_id: 'cust' },
});

describe('deriveDedupeKey', () => {
  it('uses natural ids: an incoming_event is the same event whatever else differs', () => {
    const a = deriveDedupeKey({
      organizationId: ORG,
      action: 'incoming_event',
      payload: message('T1_1'),
    });
    const b = deriveDedupeKey({
      organizationId: ORG,
      action: 'incoming_event',
      payload: { ...message('T1_1', 'edited elsewhere'), extra: true },
    });
    expect(a).toBe(b);
    expect(a).toMatch(/^incoming_event-[0-9a-f]{32}$/);
  });

  it('separates events, actions and organizations', () => {
    const keys = new Set([
      deriveDedupeKey({ organizationId: ORG, action: 'incoming_event', payload: message('T1_1') }),
      deriveDedupeKey({ organizationId: ORG, action: 'incoming_event', payload: message('T1_2') }),
      deriveDedupeKey({
        organizationId: 'other',
        action: 'incoming_event',
        payload: message('T1_1'),
      }),
      deriveDedupeKey({ organizationId: ORG, action: 'event_updated', payload: message('T1_1') }),
      deriveDedupeKey({
        organizationId: ORG,
        action: 'event_updated',
        payload: message('T1_1', 'v2'),
      }),
    ]);
    expect(keys.size).toBe(5);
  });

  it('tells tag from untag and one tag from another', () => {
    const key = (action: string, tag: string) =>
      deriveDedupeKey({
        organizationId: ORG,
        action,
        payload: { chat_id: 'C', thread_id: 'T', tag },
      });
    expect(
      new Set([key('thread_tagged', 'a'), key('thread_untagged', 'a'), key('thread_tagged', 'b')])
        .size,
    ).toBe(3);
  });

  it('falls back to the whole payload when natural ids are missing (schema drift)', () => {
    const key = (payload: Record<string, unknown>) =>
      deriveDedupeKey({ organizationId: ORG, action: 'incoming_event', payload });
    expect(key({ chat_id: 'C', surprise: 1 })).not.toBe(key({ chat_id: 'C', surprise: 2 }));
    expect(key({ chat_id: 'C', surprise: 1 })).toBe(key({ surprise: 1, chat_id: 'C' }));
  });

  it('property: deterministic, key-order independent, a valid BullMQ job id', () => {
    const shuffle = (value: unknown, seed: number): unknown => {
      if (Array.isArray(value)) {
        return value.map((item) => shuffle(item, seed));
      }
      if (value !== null && typeof value === 'object') {
        const entries = Object.entries(value);
        if (seed % 2 === 1) {
          entries.reverse();
        }
        return Object.fromEntries(entries.map(([k, v]) => [k, shuffle(v, seed)]));
      }
      return value;
    };
    fc.assert(
      fc.property(
        fc.string({ minLength: 1 }),
        fc.constantFrom('incoming_event', 'incoming_chat', 'chat_transferred', 'thread_tagged'),
        fc.dictionary(fc.string(), fc.jsonValue()),
        fc.integer(),
        (organizationId, action, payload, seed) => {
          const key = deriveDedupeKey({ organizationId, action, payload });
          const reordered = shuffle(payload, seed) as Record<string, unknown>;
          expect(deriveDedupeKey({ organizationId, action, payload: reordered })).toBe(key);
          expect(key).not.toContain(':');
          expect(key).not.toMatch(/^\d+$/);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every level and keeps arrays in order', () => {
    expect(canonicalJson({ b: [2, { d: 1, c: 2 }], a: null })).toBe(
      '{"a":null,"b":[2,{"c":2,"d":1}]}',
    );
  });
});

describe('routing statuses', () => {
  it('are not deduplicated: a status flipping back to an earlier value is applied', () => {
    const payload = { agent_id: 'bot', status: 'accepting chats' };
    const first = deriveDedupeKey({ organizationId: ORG, action: 'routing_status_set', payload });
    const again = deriveDedupeKey({ organizationId: ORG, action: 'routing_status_set', payload });
    expect(first).not.toBe(again);
    expect(isDeduplicated('routing_status_set')).toBe(false);
    expect(isDeduplicated('incoming_event')).toBe(true);
    expect(DEDUPE_HORIZON_MS).toBe(86_400_000);
  });
});
