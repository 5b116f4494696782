import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import {
  agentCall,
  at,
  configCall,
  type Receiver,
  registerWebhook,
  setupBot,
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

/** Webhooks the sandbox created (synchronously, when the triggering change happened). */
const created = (action: string) =>
  sandbox.journal.webhooks().filter((entry) => entry.action === action);

describe('bot webhooks follow the bots routing status', () => {
  it('none while the bot is offline (its start state), delivered while accepting or not accepting', async () => {
    await setup();
    const bot = await setupBot(sandbox);
    await registerWebhook(sandbox, receiver, { action: 'incoming_event', type: 'bot' });
    const opened = sandbox.scenario.openChat({ agentIds: [bot.botId] });

    sandbox.scenario.customerMessage({ chatId: opened.chatId, text: 'while offline' });
    expect(created('incoming_event')).toHaveLength(0);

    sandbox.scenario.setBotStatus({ botId: bot.botId, status: 'not_accepting_chats' });
    sandbox.scenario.customerMessage({ chatId: opened.chatId, text: 'while not accepting' });
    sandbox.scenario.setBotStatus({ botId: bot.botId, status: 'accepting_chats' });
    sandbox.scenario.customerMessage({ chatId: opened.chatId, text: 'while accepting' });
    sandbox.scenario.setBotStatus({ botId: bot.botId, status: 'offline' });
    sandbox.scenario.customerMessage({ chatId: opened.chatId, text: 'offline again' });

    await sandbox.idle();
    expect(
      receiver.byAction('incoming_event').map((item) => at(item.body, 'payload', 'event', 'text')),
    ).toEqual(['while not accepting', 'while accepting']);
  });

  it('the status a bot sets through the API controls delivery too', async () => {
    await setup();
    const bot = await setupBot(sandbox);
    await registerWebhook(sandbox, receiver, { action: 'incoming_chat', type: 'bot' });
    sandbox.scenario.openChat();
    expect(created('incoming_chat')).toHaveLength(0);
    await agentCall(
      sandbox,
      'set_routing_status',
      { status: 'accepting_chats' },
      { auth: bot.authorization },
    );
    const second = sandbox.scenario.openChat();
    const [delivery] = await receiver.waitForCount(1, 'incoming_chat');
    expect(at(delivery?.body, 'payload', 'chat', 'id')).toBe(second.chatId);
  });
});

describe('license webhooks follow the license webhooks state', () => {
  it('flow while enabled, stop when disabled, resume when enabled', async () => {
    await setup();
    await registerWebhook(sandbox, receiver, { action: 'incoming_chat', type: 'license' });
    const state = () =>
      configCall(sandbox, 'get_license_webhooks_state', {
        owner_client_id: sandbox.credentials.clientId,
      });
    expect((await state()).body).toEqual({ license_webhooks_enabled: true });
    sandbox.scenario.openChat();
    expect(created('incoming_chat')).toHaveLength(1);

    await configCall(sandbox, 'disable_license_webhooks', {
      owner_client_id: sandbox.credentials.clientId,
    });
    expect((await state()).body).toEqual({ license_webhooks_enabled: false });
    sandbox.scenario.openChat();
    expect(created('incoming_chat')).toHaveLength(1);

    // With a Bearer agent token the token's client ID is used (no owner_client_id needed).
    const enabled = await configCall(
      sandbox,
      'enable_license_webhooks',
      {},
      {
        auth: sandbox.credentials.agentAuthorization,
      },
    );
    expect(enabled).toMatchObject({ status: 200, body: {} });
    sandbox.scenario.openChat();
    expect(created('incoming_chat')).toHaveLength(2);
    await receiver.waitForCount(2, 'incoming_chat');
  });

  it('owner_client_id is required with a PAT', async () => {
    await setup();
    const response = await configCall(sandbox, 'enable_license_webhooks', {});
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ error: { type: 'validation' } });
    expect(str(response.body, 'error', 'message')).toContain('owner_client_id');
  });
});

describe('filters', () => {
  it('author_type customer: customer messages only, not agents, bots or system messages', async () => {
    await setup();
    const bot = await setupBot(sandbox);
    await registerWebhook(sandbox, receiver, {
      action: 'incoming_event',
      filters: { author_type: 'customer' },
    });
    const opened = sandbox.scenario.openChat({
      agentIds: [sandbox.credentials.agentId, bot.botId],
    });
    sandbox.scenario.agentMessage({
      chatId: opened.chatId,
      agentId: sandbox.credentials.agentId,
      text: 'agent',
    });
    await agentCall(
      sandbox,
      'send_event',
      { chat_id: opened.chatId, event: { type: 'message', text: 'bot' } },
      {
        auth: bot.authorization,
      },
    );
    sandbox.scenario.rate({ chatId: opened.chatId, score: 1 });
    sandbox.scenario.customerMessage({ chatId: opened.chatId, text: 'customer' });
    await sandbox.idle();
    expect(
      receiver.byAction('incoming_event').map((item) => at(item.body, 'payload', 'event', 'text')),
    ).toEqual(['customer']);
  });

  it('without author_type, the bots own send_event comes back as incoming_event authored by the bot', async () => {
    await setup();
    const bot = await setupBot(sandbox);
    await registerWebhook(sandbox, receiver, { action: 'incoming_event' });
    const opened = sandbox.scenario.openChat({ agentIds: [bot.botId] });
    const sent = await agentCall(
      sandbox,
      'send_event',
      {
        chat_id: opened.chatId,
        event: { type: 'message', text: 'Hi! How can I help?', custom_id: 'nudge-1' },
      },
      { auth: bot.authorization },
    );
    const [delivery] = await receiver.waitForCount(1, 'incoming_event');
    expect(at(delivery?.body, 'payload', 'event')).toMatchObject({
      id: str(sent.body, 'event_id'),
      author_id: bot.botId,
      custom_id: 'nudge-1',
      text: 'Hi! How can I help?',
    });
  });

  it('author_type agent matches agents and bots', async () => {
    await setup();
    const bot = await setupBot(sandbox);
    await registerWebhook(sandbox, receiver, {
      action: 'incoming_event',
      filters: { author_type: 'agent' },
    });
    const opened = sandbox.scenario.openChat({ agentIds: [bot.botId] });
    sandbox.scenario.customerMessage({ chatId: opened.chatId, text: 'customer' });
    sandbox.scenario.agentMessage({ chatId: opened.chatId, agentId: bot.botId, text: 'bot' });
    await sandbox.idle();
    expect(
      receiver.byAction('incoming_event').map((item) => at(item.body, 'payload', 'event', 'text')),
    ).toEqual(['bot']);
  });

  it('chat_presence.my_bots: only chats with one of the apps bots', async () => {
    await setup();
    const bot = await setupBot(sandbox);
    await registerWebhook(sandbox, receiver, {
      action: 'incoming_chat',
      filters: { chat_presence: { my_bots: true } },
    });
    sandbox.scenario.openChat({ agentIds: [sandbox.credentials.agentId] });
    const withBot = sandbox.scenario.openChat({ agentIds: [bot.botId] });
    await sandbox.idle();
    expect(
      receiver.byAction('incoming_chat').map((item) => at(item.body, 'payload', 'chat', 'id')),
    ).toEqual([withBot.chatId]);
  });

  it('chat_presence.user_ids values / exclude_values', async () => {
    await setup();
    const agent = sandbox.credentials.agentId;
    await registerWebhook(sandbox, receiver, {
      action: 'thread_tagged',
      filters: { chat_presence: { user_ids: { values: [agent] } } },
    });
    await registerWebhook(sandbox, receiver, {
      action: 'thread_tagged',
      filters: { chat_presence: { user_ids: { exclude_values: [agent] } } },
    });
    const withAgent = sandbox.scenario.openChat({ agentIds: [agent] });
    const withoutAgent = sandbox.scenario.openChat();
    sandbox.scenario.tag({ chatId: withAgent.chatId, tag: 'with' });
    sandbox.scenario.tag({ chatId: withoutAgent.chatId, tag: 'without' });
    const webhookIds = sandbox.state.webhooks().map((webhook) => webhook.id);
    await sandbox.idle();
    expect(
      receiver
        .byAction('thread_tagged')
        .map((item) => [at(item.body, 'webhook_id'), at(item.body, 'payload', 'tag')]),
    ).toEqual([
      [webhookIds[0], 'with'],
      [webhookIds[1], 'without'],
    ]);
  });

  it('only_my_chats and source_type', async () => {
    await setup();
    const bot = await setupBot(sandbox);
    await registerWebhook(sandbox, receiver, {
      action: 'incoming_chat',
      filters: { only_my_chats: true },
    });
    await registerWebhook(sandbox, receiver, {
      action: 'incoming_event',
      filters: { source_type: ['other_clients', 'system'] },
    });
    sandbox.scenario.openChat();
    const mine = sandbox.scenario.openChat({
      sourceClientId: sandbox.credentials.clientId,
      agentIds: [bot.botId],
    });
    // The bot's token belongs to our client: its own events are `my_client` and filtered out.
    await agentCall(
      sandbox,
      'send_event',
      { chat_id: mine.chatId, event: { type: 'message', text: 'mine' } },
      {
        auth: bot.authorization,
      },
    );
    sandbox.scenario.customerMessage({ chatId: mine.chatId, text: 'theirs' });
    await sandbox.idle();
    expect(
      receiver.byAction('incoming_chat').map((item) => at(item.body, 'payload', 'chat', 'id')),
    ).toEqual([mine.chatId]);
    expect(
      receiver.byAction('incoming_event').map((item) => at(item.body, 'payload', 'event', 'text')),
    ).toEqual(['theirs']);
  });

  it('additional_data only when requested', async () => {
    await setup();
    const plain = await registerWebhook(sandbox, receiver, { action: 'thread_tagged' });
    const rich = await registerWebhook(sandbox, receiver, {
      action: 'thread_tagged',
      additional_data: ['chat_properties', 'chat_presence_user_ids'],
    });
    const opened = sandbox.scenario.openChat();
    sandbox.scenario.tag({ chatId: opened.chatId, tag: 'x' });
    const deliveries = await receiver.waitForCount(2, 'thread_tagged');
    const byId = (id: string) =>
      deliveries.find((item) => at(item.body, 'webhook_id') === id)?.body;
    expect(at(byId(plain), 'additional_data')).toEqual({});
    expect(at(byId(rich), 'additional_data')).toEqual({
      chat_properties: { routing: { continuous: false, pinned: false } },
      chat_presence_user_ids: [opened.customerId],
    });
  });
});

describe('delivery and retries', () => {
  it('retries a 500 answer and stops at the first 200', async () => {
    await setup();
    receiver.respond((count) => (count <= 2 ? 500 : 200));
    await registerWebhook(sandbox, receiver, { action: 'incoming_chat' });
    sandbox.scenario.openChat();
    await sandbox.idle();
    expect(receiver.received).toHaveLength(3);
    // Retries resend the identical body.
    expect(new Set(receiver.received.map((item) => JSON.stringify(item.body))).size).toBe(1);
    const attempts = sandbox.journal.deliveries();
    expect(
      attempts.map((entry) => [entry.attempt, entry.status, entry.ok, entry.willRetry]),
    ).toEqual([
      [1, 500, false, true],
      [2, 500, false, true],
      [3, 200, true, false],
    ]);
  });

  it('gives up after 3 retries', async () => {
    await setup();
    receiver.respond(() => 503);
    await registerWebhook(sandbox, receiver, { action: 'incoming_chat' });
    sandbox.scenario.openChat();
    await sandbox.idle();
    expect(receiver.received).toHaveLength(4);
    expect(sandbox.journal.deliveries().at(-1)).toMatchObject({
      attempt: 4,
      ok: false,
      willRetry: false,
    });
  });

  it('only exactly 200 counts as success', async () => {
    await setup();
    receiver.respond((count) => (count === 1 ? 204 : 200));
    await registerWebhook(sandbox, receiver, { action: 'incoming_chat' });
    sandbox.scenario.openChat();
    await sandbox.idle();
    expect(sandbox.journal.deliveries().map((entry) => entry.status)).toEqual([204, 200]);
  });

  it('retries a receiver that does not answer within the timeout', async () => {
    await setup({ delivery: { timeoutMs: 150, retryDelaysMs: [20, 20, 20] } });
    receiver.respond((count) => (count === 1 ? 'hang' : 200));
    await registerWebhook(sandbox, receiver, { action: 'incoming_chat' });
    sandbox.scenario.openChat();
    await sandbox.idle();
    const attempts = sandbox.journal.deliveries();
    expect(attempts.map((entry) => [entry.attempt, entry.error, entry.status])).toEqual([
      [1, 'timeout', undefined],
      [2, undefined, 200],
    ]);
    expect(attempts[0]?.durationMs).toBeGreaterThanOrEqual(140);
  });

  it('a receiver that is down counts as a failure and is retried', async () => {
    await setup();
    const url = receiver.url;
    await receiver.close();
    await configCall(sandbox, 'register_webhook', {
      url,
      secret_key: 'k',
      owner_client_id: sandbox.credentials.clientId,
      type: 'license',
      action: 'incoming_chat',
    });
    sandbox.scenario.openChat();
    await sandbox.idle();
    const attempts = sandbox.journal.deliveries();
    expect(attempts).toHaveLength(4);
    expect(attempts.every((entry) => !entry.ok && typeof entry.error === 'string')).toBe(true);
  });

  it('the API call that causes a webhook does not wait for its delivery', async () => {
    await setup({ delivery: { timeoutMs: 5_000, retryDelaysMs: [] } });
    receiver.respond(() => 'hang');
    const bot = await setupBot(sandbox);
    await registerWebhook(sandbox, receiver, { action: 'incoming_event' });
    const opened = sandbox.scenario.openChat({ agentIds: [bot.botId] });
    const response = await agentCall(
      sandbox,
      'send_event',
      {
        chat_id: opened.chatId,
        event: { type: 'message', text: 'quick' },
      },
      { auth: bot.authorization },
    );
    expect(response.status).toBe(200);
    await receiver.waitForCount(1);
    expect(sandbox.journal.deliveries()).toHaveLength(0);
  });

  it('keeps the creation order of deliveries in the journal', async () => {
    await setup();
    await registerWebhook(sandbox, receiver, { action: 'incoming_chat' });
    await registerWebhook(sandbox, receiver, { action: 'incoming_event' });
    const opened = sandbox.scenario.openChat();
    for (const text of ['one', 'two', 'three']) {
      sandbox.scenario.customerMessage({ chatId: opened.chatId, text });
    }
    const webhooks = sandbox.journal.webhooks();
    expect(webhooks.map((entry) => entry.action)).toEqual([
      'incoming_chat',
      'incoming_event',
      'incoming_event',
      'incoming_event',
    ]);
    expect(webhooks.map((entry) => at(entry.body, 'payload', 'event', 'text'))).toEqual([
      undefined,
      'one',
      'two',
      'three',
    ]);
    const seqs = webhooks.map((entry) => entry.seq);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    await sandbox.idle();
  });
});
