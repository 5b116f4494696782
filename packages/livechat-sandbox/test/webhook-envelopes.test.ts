import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import {
  CHAT_DEACTIVATED,
  CHAT_RATED_EVENT,
  GENERAL_WEBHOOK_FORMAT,
  INCOMING_CHAT,
  INCOMING_EVENT,
  ROUTING_STATUS_SET,
  THREAD_PROPERTIES_DELETED_PAYLOAD,
  THREAD_PROPERTIES_UPDATED,
  THREAD_TAGGED,
} from './fixtures/docs-examples.js';
import {
  agentCall,
  at,
  type Receiver,
  registerWebhook,
  setupBot,
  shapeDiff,
  startReceiver,
  startSandbox,
  str,
} from './helpers.js';

let sandbox: Sandbox;
let receiver: Receiver;

afterEach(async () => {
  await sandbox?.close();
  await receiver?.close();
});

const setup = async (options: Parameters<typeof startSandbox>[0] = {}) => {
  sandbox = await startSandbox(options);
  receiver = await startReceiver();
};

describe('webhook envelopes match the documented examples field for field', () => {
  it('incoming_chat: chat with one thread, users, properties, access', async () => {
    await setup();
    const bot = await setupBot(sandbox, { avatar: 'https://example.com/bot.png' });
    const webhookId = await registerWebhook(sandbox, receiver, {
      action: 'incoming_chat',
      secret_key: 's3cr3t',
    });
    const opened = sandbox.scenario.openChat({
      customer: { name: 'Jane', email: 'jane@example.com' },
      agentIds: [bot.botId],
      message: 'Hello?',
    });
    const [delivery] = await receiver.waitForCount(1, 'incoming_chat');
    const body = delivery?.body;
    expect(
      shapeDiff(body, INCOMING_CHAT, {
        // The docs' customer sample (data structures) also carries `created_at`.
        extra: ['payload.chat.users[].created_at'],
        skip: ['payload.chat.thread.events'],
      }),
    ).toEqual([]);
    expect(
      shapeDiff(at(body, 'payload', 'chat', 'thread', 'events', 0), INCOMING_EVENT.payload.event),
    ).toEqual([]);
    expect(body).toMatchObject({
      webhook_id: webhookId,
      secret_key: 's3cr3t',
      action: 'incoming_chat',
      organization_id: sandbox.credentials.organizationId,
      payload: {
        chat: {
          id: opened.chatId,
          thread: {
            id: opened.threadId,
            active: true,
            user_ids: [opened.customerId, bot.botId],
            events: [
              {
                id: `${opened.threadId}_1`,
                type: 'message',
                text: 'Hello?',
                author_id: opened.customerId,
              },
            ],
          },
          users: [
            { id: opened.customerId, type: 'customer', name: 'Jane', present: true },
            // Bots are agents in chats.
            { id: bot.botId, type: 'agent', present: true },
          ],
        },
      },
      additional_data: {},
    });
    expect(delivery?.headers['content-type']).toBe('application/json');
  });

  it('incoming_event: chat_id, thread_id and the event; additional_data when requested', async () => {
    await setup();
    await registerWebhook(sandbox, receiver, {
      action: 'incoming_event',
      additional_data: ['chat_presence_user_ids'],
    });
    const opened = sandbox.scenario.openChat({ agentIds: [sandbox.credentials.agentId] });
    const sent = sandbox.scenario.customerMessage({
      chatId: opened.chatId,
      text: 'Where is my order?',
    });
    const [delivery] = await receiver.waitForCount(1, 'incoming_event');
    expect(shapeDiff(delivery?.body, INCOMING_EVENT)).toEqual([]);
    expect(delivery?.body).toMatchObject({
      payload: {
        chat_id: opened.chatId,
        thread_id: opened.threadId,
        event: {
          id: sent.eventId,
          type: 'message',
          text: 'Where is my order?',
          author_id: opened.customerId,
          visibility: 'all',
        },
      },
      additional_data: { chat_presence_user_ids: [opened.customerId, sandbox.credentials.agentId] },
    });
    // Event IDs look like `<thread_id>_<n>` in the docs' samples
    // (https://platform.text.com/docs/messaging/agent-chat-api/data-structures#chats);
    // created_at is RFC 3339 with microseconds.
    expect(sent.eventId).toMatch(new RegExp(`^${opened.threadId}_\\d+$`));
    expect(str(delivery?.body, 'payload', 'event', 'created_at')).toMatch(
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/,
    );
  });

  it('thread_tagged and thread_untagged', async () => {
    await setup();
    await registerWebhook(sandbox, receiver, { action: 'thread_tagged' });
    await registerWebhook(sandbox, receiver, { action: 'thread_untagged' });
    const opened = sandbox.scenario.openChat();
    sandbox.scenario.tag({ chatId: opened.chatId, tag: 'bug_report' });
    sandbox.scenario.untag({ chatId: opened.chatId, tag: 'bug_report' });
    const [tagged] = await receiver.waitForCount(1, 'thread_tagged');
    const [untagged] = await receiver.waitForCount(1, 'thread_untagged');
    expect(shapeDiff(tagged?.body, THREAD_TAGGED)).toEqual([]);
    expect(shapeDiff(untagged?.body, { ...THREAD_TAGGED, action: 'thread_untagged' })).toEqual([]);
    const payload = { chat_id: opened.chatId, thread_id: opened.threadId, tag: 'bug_report' };
    expect(at(tagged?.body, 'payload')).toEqual(payload);
    expect(at(untagged?.body, 'payload')).toEqual(payload);
    expect(at(tagged?.body, 'additional_data')).toEqual({});
  });

  it('chat_deactivated: user_id when an agent closed it, none when the system did', async () => {
    await setup();
    await registerWebhook(sandbox, receiver, { action: 'chat_deactivated' });
    const byAgent = sandbox.scenario.openChat({ agentIds: [sandbox.credentials.agentId] });
    const bySystem = sandbox.scenario.openChat();
    sandbox.scenario.close({ chatId: byAgent.chatId, agentId: sandbox.credentials.agentId });
    sandbox.scenario.close({ chatId: bySystem.chatId });
    const deliveries = await receiver.waitForCount(2, 'chat_deactivated');
    const agentClose = deliveries.find(
      (item) => at(item.body, 'payload', 'chat_id') === byAgent.chatId,
    );
    const systemClose = deliveries.find(
      (item) => at(item.body, 'payload', 'chat_id') === bySystem.chatId,
    );
    expect(shapeDiff(agentClose?.body, CHAT_DEACTIVATED)).toEqual([]);
    expect(at(agentClose?.body, 'payload')).toEqual({
      chat_id: byAgent.chatId,
      thread_id: byAgent.threadId,
      user_id: sandbox.credentials.agentId,
    });
    expect(
      shapeDiff(systemClose?.body, CHAT_DEACTIVATED, { optional: ['payload.user_id'] }),
    ).toEqual([]);
    expect(at(systemClose?.body, 'payload')).toEqual({
      chat_id: bySystem.chatId,
      thread_id: bySystem.threadId,
    });
  });

  it('rating: thread_properties_updated plus rating system messages as incoming_event', async () => {
    await setup();
    await registerWebhook(sandbox, receiver, { action: 'thread_properties_updated' });
    await registerWebhook(sandbox, receiver, { action: 'incoming_event' });
    const opened = sandbox.scenario.openChat({ customer: { name: 'Jane' } });
    sandbox.scenario.close({ chatId: opened.chatId });
    // Customers may rate after the thread closed: it lands on the most recent thread.
    sandbox.scenario.rate({ chatId: opened.chatId, score: 1, comment: 'Well done!' });
    const [updated] = await receiver.waitForCount(1, 'thread_properties_updated');
    expect(shapeDiff(updated?.body, THREAD_PROPERTIES_UPDATED)).toEqual([]);
    expect(at(updated?.body, 'payload')).toEqual({
      chat_id: opened.chatId,
      thread_id: opened.threadId,
      properties: { rating: { score: 1, comment: 'Well done!' } },
    });
    const events = await receiver.waitForCount(2, 'incoming_event');
    const rated = at(events[0]?.body, 'payload', 'event');
    expect(shapeDiff(rated, CHAT_RATED_EVENT)).toEqual([]);
    expect(rated).toMatchObject({
      type: 'system_message',
      system_message_type: 'rating.chat_rated',
      text: 'Jane rated the chat as good',
      text_vars: { customer: 'Jane', score: 'good' },
    });
    expect(rated).not.toHaveProperty('author_id');
    expect(at(events[1]?.body, 'payload', 'event')).toMatchObject({
      system_message_type: 'rating.chat_commented',
      text_vars: { customer: 'Jane', comment: 'Well done!' },
    });
  });

  it('bad rating and cancel: score 0 / "bad", then thread_properties_deleted + chat_rating_canceled', async () => {
    await setup();
    await registerWebhook(sandbox, receiver, { action: 'thread_properties_updated' });
    await registerWebhook(sandbox, receiver, { action: 'thread_properties_deleted' });
    await registerWebhook(sandbox, receiver, { action: 'incoming_event' });
    const opened = sandbox.scenario.openChat({ customer: { name: 'Jane' } });
    sandbox.scenario.rate({ chatId: opened.chatId, score: 0 });
    sandbox.scenario.cancelRating({ chatId: opened.chatId });
    const [updated] = await receiver.waitForCount(1, 'thread_properties_updated');
    expect(at(updated?.body, 'payload', 'properties')).toEqual({ rating: { score: 0 } });
    const [deleted] = await receiver.waitForCount(1, 'thread_properties_deleted');
    expect(at(deleted?.body, 'payload')).toEqual({
      ...THREAD_PROPERTIES_DELETED_PAYLOAD,
      chat_id: opened.chatId,
      thread_id: opened.threadId,
    });
    const events = await receiver.waitForCount(2, 'incoming_event');
    expect(at(events[0]?.body, 'payload', 'event', 'text_vars')).toEqual({
      customer: 'Jane',
      score: 'bad',
    });
    expect(at(events[1]?.body, 'payload', 'event')).toMatchObject({
      system_message_type: 'rating.chat_rating_canceled',
      text_vars: { customer: 'Jane' },
    });
    expect(
      at(sandbox.scenario.getChat({ chatId: opened.chatId }), 'threads', 0, 'properties'),
    ).not.toHaveProperty('rating');
  });

  it('routing_status_set: documented spaces by default', async () => {
    await setup();
    const bot = await setupBot(sandbox);
    await registerWebhook(sandbox, receiver, { action: 'routing_status_set' });
    const response = await agentCall(
      sandbox,
      'set_routing_status',
      { status: 'accepting_chats' },
      {
        auth: bot.authorization,
      },
    );
    expect(response).toMatchObject({ status: 200, body: {} });
    const [delivery] = await receiver.waitForCount(1, 'routing_status_set');
    expect(shapeDiff(delivery?.body, ROUTING_STATUS_SET)).toEqual([]);
    expect(at(delivery?.body, 'payload')).toEqual({
      agent_id: bot.botId,
      status: 'accepting chats',
    });
    sandbox.scenario.setBotStatus({ botId: bot.botId, status: 'not_accepting_chats' });
    const deliveries = await receiver.waitForCount(2, 'routing_status_set');
    expect(at(deliveries[1]?.body, 'payload', 'status')).toBe('not accepting chats');
  });

  it('routing_status_set: underscores when configured', async () => {
    await setup({ routingStatusSpelling: 'underscores' });
    await registerWebhook(sandbox, receiver, { action: 'routing_status_set' });
    sandbox.scenario.setRoutingStatus({
      agentId: sandbox.credentials.agentId,
      status: 'not_accepting_chats',
    });
    const [delivery] = await receiver.waitForCount(1, 'routing_status_set');
    expect(at(delivery?.body, 'payload')).toEqual({
      agent_id: sandbox.credentials.agentId,
      status: 'not_accepting_chats',
    });
  });

  it('every envelope has exactly the general format keys', async () => {
    await setup();
    await registerWebhook(sandbox, receiver, {
      action: 'incoming_event',
      additional_data: ['chat_properties', 'chat_presence_user_ids'],
    });
    const opened = sandbox.scenario.openChat();
    sandbox.scenario.customerMessage({ chatId: opened.chatId, text: 'hi' });
    const [delivery] = await receiver.waitForCount(1);
    expect(shapeDiff(delivery?.body, GENERAL_WEBHOOK_FORMAT)).toEqual([]);
    expect(at(delivery?.body, 'additional_data', 'chat_properties')).toEqual({
      routing: { continuous: false, pinned: false },
    });
  });
});
