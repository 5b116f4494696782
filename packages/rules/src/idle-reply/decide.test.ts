import type { Chat } from '@nudge/livechat';
import { describe, expect, it } from 'vitest';
import { customIdFor, isOurCustomId } from '../custom-ids.js';
import type { ChatSnapshot, SnapshotEvent } from '../shared/snapshot.js';
import { decideIdleReply, IDLE_CLOCK_TOLERANCE_MS } from './decide.js';
import { IdleReplySettings } from './settings.js';

const ORG = 'org-1';
const BOT = 'bot-1';
const CUSTOMER = 'customer-1';
const AGENT = 'agent@example.com';
const T0 = Date.parse('2024-05-06T08:00:00.000Z'); // Monday 10:00 in Warsaw
const AFTER = 180_000;

const at = (offsetMs: number) => new Date(T0 + offsetMs).toISOString();
const msg = (id: string, author_id: string | undefined, offsetMs: number, more = {}) =>
  ({
    id,
    type: 'message',
    author_id,
    text: 'hi',
    created_at: at(offsetMs),
    ...more,
  }) as SnapshotEvent;

const snapshot = (events: SnapshotEvent[], thread: Partial<ChatSnapshot['thread']> = {}) => ({
  id: 'chat-1',
  users: [
    { id: CUSTOMER, type: 'customer' },
    { id: AGENT, type: 'agent' },
    { id: BOT, type: 'agent' },
  ],
  thread: { id: 'thread-1', active: true, events, ...thread },
});

const decide = (
  chat: ChatSnapshot,
  { eventId = 'e1', now = T0 + AFTER, settings = {} as Record<string, unknown> } = {},
) =>
  decideIdleReply({
    chat,
    organizationId: ORG,
    threadId: 'thread-1',
    eventId,
    settings: IdleReplySettings.parse(settings),
    botIds: new Set([BOT]),
    now,
  });

const reasonOf = (chat: ChatSnapshot, options?: Parameters<typeof decide>[1]) => {
  const decision = decide(chat, options);
  return decision.act ? 'act' : decision.reason;
};

const customerWaits = [msg('e1', CUSTOMER, 0)];

describe('decideIdleReply', () => {
  it('nudges a customer nobody answered, once per customer message', () => {
    const decision = decide(snapshot(customerWaits));
    expect(decision).toEqual({
      act: true,
      text: 'Thanks for waiting — an agent will be with you shortly.',
      visibility: 'all',
      customId: customIdFor({
        rule: 'idle-reply',
        organizationId: ORG,
        chatId: 'chat-1',
        threadId: 'thread-1',
        key: 'e1',
      }),
    });
    expect(isOurCustomId(decision.act ? decision.customId : '', 'idle-reply')).toBe(true);
  });

  it('also whispers to the agents when configured', () => {
    const decision = decide(snapshot(customerWaits), {
      settings: { message: 'Hang on', whisper: 'A customer has waited 3 minutes' },
    });
    expect(decision).toMatchObject({ act: true, text: 'Hang on', visibility: 'all' });
    expect(decision.act && decision.whisper).toMatchObject({
      text: 'A customer has waited 3 minutes',
      visibility: 'agents',
    });
    expect(isOurCustomId(decision.act ? decision.whisper?.customId : '', 'idle-whisper')).toBe(
      true,
    );
  });

  it('does not nudge once a human agent answered', () => {
    expect(reasonOf(snapshot([...customerWaits, msg('e2', AGENT, 60_000)]))).toBe('agent answered');
    const file = { id: 'e2', type: 'file', author_id: AGENT, url: 'u' } as SnapshotEvent;
    expect(reasonOf(snapshot([...customerWaits, file]))).toBe('agent answered');
  });

  it('does not count our bot, system messages or agent whispers as an answer', () => {
    const events = [
      ...customerWaits,
      msg('e2', BOT, 1_000),
      { id: 'e3', type: 'system_message', system_message_type: 'routing.assigned' },
      msg('e4', AGENT, 2_000, { visibility: 'agents' }),
    ];
    expect(reasonOf(snapshot(events))).toBe('act');
  });

  it('takes an author who is not among the chat’s users for a human agent', () => {
    expect(reasonOf(snapshot([...customerWaits, msg('e2', 'left@example.com', 1_000)]))).toBe(
      'agent answered',
    );
    expect(reasonOf(snapshot([msg('e1', 'left@example.com', 0)]))).toBe('not a customer message');
  });

  it('leaves the nudge to the newer timer when the customer wrote again', () => {
    const events = [...customerWaits, msg('e2', CUSTOMER, 60_000)];
    expect(reasonOf(snapshot(events))).toBe('superseded');
    expect(reasonOf(snapshot(events), { eventId: 'e2', now: T0 + 60_000 + AFTER })).toBe('act');
  });

  it('does nothing in an inactive thread, another thread, or when disabled', () => {
    expect(reasonOf(snapshot(customerWaits, { active: false }))).toBe('thread inactive');
    expect(reasonOf(snapshot(customerWaits, { id: 'thread-2' }))).toBe('other thread');
    expect(reasonOf(snapshot(customerWaits), { settings: { enabled: false } })).toBe('disabled');
  });

  it('needs the timer’s event to be a customer message in the thread', () => {
    expect(reasonOf(snapshot(customerWaits), { eventId: 'nope' })).toBe('event not found');
    expect(reasonOf(snapshot([msg('e1', AGENT, 0)]))).toBe('not a customer message');
    expect(reasonOf(snapshot([msg('e1', CUSTOMER, 0, { visibility: 'agents' })]))).toBe(
      'not a customer message',
    );
  });

  it('sends at most maxPerThread nudges per thread, and each only once', () => {
    const earlierNudge = msg('n1', BOT, -1_000, {
      custom_id: customIdFor({
        rule: 'idle-reply',
        organizationId: ORG,
        chatId: 'chat-1',
        threadId: 'thread-1',
        key: 'e0',
      }),
    });
    const events = [msg('e0', CUSTOMER, -200_000), earlierNudge, ...customerWaits];
    expect(reasonOf(snapshot(events))).toBe('max per thread');
    expect(reasonOf(snapshot(events), { settings: { maxPerThread: 2 } })).toBe('act');
    const decision = decide(snapshot(customerWaits));
    const sent = msg('n2', BOT, AFTER, { custom_id: decision.act ? decision.customId : '' });
    expect(reasonOf(snapshot([...customerWaits, sent]), { settings: { maxPerThread: 5 } })).toBe(
      'already sent',
    );
  });

  it('does not fire before afterSeconds by the message’s clock (small tolerance)', () => {
    const early = decide(snapshot(customerWaits), { now: T0 + 100_000 });
    expect(early).toEqual({ act: false, reason: 'too early', retryAfterMs: AFTER - 100_000 });
    expect(reasonOf(snapshot(customerWaits), { now: T0 + AFTER - IDLE_CLOCK_TOLERANCE_MS })).toBe(
      'act',
    );
    const undated = [{ ...msg('e1', CUSTOMER, 0), created_at: 'garbage' }];
    expect(reasonOf(snapshot(undated), { now: T0 })).toBe('act');
  });

  it('respects business hours in the configured time zone', () => {
    const settings = {
      businessHours: { timezone: 'Europe/Warsaw', days: { mon: [['09:00', '17:00']] } },
    };
    // T0 + 3 min = Monday 10:03 Warsaw: open.
    expect(reasonOf(snapshot(customerWaits), { settings })).toBe('act');
    // Same Monday instant in Tokyo is 17:03: closed.
    const tokyo = { businessHours: { ...settings.businessHours, timezone: 'Asia/Tokyo' } };
    expect(reasonOf(snapshot(customerWaits), { settings: tokyo })).toBe('outside business hours');
  });

  it('a deleted customer message leaves nobody waiting (v3.6 deleted event)', () => {
    // What a bot reads in place of a deleted message: no text.
    const deleted = {
      id: 'e1',
      type: 'message',
      author_id: CUSTOMER,
      created_at: at(0),
      visibility: 'all',
      deleted: true,
    } as SnapshotEvent;
    expect(reasonOf(snapshot([deleted]))).toBe('message deleted');
    // An administrator's view (original + deleted) reads the same.
    expect(reasonOf(snapshot([msg('e1', CUSTOMER, 0, { deleted: true })]))).toBe('message deleted');
  });

  it('hands the timer of a deleted message back to the message still waiting', () => {
    const deletedLater = { ...msg('e2', CUSTOMER, 60_000), text: undefined, deleted: true };
    expect(decide(snapshot([msg('e1', CUSTOMER, 0), deletedLater]), { eventId: 'e2' })).toEqual({
      act: false,
      reason: 'superseded',
      supersededBy: 'e1',
      supersededAt: T0,
      retryAfterMs: 0,
    });
    // The waiting message's own timer then nudges: the deleted one is no newer message.
    expect(reasonOf(snapshot([msg('e1', CUSTOMER, 0), deletedLater]))).toBe('act');
    // Answered since: nobody is waiting.
    expect(
      reasonOf(snapshot([msg('e1', CUSTOMER, 0), msg('a1', AGENT, 1_000), deletedLater]), {
        eventId: 'e2',
      }),
    ).toBe('message deleted');
  });

  it('accepts the API client’s parsed Chat as a snapshot', () => {
    const chat: Chat = {
      id: 'chat-1',
      users: [{ id: CUSTOMER, type: 'customer' }],
      properties: {},
      thread: {
        id: 'thread-1',
        active: true,
        user_ids: [],
        properties: {},
        tags: [],
        events: [
          { id: 'e1', type: 'message', author_id: CUSTOMER, text: 'hi', created_at: at(0) },
          { id: 'e2', type: 'system_message', system_message_type: 'x' },
          { id: 'e3', type: 'form', author_id: CUSTOMER },
        ],
        skippedEvents: [],
      },
    };
    expect(reasonOf(chat)).toBe('act');
  });
});
