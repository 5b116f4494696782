import { describe, expect, it } from 'vitest';
import { customIdFor, isOurCustomId } from '../custom-ids.js';
import type { ChatSnapshot, SnapshotEvent } from '../shared/snapshot.js';
import { decideKeywordSuggestions, decideTagSuggestions } from './decide.js';
import { CannedResponsesSettings } from './settings.js';

const ORG = 'org-1';
const SETTINGS = CannedResponsesSettings.parse({
  byTag: { refund: ['Refunds take 3–5 business days.', 'Could you share your order number?'] },
  byKeyword: { 'Where is my order': ['Track it at https://example.com/track'], silent: [] },
});

const message: SnapshotEvent = {
  id: 'e1',
  type: 'message',
  author_id: 'customer-1',
  text: 'Hi, where is my order?',
};
const snapshot = (thread: Partial<ChatSnapshot['thread']> = {}): ChatSnapshot => ({
  id: 'chat-1',
  users: [{ id: 'customer-1', type: 'customer' }],
  thread: { id: 'thread-1', active: true, events: [message], tags: ['refund'], ...thread },
});

const tagDecision = (chat: ChatSnapshot, tag = 'refund', settings = SETTINGS) =>
  decideTagSuggestions({ chat, organizationId: ORG, threadId: 'thread-1', tag, settings });
const keywordDecision = (chat: ChatSnapshot, keyword = 'Where is my order', settings = SETTINGS) =>
  decideKeywordSuggestions({
    chat,
    organizationId: ORG,
    threadId: 'thread-1',
    eventId: 'e1',
    keyword,
    settings,
  });
const reasonOf = (decision: { act: true } | { act: false; reason: string }) =>
  decision.act ? 'act' : decision.reason;

describe('decideTagSuggestions', () => {
  it('whispers a readable list of the tag’s suggestions', () => {
    const decision = tagDecision(snapshot());
    expect(decision).toEqual({
      act: true,
      visibility: 'agents',
      text: [
        'Suggested replies for the tag "refund":',
        '1. Refunds take 3–5 business days.',
        '2. Could you share your order number?',
      ].join('\n'),
      customId: customIdFor({
        rule: 'tag',
        organizationId: ORG,
        chatId: 'chat-1',
        threadId: 'thread-1',
        key: 'refund',
      }),
    });
  });

  it('does nothing once the tag was removed (or never had suggestions)', () => {
    expect(reasonOf(tagDecision(snapshot({ tags: ['vip'] })))).toBe('tag removed');
    expect(reasonOf(tagDecision(snapshot({ tags: undefined })))).toBe('tag removed');
    expect(reasonOf(tagDecision(snapshot({ tags: ['Refund'] })))).toBe('tag removed');
    expect(reasonOf(tagDecision(snapshot({ tags: ['other'] }), 'other'))).toBe(
      'no suggestions configured',
    );
  });

  it('does nothing in an inactive thread, when disabled, or when already sent', () => {
    expect(reasonOf(tagDecision(snapshot({ active: false })))).toBe('thread inactive');
    expect(reasonOf(tagDecision(snapshot({ id: 'thread-0' })))).toBe('other thread');
    const off = CannedResponsesSettings.parse({ ...SETTINGS, enabled: false });
    expect(reasonOf(tagDecision(snapshot(), 'refund', off))).toBe('disabled');
    const first = tagDecision(snapshot());
    const sent = { id: 'w', type: 'message', custom_id: first.act ? first.customId : '' };
    expect(reasonOf(tagDecision(snapshot({ events: [message, sent] })))).toBe('already sent');
  });
});

describe('decideKeywordSuggestions', () => {
  it('skips a message the customer deleted (v3.6: a bot reads it without text)', () => {
    const deleted: SnapshotEvent = {
      id: 'e1',
      type: 'message',
      author_id: 'customer-1',
      visibility: 'all',
      deleted: true,
    };
    expect(reasonOf(keywordDecision(snapshot({ events: [deleted] })))).toBe('message deleted');
    expect(reasonOf(keywordDecision(snapshot({ events: [{ ...message, deleted: true }] })))).toBe(
      'message deleted',
    );
  });

  it('whispers the keyword’s suggestions once per thread', () => {
    const decision = keywordDecision(snapshot());
    expect(decision).toMatchObject({
      act: true,
      visibility: 'agents',
      text: 'Suggested replies — the customer mentioned "Where is my order":\n1. Track it at https://example.com/track',
    });
    expect(isOurCustomId(decision.act ? decision.customId : '', 'keyword')).toBe(true);
    // The job's keyword is matched case-insensitively; the once-key is the normalised keyword.
    expect(keywordDecision(snapshot(), 'where IS my order')).toEqual(decision);
    const sent = { id: 'w', type: 'message', custom_id: decision.act ? decision.customId : '' };
    expect(reasonOf(keywordDecision(snapshot({ events: [message, sent] })))).toBe('already sent');
  });

  it('does nothing for a keyword no longer configured, or edited out of the message', () => {
    expect(reasonOf(keywordDecision(snapshot(), 'refund'))).toBe('keyword not configured');
    expect(reasonOf(keywordDecision(snapshot(), 'silent'))).toBe('no suggestions configured');
    const edited = { ...message, text: 'never mind' };
    expect(reasonOf(keywordDecision(snapshot({ events: [edited] })))).toBe(
      'keyword no longer in message',
    );
    // A message missing from the snapshot doesn't block the suggestion.
    expect(reasonOf(keywordDecision(snapshot({ events: [] })))).toBe('act');
  });

  it("does nothing for an agent's message (route took the unknown author for a customer)", () => {
    const byAgent = { ...message, author_id: 'agent-1' };
    const chat = snapshot({ events: [byAgent] });
    expect(
      reasonOf(
        keywordDecision({ ...chat, users: [...chat.users, { id: 'agent-1', type: 'agent' }] }),
      ),
    ).toBe('not a customer message');
    // Not among the chat's users: an agent who left, as for idle replies.
    expect(reasonOf(keywordDecision(chat))).toBe('not a customer message');
  });

  it('does nothing in an inactive thread or when disabled', () => {
    expect(reasonOf(keywordDecision(snapshot({ active: false })))).toBe('thread inactive');
    const off = CannedResponsesSettings.parse({ ...SETTINGS, enabled: false });
    expect(reasonOf(keywordDecision(snapshot(), 'Where is my order', off))).toBe('disabled');
  });
});
