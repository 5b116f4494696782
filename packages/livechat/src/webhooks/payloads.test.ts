import { describe, expect, it } from 'vitest';
import { organizationOf, WebhookEnvelope } from './envelope.js';
import { FIXTURES, fixtureEnvelope } from './fixtures.js';
import { isWebhookAction, parseWebhookPayload, WEBHOOK_ACTIONS } from './payloads.js';

describe('webhook fixtures', () => {
  it.each(WEBHOOK_ACTIONS)('%s: the envelope and payload parse', (action) => {
    const envelope = WebhookEnvelope.parse(FIXTURES[action]);
    expect(envelope.action).toBe(action);
    const payload = parseWebhookPayload(action, envelope.payload);
    expect(payload.error?.issues).toBeUndefined();
  });
});

describe('WebhookEnvelope', () => {
  it('keeps unknown top-level keys (v3.6 requester) and accepts a non-UUID organization', () => {
    const envelope = WebhookEnvelope.parse({
      ...FIXTURES.thread_tagged,
      organization_id: 'org-not-a-uuid',
      requester: { user_id: 'a@b.c', client_id: 'x' },
    });
    expect(envelope.requester).toEqual({ user_id: 'a@b.c', client_id: 'x' });
    expect(organizationOf(envelope)).toBe('org-not-a-uuid');
  });

  it('accepts the legacy integer license_id in place of organization_id', () => {
    const { organization_id: _, ...legacy } = FIXTURES.thread_tagged;
    const envelope = WebhookEnvelope.parse({ ...legacy, license_id: 104130623 });
    expect(organizationOf(envelope)).toBe('104130623');
  });

  it('tolerates a missing webhook_id and additional_data', () => {
    const { webhook_id: _w, additional_data: _a, ...bare } = FIXTURES.chat_deactivated;
    expect(WebhookEnvelope.safeParse(bare).success).toBe(true);
  });

  it.each([
    ['no organization', { organization_id: undefined }],
    ['payload not an object', { payload: [1, 2] }],
    ['action missing', { action: undefined }],
    ['action not a string', { action: 42 }],
    ['secret not a string', { secret_key: 7 }],
  ])('rejects an envelope with %s', (_name, change) => {
    expect(WebhookEnvelope.safeParse({ ...FIXTURES.thread_tagged, ...change }).success).toBe(false);
  });
});

describe('payload schemas', () => {
  it('normalises both routing status spellings', () => {
    for (const [sent, normalised] of [
      ['accepting chats', 'accepting_chats'],
      ['accepting_chats', 'accepting_chats'],
      ['not accepting chats', 'not_accepting_chats'],
      ['not_accepting_chats', 'not_accepting_chats'],
      ['offline', 'offline'],
    ] as const) {
      const result = parseWebhookPayload('routing_status_set', { agent_id: 'bot', status: sent });
      expect(result.data?.status).toBe(normalised);
    }
    expect(
      parseWebhookPayload('routing_status_set', { agent_id: 'b', status: 'busy' }).success,
    ).toBe(false);
  });

  it('accepts chat_deactivated without user_id (closed by the router)', () => {
    const payload = fixtureEnvelope('chat_deactivated').payload;
    delete payload.user_id;
    expect(parseWebhookPayload('chat_deactivated', payload).success).toBe(true);
  });

  it('accepts chat_transferred without thread_id (inactive chat)', () => {
    const payload = fixtureEnvelope('chat_transferred').payload;
    delete payload.thread_id;
    expect(parseWebhookPayload('chat_transferred', payload).success).toBe(true);
  });

  it('keeps events of unknown types with their fields', () => {
    const payload = fixtureEnvelope('incoming_event', {
      payload: { event: { id: 'E_1', type: 'system', source: 'x', subtype: 'y', details: '{}' } },
    }).payload;
    const result = parseWebhookPayload('incoming_event', payload);
    expect(result.data?.event).toMatchObject({ type: 'system', source: 'x', details: '{}' });
  });

  it('parses every documented event type', () => {
    const events = [
      { id: 'E_1', type: 'message', author_id: 'c', text: 'hi', visibility: 'all' },
      {
        id: 'E_2',
        type: 'system_message',
        system_message_type: 'rating.chat_rated',
        text_vars: { score: 'good' },
      },
      {
        id: 'E_3',
        type: 'file',
        author_id: 'c',
        url: 'https://cdn.example.com/a.png',
        name: 'a.png',
      },
      { id: 'E_4', type: 'filled_form', author_id: 'c', form_id: 'f', fields: [] },
      { id: 'E_5', type: 'rich_message', author_id: 'b', template_id: 'cards', elements: [] },
      { id: 'E_6', type: 'custom', author_id: 'b', content: { any: 'thing' } },
    ];
    for (const event of events) {
      const result = parseWebhookPayload('incoming_event', { chat_id: 'C', thread_id: 'T', event });
      expect(result.data?.event.type, event.type).toBe(event.type);
    }
  });

  it('rejects a known event type missing a required field', () => {
    const result = parseWebhookPayload('incoming_event', {
      chat_id: 'C',
      thread_id: 'T',
      event: { id: 'E_1', type: 'message', author_id: 'c' },
    });
    expect(result.success).toBe(false);
  });

  it('parses a deleted event in both forms (v3.6: stripped for bots, original for admins)', () => {
    const stripped = {
      id: 'E_1',
      custom_id: '31-0C-1C-07-DB-16',
      type: 'message',
      deleted: true,
      author_id: 'c',
      created_at: '2017-10-12T15:19:21.010200Z',
    };
    const result = parseWebhookPayload('incoming_chat', {
      chat: { id: 'C', thread: { id: 'T', events: [stripped] } },
    });
    expect(result.data?.chat.thread).toMatchObject({ events: [stripped], skippedEvents: [] });
    const original = { ...stripped, text: 'hi', visibility: 'all' };
    expect(
      parseWebhookPayload('incoming_event', { chat_id: 'C', thread_id: 'T', event: original }).data
        ?.event,
    ).toEqual(original);
  });

  it('leaves out (and lists) thread events that do not parse instead of failing the chat', () => {
    const events = [
      { id: 'E_1', type: 'message', author_id: 'c', text: 'hi' },
      { id: 'E_2', type: 'message', author_id: 'c' },
      { text: 'no id, no type' },
      { id: 'E_4', type: 'form', author_id: 'c' },
    ];
    const result = parseWebhookPayload('incoming_chat', {
      chat: { id: 'C', thread: { id: 'T', events } },
    });
    expect(result.data?.chat.thread.events.map((event) => event.id)).toEqual(['E_1', 'E_4']);
    expect(result.data?.chat.thread.skippedEvents).toEqual([
      {
        index: 1,
        id: 'E_2',
        type: 'message',
        reason: 'schema_mismatch',
        issues: [expect.objectContaining({ path: ['text'] })],
      },
      {
        index: 2,
        id: undefined,
        type: undefined,
        reason: 'malformed',
        issues: expect.arrayContaining([{ path: expect.any(Array), message: expect.any(String) }]),
      },
    ]);
  });

  it('tolerates missing optional fields in incoming_chat (no events, no users)', () => {
    const result = parseWebhookPayload('incoming_chat', { chat: { id: 'C', thread: { id: 'T' } } });
    expect(result.data?.chat).toMatchObject({ id: 'C', users: [], thread: { events: [] } });
  });

  it('knows which actions it stores', () => {
    expect(isWebhookAction('incoming_event')).toBe(true);
    expect(isWebhookAction('incoming_rich_message_postback')).toBe(false);
    expect(isWebhookAction('__proto__')).toBe(false);
    expect(isWebhookAction('toString')).toBe(false);
  });
});
