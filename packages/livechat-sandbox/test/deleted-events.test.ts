import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { createDefaultSeed, DEFAULT_ORGANIZATION_ID, type Sandbox } from '../src/index.js';
import {
  agentCall,
  at,
  registerWebhook,
  setupBot,
  startReceiver,
  startSandbox,
  str,
} from './helpers.js';

// v3.6 deleted events: the customer deletes one of their events (Customer Chat API
// delete_event); bots and `normal` agents then read a deleted event in its place, higher roles
// the original with `deleted: true` (data structures, "Deleted event").

let sandbox: Sandbox;

afterEach(async () => {
  await sandbox?.close();
});

const NORMAL_ACCOUNT = 'd1e2f3a4-0000-4000-8000-00000000000a';
const NORMAL_PAT = 'dal:normal-agent-pat-5e7c';
const normalAuthorization = `Basic ${Buffer.from(`${NORMAL_ACCOUNT}:${NORMAL_PAT}`).toString('base64')}`;

/** The default seed plus an agent with the `normal` role; a chat with a deleted message. */
const chatWithDeletedMessage = async () => {
  const seed = createDefaultSeed();
  seed.accounts.push({
    accountId: NORMAL_ACCOUNT,
    agentId: 'normal@example.com',
    organizationId: DEFAULT_ORGANIZATION_ID,
    pat: NORMAL_PAT,
    role: 'normal',
  });
  sandbox = await startSandbox({ seed });
  const bot = await setupBot(sandbox);
  const opened = sandbox.scenario.openChat({
    agentIds: [bot.botId, 'normal@example.com'],
    message: 'Where is my order?',
  });
  const second = sandbox.scenario.customerMessage({
    chatId: opened.chatId,
    text: 'My card number is 4111 1111 1111 1111',
    customId: 'customer-custom-id',
  });
  return { bot, ...opened, deletedId: second.eventId };
};

describe('deleteEvent (the customer deletes an event)', () => {
  it('announces event_deleted to v3.6 webhooks with the documented payload', async () => {
    sandbox = await startSandbox();
    const receiver = await startReceiver();
    onTestFinished(() => receiver.close());
    await registerWebhook(sandbox, receiver, { action: 'event_deleted' }, '3.6');
    const { chatId, threadId, eventIds } = sandbox.scenario.openChat({ message: 'Oops' });
    const eventId = eventIds[0] ?? '';
    expect(sandbox.scenario.deleteEvent({ chatId, eventId })).toEqual({
      chatId,
      threadId,
      eventId,
    });
    const [delivery] = await receiver.waitForCount(1, 'event_deleted');
    expect(at(delivery?.body, 'payload')).toEqual({
      chat_id: chatId,
      thread_id: threadId,
      event_id: eventId,
    });
  });

  it("deletes only the customer's own events, once", async () => {
    const { chatId, deletedId, bot } = await chatWithDeletedMessage();
    sandbox.scenario.deleteEvent({ chatId, eventId: deletedId });
    expect(() => sandbox.scenario.deleteEvent({ chatId, eventId: deletedId })).toThrow(
      /already deleted/,
    );
    const reply = await agentCall(
      sandbox,
      'send_event',
      { chat_id: chatId, event: { type: 'message', text: 'Hi' } },
      { auth: bot.authorization, version: '3.6' },
    );
    expect(() =>
      sandbox.scenario.deleteEvent({ chatId, eventId: str(reply.body, 'event_id') }),
    ).toThrow(/not the customer's/);
    expect(() => sandbox.scenario.deleteEvent({ chatId, eventId: 'NOPE_1' })).toThrow(/not found/);
  });

  it('is callable over HTTP', async () => {
    const { chatId, deletedId } = await chatWithDeletedMessage();
    const response = await fetch(`${sandbox.url}/_sandbox/scenario/deleteEvent`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ chatId, eventId: deletedId }),
    });
    expect(response.status).toBe(200);
    expect(at(sandbox.scenario.getChat({ chatId }), 'threads', 0, 'events', 1)).toMatchObject({
      id: deletedId,
      deleted: true,
    });
  });
});

describe('reading a deleted event', () => {
  it('bots and normal agents get the deleted event in place of the original', async () => {
    const { bot, chatId, customerId, deletedId } = await chatWithDeletedMessage();
    sandbox.scenario.deleteEvent({ chatId, eventId: deletedId });
    const expected = {
      id: deletedId,
      custom_id: 'customer-custom-id',
      type: 'message',
      deleted: true,
      author_id: customerId,
      created_at: expect.any(String),
      visibility: 'all',
    };
    for (const auth of [bot.authorization, normalAuthorization]) {
      const chat = await agentCall(
        sandbox,
        'get_chat',
        { chat_id: chatId },
        { auth, version: '3.6' },
      );
      expect(chat.status).toBe(200);
      // Exactly the documented fields: no text.
      expect(at(chat.body, 'thread', 'events', 1)).toStrictEqual(expected);
      const threads = await agentCall(
        sandbox,
        'list_threads',
        { chat_id: chatId },
        { auth, version: '3.6' },
      );
      expect(at(threads.body, 'threads', 0, 'events', 1)).toStrictEqual(expected);
      const listed = await agentCall(sandbox, 'list_chats', {}, { auth, version: '3.6' });
      expect(
        at(listed.body, 'chats_summary', 0, 'last_event_per_type', 'message', 'event'),
      ).toStrictEqual(expected);
    }
  });

  it('the owner (seeded accounts) gets the original with deleted: true', async () => {
    const { chatId, deletedId } = await chatWithDeletedMessage();
    sandbox.scenario.deleteEvent({ chatId, eventId: deletedId });
    const chat = await agentCall(sandbox, 'get_chat', { chat_id: chatId }, { version: '3.6' });
    expect(at(chat.body, 'thread', 'events', 1)).toMatchObject({
      id: deletedId,
      type: 'message',
      text: 'My card number is 4111 1111 1111 1111',
      deleted: true,
    });
    // Events not deleted carry no `deleted` field.
    expect(at(chat.body, 'thread', 'events', 0)).not.toHaveProperty('deleted');
  });
});
