import { Chat, parseWebhookPayload } from '@nudge/livechat';
import { deriveDedupeKey } from '@nudge/queues';
import { describe, expect, it } from 'vitest';
import { storedWebhook, webhooksOfChat } from './reconcile.js';

const ORG = 'org-1';
const customer = { id: 'cust-1', type: 'customer', name: 'Jane', present: true };
const agent = { id: 'agent-1', type: 'agent', name: 'Ann', present: true };

/** A get_chat answer, as the client parses it. */
const chat = Chat.parse({
  id: 'CHAT1',
  users: [customer, agent],
  properties: {},
  thread: {
    id: 'THREAD1',
    active: true,
    created_at: '2026-11-30T10:00:00.000000Z',
    user_ids: ['cust-1', 'agent-1'],
    tags: ['refund'],
    properties: { rating: { score: 1, comment: 'Great' } },
    events: [
      {
        id: 'THREAD1_1',
        type: 'message',
        text: 'before the outage',
        author_id: 'cust-1',
        created_at: '2026-11-30T10:00:01.000000Z',
        visibility: 'all',
      },
      {
        id: 'THREAD1_2',
        type: 'message',
        text: 'during the outage',
        author_id: 'cust-1',
        created_at: '2026-11-30T10:05:00.000000Z',
        visibility: 'all',
      },
    ],
  },
});
const SINCE = Date.parse('2026-11-30T10:04:00Z');

describe('webhooksOfChat', () => {
  const webhooks = webhooksOfChat(chat, ORG, SINCE);

  it('implies the chat, the events since the outage began, each tag and the rating', () => {
    expect(webhooks.map((webhook) => webhook.action)).toEqual([
      'incoming_chat',
      'incoming_event',
      'thread_tagged',
      'thread_properties_updated',
    ]);
    expect(webhooks[1]?.payload).toMatchObject({
      chat_id: 'CHAT1',
      thread_id: 'THREAD1',
      event: { id: 'THREAD1_2' },
    });
    expect(webhooks[2]?.payload).toEqual({ chat_id: 'CHAT1', thread_id: 'THREAD1', tag: 'refund' });
    expect(webhooks[3]?.payload).toEqual({
      chat_id: 'CHAT1',
      thread_id: 'THREAD1',
      properties: { rating: { score: 1, comment: 'Great' } },
    });
    expect(webhooks.every((webhook) => webhook.organization_id === ORG)).toBe(true);
  });

  it('each one passes the schema of its action, as a webhook would', () => {
    for (const webhook of webhooks) {
      const parsed = parseWebhookPayload(webhook.action as 'incoming_chat', webhook.payload);
      expect(parsed.success, webhook.action).toBe(true);
    }
  });

  it('is stored under the dedupe key of the webhook LiveChat would have sent', () => {
    const now = Date.parse('2026-11-30T10:10:00Z');
    const [incomingChat, incomingEvent, tagged] = webhooks.map((webhook) =>
      storedWebhook(ORG, webhook, now),
    );
    // The webhooks LiveChat sends carry more (a whole thread, other fields); the keys are
    // made from their natural ids, so they match.
    expect(incomingChat?.dedupeKey).toBe(
      deriveDedupeKey({
        organizationId: ORG,
        action: 'incoming_chat',
        payload: { chat: { id: 'CHAT1', thread: { id: 'THREAD1', events: [] } } },
      }),
    );
    expect(incomingEvent?.dedupeKey).toBe(
      deriveDedupeKey({
        organizationId: ORG,
        action: 'incoming_event',
        payload: { chat_id: 'CHAT1', thread_id: 'THREAD1', event: { id: 'THREAD1_2' } },
      }),
    );
    expect(tagged?.dedupeKey).toBe(
      deriveDedupeKey({
        organizationId: ORG,
        action: 'thread_tagged',
        payload: { chat_id: 'CHAT1', thread_id: 'THREAD1', tag: 'refund' },
      }),
    );
    expect(incomingChat).toMatchObject({ organizationId: ORG, chatId: 'CHAT1', receivedAt: now });
    expect(incomingEvent?.chatId).toBe('CHAT1');
  });

  it('leaves out what a thread without tags or rating does not imply', () => {
    const plain = Chat.parse({
      id: 'CHAT2',
      users: [customer],
      thread: { id: 'T2', active: true, events: [] },
    });
    expect(webhooksOfChat(plain, ORG, SINCE).map((webhook) => webhook.action)).toEqual([
      'incoming_chat',
    ]);
  });
});
