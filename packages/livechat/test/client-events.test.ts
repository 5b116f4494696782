import type { Sandbox } from '@nudge/livechat-sandbox';
import { describe, expect, it } from 'vitest';
import type { LivechatSkippedEvent } from '../src/index.js';
import {
  BOT,
  clientFor,
  createLogCollector,
  type RedisScope,
  startTestSandbox,
} from './client-helpers.js';

// What LiveChat returns, as documented: deleted events (v3.6) in the form a bot reads, events
// our schemas don't know how to read (neither may fail the whole chat), and shapes that differ
// per version or are optional.

const setup = async () => {
  const { sandbox, scope } = await startTestSandbox();
  const opened = sandbox.scenario.openChat({ agentIds: [BOT.id], message: 'Where is my order?' });
  return { sandbox, scope, ...opened };
};

/** A bot client that collects the events it skips. */
const collectingBotClient = (sandbox: Sandbox, scope: RedisScope) => {
  const skipped: LivechatSkippedEvent[] = [];
  const client = clientFor(sandbox, scope, {
    mode: 'bot',
    version: '3.6',
    onSkippedEvent: (event) => skipped.push(event),
  });
  return { client, skipped };
};

describe('deleted events', () => {
  it('get_chat and list_threads parse a deleted event a bot reads (no text)', async () => {
    const { sandbox, scope, chatId, threadId, eventIds } = await setup();
    const deletedId = eventIds[0] ?? '';
    sandbox.scenario.deleteEvent({ chatId, eventId: deletedId });
    const { client, skipped } = collectingBotClient(sandbox, scope);

    const chat = await client.getChat({ chat_id: chatId });
    expect(chat.thread.id).toBe(threadId);
    expect(chat.thread.events).toEqual([
      expect.objectContaining({ id: deletedId, type: 'message', deleted: true }),
    ]);
    expect(chat.thread.events[0]).not.toHaveProperty('text');

    const page = await client.listThreads({ chat_id: chatId });
    expect(page.threads.map((thread) => thread.events.map((event) => event.id))).toEqual([
      [deletedId],
    ]);
    expect(skipped).toEqual([]);
  });
});

describe('events that do not parse', () => {
  it('are left out of the thread and reported, not failing the chat', async () => {
    const { sandbox, scope, chatId, threadId, eventIds } = await setup();
    // A known type without its required field: drift the sandbox never makes itself.
    const odd = sandbox.scenario.injectEvent({
      chatId,
      event: { type: 'file', author_id: BOT.id, visibility: 'all' },
    });
    const { client, skipped } = collectingBotClient(sandbox, scope);

    const chat = await client.getChat({ chat_id: chatId });
    expect(chat.thread.events.map((event) => event.id)).toEqual(eventIds);
    const expected = {
      chatId,
      threadId,
      id: odd.eventId,
      type: 'file',
      index: 1,
      reason: 'schema_mismatch',
      issues: [expect.objectContaining({ path: ['url'] })],
    };
    expect(skipped).toEqual([{ ...expected, action: 'get_chat' }]);

    await client.listThreads({ chat_id: chatId });
    expect(skipped.at(-1)).toEqual({ ...expected, action: 'list_threads' });
  });

  it('are logged as a warning when no callback is given', async () => {
    const { sandbox, scope, chatId } = await setup();
    sandbox.scenario.injectEvent({ chatId, event: { author_id: BOT.id } });
    const { log, lines } = createLogCollector();
    const client = clientFor(sandbox, scope, { mode: 'bot', version: '3.6', log });
    await client.getChat({ chat_id: chatId });
    expect(lines).toEqual([
      {
        obj: expect.objectContaining({ action: 'get_chat', chatId, reason: 'malformed' }),
        msg: 'LiveChat event skipped: it does not match our schema',
      },
    ]);
  });
});

describe('documented shapes per version', () => {
  it("reads the customer's visit (v3.6) and last_visit (v3.5)", async () => {
    const { sandbox, scope, chatId } = await setup();
    for (const [version, field] of [
      ['3.6', 'visit'],
      ['3.5', 'last_visit'],
    ] as const) {
      const client = clientFor(sandbox, scope, { mode: 'pat', version });
      const chat = await client.getChat({ chat_id: chatId });
      const customer = chat.users.find((user) => user.type === 'customer');
      expect(customer?.[field]?.started_at, version).toEqual(expect.any(String));
    }
  });

  it('sends and reads back a rich message without elements', async () => {
    const { sandbox, scope, chatId } = await setup();
    const client = clientFor(sandbox, scope, { mode: 'bot', version: '3.6' });
    const { event_id: eventId } = await client.sendEvent({
      chat_id: chatId,
      event: { type: 'rich_message', template_id: 'quick_replies' },
    });
    const chat = await client.getChat({ chat_id: chatId });
    expect(chat.thread.events.find((event) => event.id === eventId)).toMatchObject({
      type: 'rich_message',
      template_id: 'quick_replies',
      elements: [],
    });
  });

  it('list_webhooks and unregister_webhook always take owner_client_id', async () => {
    const { sandbox, scope } = await setup();
    const client = clientFor(sandbox, scope, { mode: 'bearer', version: '3.6' });
    // @ts-expect-error owner_client_id is required, also with a Bearer token
    await expect(client.listWebhooks({})).rejects.toMatchObject({ type: 'validation' });
    // @ts-expect-error owner_client_id is required, also with a Bearer token
    await expect(client.unregisterWebhook({ id: 'x' })).rejects.toMatchObject({
      type: 'validation',
    });
    const { clientId } = sandbox.credentials;
    expect(await client.listWebhooks({ owner_client_id: clientId })).toEqual([]);
  });
});
