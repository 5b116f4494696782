import { WEBHOOK_ACTIONS, WEBHOOK_PAYLOADS, type WebhookAction } from '@nudge/livechat';
import {
  FIXTURE_AGENT_ID,
  FIXTURE_BOT_ID,
  FIXTURE_CUSTOMER_ID,
  FIXTURE_ORGANIZATION_ID,
  FIXTURES,
} from '@nudge/livechat/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RouteInput, type RouteIntent, routeWebhook } from './route.js';
import { type RuleSettings, RuleSettings as RuleSettingsSchema } from './settings.js';
import type { UserType } from './shared/classify.js';

const CHAT_ID = 'PJ0MRSHTDG';
const THREAD_ID = 'K600PKZON8';
const botIds: ReadonlySet<string> = new Set([FIXTURE_BOT_ID]);
const knownUsers: ReadonlyMap<string, UserType> = new Map([
  [FIXTURE_CUSTOMER_ID, 'customer'],
  [FIXTURE_AGENT_ID, 'agent'],
]);
const SETTINGS = RuleSettingsSchema.parse({
  cannedResponses: {
    byTag: { refund: ['Refunds take 3–5 business days.'], empty: [] },
    byKeyword: { order: ['Track it here'], 'where is my order': ['Tracking page'], muted: [] },
  },
});

type RouteOptions = {
  settings?: RuleSettings;
  knownUsers?: ReadonlyMap<string, UserType>;
  now?: number;
};

const route = (action: WebhookAction, payload: unknown, options: RouteOptions = {}) =>
  routeWebhook({
    action,
    payload: WEBHOOK_PAYLOADS[action].parse(payload),
    organizationId: FIXTURE_ORGANIZATION_ID,
    botIds,
    knownUsers: options.knownUsers ?? knownUsers,
    settings: options.settings ?? SETTINGS,
    now: options.now,
  } as RouteInput);

const withSettings = (override: Partial<Record<keyof RuleSettings, object>>): RuleSettings =>
  RuleSettingsSchema.parse({
    idleReply: { ...SETTINGS.idleReply, ...override.idleReply },
    cannedResponses: { ...SETTINGS.cannedResponses, ...override.cannedResponses },
    ratingReactions: { ...SETTINGS.ratingReactions, ...override.ratingReactions },
  });
const disabled = (rule: keyof RuleSettings) => withSettings({ [rule]: { enabled: false } });

const event = (fields: Record<string, unknown>) => ({
  chat_id: CHAT_ID,
  thread_id: THREAD_ID,
  event: {
    id: `${THREAD_ID}_9`,
    created_at: '2024-05-07T10:11:12.345678Z',
    type: 'message',
    text: 'Hello',
    author_id: FIXTURE_CUSTOMER_ID,
    visibility: 'all',
    ...fields,
  },
});
const rated = (text_vars: Record<string, unknown>, type = 'rating.chat_rated') =>
  event({ type: 'system_message', author_id: undefined, system_message_type: type, text_vars });

const kinds = (intents: RouteIntent[]) => intents.map((intent) => intent.kind);
/** `created_at` of `event()` and of the incoming_event fixture's message, in ms. */
const EVENT_CREATED = Date.parse('2024-05-07T10:11:12.345Z');

describe('routeWebhook: idle reply', () => {
  it('schedules the nudge on a customer message', () => {
    expect(route('incoming_event', event({}))).toEqual([
      {
        kind: 'schedule-idle-reply',
        chatId: CHAT_ID,
        threadId: THREAD_ID,
        eventId: `${THREAD_ID}_9`,
        startedAt: EVENT_CREATED,
        delayMs: 180_000,
      },
    ]);
  });

  it('counts the delay from the message’s created_at when now is given', () => {
    const created = Date.parse('2024-05-07T10:11:12.345Z');
    const delay = (now: number) => {
      const [intent] = route('incoming_event', event({}), { now });
      return intent?.kind === 'schedule-idle-reply' ? intent.delayMs : undefined;
    };
    expect(delay(created + 30_000)).toBe(150_000);
    expect(delay(created + 500_000)).toBe(0);
    // A message "from the future" (clock skew) never waits longer than afterSeconds.
    expect(delay(created - 10_000)).toBe(180_000);
    expect(
      route('incoming_event', event({ created_at: 'yesterday' }), { now: created })[0],
    ).toMatchObject({ delayMs: 180_000 });
  });

  it('schedules on an unknown author too (the fire-time decision re-reads the chat)', () => {
    expect(kinds(route('incoming_event', event({ author_id: 'new-user' })))).toEqual([
      'schedule-idle-reply',
    ]);
    expect(kinds(route('incoming_event', event({}), { knownUsers: new Map() }))).toEqual([
      'schedule-idle-reply',
    ]);
  });

  it('cancels on a human agent message, not on a whisper', () => {
    expect(route('incoming_event', event({ author_id: FIXTURE_AGENT_ID }))).toEqual([
      {
        kind: 'cancel-idle-reply',
        chatId: CHAT_ID,
        threadId: THREAD_ID,
        reason: 'agent answered',
        // A timer a later customer message started stays.
        startedBefore: EVENT_CREATED,
      },
    ]);
    expect(
      route('incoming_event', event({ author_id: FIXTURE_AGENT_ID, visibility: 'agents' })),
    ).toEqual([]);
  });

  it('cancels when the chat is deactivated', () => {
    expect(route('chat_deactivated', FIXTURES.chat_deactivated.payload)).toEqual([
      {
        kind: 'cancel-idle-reply',
        chatId: CHAT_ID,
        threadId: THREAD_ID,
        reason: 'chat deactivated',
      },
    ]);
    expect(
      route(
        'chat_deactivated',
        { chat_id: CHAT_ID, thread_id: THREAD_ID },
        {
          settings: disabled('idleReply'),
        },
      ),
    ).toEqual([]);
  });

  it('ignores system messages, whispers and event edits', () => {
    expect(route('incoming_event', rated({}, 'routing.assigned'))).toEqual([]);
    expect(route('incoming_event', event({ author_id: 'x', visibility: 'agents' }))).toEqual([]);
    expect(route('event_updated', event({}))).toEqual([]);
  });

  it('yields nothing when disabled', () => {
    expect(route('incoming_event', event({}), { settings: disabled('idleReply') })).toEqual([]);
    expect(
      route('incoming_event', event({ author_id: FIXTURE_AGENT_ID }), {
        settings: disabled('idleReply'),
      }),
    ).toEqual([]);
  });
});

describe('routeWebhook: incoming_chat', () => {
  const chat = (events: Record<string, unknown>[], active = true) => {
    const payload = structuredClone(FIXTURES.incoming_chat.payload) as {
      chat: { users: unknown[]; thread: Record<string, unknown> };
    };
    payload.chat.users.push({ id: FIXTURE_AGENT_ID, type: 'agent' });
    payload.chat.thread.events = events;
    payload.chat.thread.active = active;
    return payload;
  };
  const customer = '345f8235-d60d-433e-63c5-7f813a6ffe25';
  const message = (id: string, author_id: string, text = 'hi') => ({
    id,
    type: 'message',
    author_id,
    text,
    created_at: '2024-05-07T10:00:03.000000Z',
  });
  const MESSAGE_CREATED = Date.parse('2024-05-07T10:00:03.000Z');

  it('remembers the users and schedules from the last customer event (fixture: pre-chat form)', () => {
    expect(
      route('incoming_chat', FIXTURES.incoming_chat.payload, { knownUsers: new Map() }),
    ).toEqual([
      {
        kind: 'remember-users',
        chatId: 'PS0X0L086G',
        users: [
          { id: customer, type: 'customer' },
          { id: FIXTURE_BOT_ID, type: 'agent' },
        ],
      },
      {
        kind: 'schedule-idle-reply',
        chatId: 'PS0X0L086G',
        threadId: 'PZ070E0W1B',
        eventId: 'PZ070E0W1B_1',
        startedAt: Date.parse('2024-05-07T10:00:02.300Z'),
        delayMs: 180_000,
      },
    ]);
  });

  it('uses the chat’s own users to tell customers, agents and our bot apart', () => {
    const intents = route(
      'incoming_chat',
      chat([
        message('e1', customer, 'where is my order'),
        message('e2', FIXTURE_BOT_ID, 'Hi! I am a bot. Order?'),
        message('e3', customer, 'hello?'),
      ]),
      { knownUsers: new Map() },
    );
    expect(intents.filter((intent) => intent.kind !== 'remember-users')).toEqual([
      {
        kind: 'schedule-idle-reply',
        chatId: 'PS0X0L086G',
        threadId: 'PZ070E0W1B',
        eventId: 'e3',
        startedAt: MESSAGE_CREATED,
        delayMs: 180_000,
      },
      {
        kind: 'suggest-for-keyword',
        chatId: 'PS0X0L086G',
        threadId: 'PZ070E0W1B',
        eventId: 'e1',
        keyword: 'order',
      },
      {
        kind: 'suggest-for-keyword',
        chatId: 'PS0X0L086G',
        threadId: 'PZ070E0W1B',
        eventId: 'e1',
        keyword: 'where is my order',
      },
    ]);
  });

  it('does not schedule when an agent already answered, or the thread is closed', () => {
    const answered = [message('e1', customer), message('e2', FIXTURE_AGENT_ID)];
    expect(kinds(route('incoming_chat', chat(answered)))).toEqual(['remember-users']);
    expect(kinds(route('incoming_chat', chat([message('e1', customer)], false)))).toEqual([
      'remember-users',
    ]);
  });

  it('ignores deleted messages and still routes around an event that does not parse', () => {
    const deleted = { id: 'e2', type: 'message', author_id: customer, deleted: true };
    const intents = route(
      'incoming_chat',
      chat([message('e1', customer, 'hello'), deleted, { id: 'e3', type: 'message' }]),
    );
    // e2 was deleted (no text, not waiting); e3 has no text or author and is left out.
    expect(intents.filter((intent) => intent.kind !== 'remember-users')).toEqual([
      {
        kind: 'schedule-idle-reply',
        chatId: 'PS0X0L086G',
        threadId: 'PZ070E0W1B',
        eventId: 'e1',
        startedAt: MESSAGE_CREATED,
        delayMs: 180_000,
      },
    ]);
    const original = { ...message('e2', customer, 'where is my order'), deleted: true };
    expect(kinds(route('incoming_chat', chat([original])))).toEqual(['remember-users']);
  });
});

describe('routeWebhook: canned responses', () => {
  it('suggests for a configured tag, case-sensitively', () => {
    expect(route('thread_tagged', FIXTURES.thread_tagged.payload)).toEqual([
      { kind: 'suggest-for-tag', chatId: CHAT_ID, threadId: THREAD_ID, tag: 'refund' },
    ]);
    const tagged = (tag: string) =>
      route('thread_tagged', { chat_id: CHAT_ID, thread_id: THREAD_ID, tag });
    expect(tagged('Refund')).toEqual([]);
    expect(tagged('empty')).toEqual([]);
    expect(tagged('constructor')).toEqual([]);
    expect(route('thread_untagged', FIXTURES.thread_untagged.payload)).toEqual([]);
    expect(
      route('thread_tagged', FIXTURES.thread_tagged.payload, {
        settings: disabled('cannedResponses'),
      }),
    ).toEqual([]);
  });

  it('suggests for each keyword in a customer message, whole words only', () => {
    expect(route('incoming_event', FIXTURES.incoming_event.payload)).toEqual([
      {
        kind: 'schedule-idle-reply',
        chatId: CHAT_ID,
        threadId: THREAD_ID,
        eventId: `${THREAD_ID}_4`,
        startedAt: EVENT_CREATED,
        delayMs: 180_000,
      },
      {
        kind: 'suggest-for-keyword',
        chatId: CHAT_ID,
        threadId: THREAD_ID,
        eventId: `${THREAD_ID}_4`,
        keyword: 'order',
      },
      {
        kind: 'suggest-for-keyword',
        chatId: CHAT_ID,
        threadId: THREAD_ID,
        eventId: `${THREAD_ID}_4`,
        keyword: 'where is my order',
      },
    ]);
    const keywordsIn = (text: string, fields: Record<string, unknown> = {}) =>
      route('incoming_event', event({ text, ...fields })).flatMap((intent) =>
        intent.kind === 'suggest-for-keyword' ? [intent.keyword] : [],
      );
    expect(keywordsIn('My ORDER is late')).toEqual(['order']);
    expect(keywordsIn('It is stuck at the border')).toEqual([]);
    expect(keywordsIn('muted')).toEqual([]);
    expect(keywordsIn('order', { author_id: 'stranger' })).toEqual(['order']);
    expect(keywordsIn('order', { author_id: FIXTURE_AGENT_ID })).toEqual([]);
    expect(keywordsIn('order', { author_id: 'stranger', visibility: 'agents' })).toEqual([]);
  });

  it('suggests for keywords an edit added, without restarting the idle timer', () => {
    expect(kinds(route('event_updated', FIXTURES.event_updated.payload))).toEqual([
      'suggest-for-keyword',
      'suggest-for-keyword',
    ]);
  });

  it('yields no keyword intents when disabled', () => {
    expect(
      kinds(
        route('incoming_event', event({ text: 'order' }), {
          settings: disabled('cannedResponses'),
        }),
      ),
    ).toEqual(['schedule-idle-reply']);
  });
});

describe('routeWebhook: rating reactions', () => {
  const expected = {
    kind: 'react-to-rating',
    chatId: CHAT_ID,
    threadId: THREAD_ID,
    score: 1,
    comment: 'Well done!',
  };

  it('gives the same intent for the property and the system message', () => {
    expect(route('thread_properties_updated', FIXTURES.thread_properties_updated.payload)).toEqual([
      expected,
    ]);
    expect(route('incoming_event', rated({ score: 'good', comment: 'Well done!' }))).toEqual([
      expected,
    ]);
  });

  it('reads scores leniently and a changed score as a new intent', () => {
    const property = (rating: Record<string, unknown>) =>
      route('thread_properties_updated', {
        chat_id: CHAT_ID,
        thread_id: THREAD_ID,
        properties: { rating },
      });
    expect(property({ score: 0 })).toEqual([
      { kind: 'react-to-rating', chatId: CHAT_ID, threadId: THREAD_ID, score: 0 },
    ]);
    expect(property({ score: '1', comment: '  ' })).toEqual([
      { kind: 'react-to-rating', chatId: CHAT_ID, threadId: THREAD_ID, score: 1 },
    ]);
    expect(property({ score: 5 })).toEqual([]);
    expect(property({ comment: 'only a comment' })).toEqual([]);
    expect(
      route('thread_properties_updated', {
        chat_id: CHAT_ID,
        thread_id: THREAD_ID,
        properties: { routing: { idle: true } },
      }),
    ).toEqual([]);
    expect(route('incoming_event', rated({ score: 'BAD' }))).toEqual([
      { kind: 'react-to-rating', chatId: CHAT_ID, threadId: THREAD_ID, score: 0 },
    ]);
    expect(route('incoming_event', rated({ score: 'Good' }))[0]).toMatchObject({ score: 1 });
  });

  it('ignores unreadable scores, comment-only messages and cancellations', () => {
    expect(route('incoming_event', rated({}))).toEqual([]);
    expect(route('incoming_event', rated({ score: 'meh' }))).toEqual([]);
    expect(route('incoming_event', rated({ comment: 'x' }, 'rating.chat_commented'))).toEqual([]);
    expect(route('incoming_event', rated({}, 'rating.chat_rating_canceled'))).toEqual([]);
    expect(route('thread_properties_deleted', FIXTURES.thread_properties_deleted.payload)).toEqual(
      [],
    );
  });

  it('yields nothing when disabled', () => {
    const settings = disabled('ratingReactions');
    expect(
      route('thread_properties_updated', FIXTURES.thread_properties_updated.payload, { settings }),
    ).toEqual([]);
    expect(route('incoming_event', rated({ score: 'good' }), { settings })).toEqual([]);
  });
});

describe('routeWebhook: bookkeeping and our own bots', () => {
  it('remembers added users and our bots’ routing statuses', () => {
    expect(route('user_added_to_chat', FIXTURES.user_added_to_chat.payload)).toEqual([
      { kind: 'remember-users', chatId: CHAT_ID, users: [{ id: FIXTURE_AGENT_ID, type: 'agent' }] },
    ]);
    expect(route('routing_status_set', FIXTURES.routing_status_set.payload)).toEqual([
      { kind: 'set-routing-status', agentId: FIXTURE_BOT_ID, status: 'accepting_chats' },
    ]);
    expect(
      route('routing_status_set', { agent_id: FIXTURE_AGENT_ID, status: 'not accepting chats' }),
    ).toEqual([]);
    expect(route('chat_transferred', FIXTURES.chat_transferred.payload)).toEqual([]);
  });

  it('yields no intents for events by our own bots', () => {
    for (const fields of [
      { text: 'Where is my order?' },
      { type: 'file', url: 'https://example.com/f.png' },
      { visibility: 'agents', text: 'order' },
    ]) {
      const payload = event({ author_id: FIXTURE_BOT_ID, ...fields });
      expect(route('incoming_event', payload)).toEqual([]);
      expect(route('event_updated', payload)).toEqual([]);
    }
  });
});

describe('routeWebhook: any accepted payload', () => {
  const id = fc.constantFrom(FIXTURE_BOT_ID, FIXTURE_AGENT_ID, FIXTURE_CUSTOMER_ID, 'x', '');
  const json = fc.jsonValue({ maxDepth: 2 });
  const anEvent = fc.record(
    {
      id: fc.string(),
      type: fc.constantFrom('message', 'system_message', 'file', 'filled_form', 'custom', 'form'),
      author_id: id,
      text: fc.oneof(fc.string(), fc.constantFrom('Where is my ORDER?', '(order]*')),
      created_at: fc.oneof(
        fc.string(),
        fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      ),
      visibility: fc.constantFrom('all', 'agents', 'other'),
      system_message_type: fc.constantFrom(
        'rating.chat_rated',
        'rating.chat_commented',
        'rating.chat_rating_canceled',
        'other',
      ),
      text_vars: fc.dictionary(fc.constantFrom('score', 'comment', 'customer'), json),
      url: fc.string(),
      form_id: fc.string(),
    },
    { requiredKeys: ['id', 'type'] },
  );
  const payload = fc.record(
    {
      chat_id: fc.string(),
      thread_id: fc.string(),
      event: anEvent,
      tag: fc.string(),
      user_id: id,
      agent_id: id,
      status: fc.constantFrom('accepting chats', 'offline', 'nope'),
      user: fc.record({ id, type: fc.string() }),
      user_type: fc.string(),
      properties: fc.oneof(
        fc.dictionary(fc.string(), fc.dictionary(fc.string(), json)),
        fc.record({ rating: fc.dictionary(fc.constantFrom('score', 'comment'), json) }),
        fc.dictionary(fc.string(), fc.array(fc.string())),
      ),
      chat: fc.record({
        id: fc.string(),
        users: fc.array(fc.record({ id, type: fc.constantFrom('customer', 'agent', 'x') })),
        thread: fc.record(
          { id: fc.string(), active: fc.boolean(), events: fc.array(anEvent, { maxLength: 5 }) },
          { requiredKeys: ['id'] },
        ),
      }),
    },
    {
      requiredKeys: ['chat_id', 'thread_id', 'event', 'tag', 'agent_id', 'status', 'user', 'chat'],
    },
  );
  const settings = fc.record({
    idleReply: fc.record({ enabled: fc.boolean(), afterSeconds: fc.integer({ min: 5 }) }),
    cannedResponses: fc.record({
      enabled: fc.boolean(),
      byTag: fc.dictionary(fc.string(), fc.array(fc.constant('x'), { maxLength: 2 })),
      byKeyword: fc.dictionary(
        fc.oneof(fc.string(), fc.constantFrom('order', 'c++', '(order]*', '\\d', '$1')),
        fc.array(fc.constant('x'), { maxLength: 2 }),
      ),
    }),
    ratingReactions: fc.record({ enabled: fc.boolean() }),
  });

  it('never throws and yields well-formed intents', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...WEBHOOK_ACTIONS),
        payload,
        settings,
        fc.option(fc.integer({ min: 0, max: 4e12 }), { nil: undefined }),
        (action, raw, rawSettings, now) => {
          const parsed = WEBHOOK_PAYLOADS[action].safeParse(raw);
          const parsedSettings = RuleSettingsSchema.safeParse(rawSettings);
          fc.pre(parsed.success && parsedSettings.success);
          if (!parsed.success || !parsedSettings.success) {
            return;
          }
          const intents = routeWebhook({
            action,
            payload: parsed.data,
            organizationId: FIXTURE_ORGANIZATION_ID,
            botIds,
            knownUsers,
            settings: parsedSettings.data,
            now,
          } as RouteInput);
          for (const intent of intents) {
            if (intent.kind === 'schedule-idle-reply') {
              expect(intent.delayMs).toBeGreaterThanOrEqual(0);
              expect(intent.delayMs).toBeLessThanOrEqual(
                parsedSettings.data.idleReply.afterSeconds * 1000,
              );
            }
            if (intent.kind === 'react-to-rating') {
              expect([0, 1]).toContain(intent.score);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
