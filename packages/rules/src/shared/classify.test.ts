import { WEBHOOK_PAYLOADS } from '@nudge/livechat';
import {
  FIXTURE_AGENT_ID,
  FIXTURE_BOT_ID,
  FIXTURE_CUSTOMER_ID,
  FIXTURES,
} from '@nudge/livechat/testing';
import { describe, expect, it } from 'vitest';
import { configuredKeyword, findKeywords } from '../canned-responses/keywords.js';
import {
  classifyAuthor,
  isAnswerEvent,
  isWaitingEvent,
  knownUsersFrom,
  usersFromIncomingChat,
  usersFromUserAddedToChat,
} from './classify.js';

const botIds = new Set([FIXTURE_BOT_ID]);
const knownUsers = new Map([
  [FIXTURE_CUSTOMER_ID, 'customer' as const],
  [FIXTURE_AGENT_ID, 'agent' as const],
  // A bot listed as an agent user (as LiveChat reports it) is still ours.
  [FIXTURE_BOT_ID, 'agent' as const],
]);

describe('classifyAuthor', () => {
  const by = (author_id?: string) =>
    classifyAuthor({
      event: { type: author_id ? 'message' : 'system_message', author_id },
      botIds,
      knownUsers,
    });

  it('puts our bots first, then known users, system messages, and the rest as unknown', () => {
    expect(by(FIXTURE_BOT_ID)).toBe('bot');
    expect(by(FIXTURE_CUSTOMER_ID)).toBe('customer');
    expect(by(FIXTURE_AGENT_ID)).toBe('agent');
    expect(by(undefined)).toBe('system');
    expect(by('someone@example.com')).toBe('unknown');
    expect(classifyAuthor({ event: { type: 'message', author_id: 'x' }, botIds: new Set() })).toBe(
      'unknown',
    );
  });
});

describe('users to remember', () => {
  it('come from incoming_chat and user_added_to_chat', () => {
    const chat = WEBHOOK_PAYLOADS.incoming_chat.parse(FIXTURES.incoming_chat.payload);
    expect(usersFromIncomingChat(chat)).toEqual([
      { id: '345f8235-d60d-433e-63c5-7f813a6ffe25', type: 'customer' },
      { id: FIXTURE_BOT_ID, type: 'agent' },
    ]);
    const added = WEBHOOK_PAYLOADS.user_added_to_chat.parse(FIXTURES.user_added_to_chat.payload);
    expect(usersFromUserAddedToChat(added)).toEqual([{ id: FIXTURE_AGENT_ID, type: 'agent' }]);
  });

  it('skip users of a type LiveChat might add later', () => {
    const added = WEBHOOK_PAYLOADS.user_added_to_chat.parse({
      ...FIXTURES.user_added_to_chat.payload,
      user: { id: 'x', type: 'supervisor' },
      user_type: undefined,
    });
    expect(usersFromUserAddedToChat(added)).toEqual([]);
    expect(knownUsersFrom([{ id: 'a', type: 'customer' }], new Map([['b', 'agent']]))).toEqual(
      new Map([
        ['b', 'agent'],
        ['a', 'customer'],
      ]),
    );
  });
});

describe('event predicates', () => {
  it('count messages, files and forms as waiting, whispers never', () => {
    expect(isWaitingEvent({ type: 'message' })).toBe(true);
    expect(isWaitingEvent({ type: 'filled_form', visibility: 'all' })).toBe(true);
    expect(isWaitingEvent({ type: 'message', visibility: 'agents' })).toBe(false);
    expect(isWaitingEvent({ type: 'system_message' })).toBe(false);
    expect(isAnswerEvent({ type: 'rich_message' })).toBe(true);
    expect(isAnswerEvent({ type: 'message', visibility: 'agents' })).toBe(false);
    expect(isAnswerEvent({ type: 'custom' })).toBe(false);
  });
});

describe('findKeywords', () => {
  const keywords = ['order', 'where is my order', 'c++', 'zamówienie', '#1234'];

  it('matches whole words and phrases, case-insensitively', () => {
    expect(findKeywords('Where is my ORDER?', keywords)).toEqual(['order', 'where is my order']);
    expect(findKeywords('where  is\nmy order', keywords)).toEqual(['order', 'where is my order']);
    expect(findKeywords('Order: 5', keywords)).toEqual(['order']);
    expect(findKeywords('Gdzie jest moje ZAMÓWIENIE', keywords)).toEqual(['zamówienie']);
    expect(findKeywords('I code in C++ daily', keywords)).toEqual(['c++']);
    expect(findKeywords('Ticket #1234.', keywords)).toEqual(['#1234']);
  });

  it('does not match inside other words', () => {
    expect(findKeywords('the border is closed', keywords)).toEqual([]);
    expect(findKeywords('my orders', keywords)).toEqual([]);
    expect(findKeywords('reorder_now', keywords)).toEqual([]);
    expect(findKeywords('zamówienie2', keywords)).toEqual([]);
    expect(findKeywords('#12345', keywords)).toEqual([]);
  });

  it('finds a configured keyword exactly, else case-insensitively', () => {
    const byKeyword = { Order: ['a'], constructor: [] };
    expect(configuredKeyword(byKeyword, 'Order')).toBe('Order');
    expect(configuredKeyword(byKeyword, 'order')).toBe('Order');
    expect(configuredKeyword(byKeyword, 'refund')).toBeUndefined();
    expect(configuredKeyword({}, 'toString')).toBeUndefined();
  });
});
