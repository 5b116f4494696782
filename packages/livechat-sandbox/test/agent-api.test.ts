import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import {
  AGENTS_ONLY_MESSAGE,
  ERROR_RESPONSE,
  GET_CHAT_OPTIONAL_THREAD_FIELDS,
  GET_CHAT_RESPONSE,
  INCOMING_CHAT,
  LIST_CHATS_OPTIONAL_FIELDS,
  LIST_CHATS_RESPONSE,
  LIST_THREADS_RESPONSE,
  ROUTING_STATUS_ITEM,
  SEND_EVENT_REQUEST,
  SEND_EVENT_RESPONSE,
} from './fixtures/docs-examples.js';
import {
  agentCall,
  at,
  type BotSetup,
  registerWebhook,
  setupBot,
  shapeDiff,
  startReceiver,
  startSandbox,
  str,
} from './helpers.js';

let sandbox: Sandbox;

afterEach(async () => {
  await sandbox?.close();
});

const withBotChat = async (): Promise<{
  bot: BotSetup;
  chatId: string;
  threadId: string;
  customerId: string;
}> => {
  sandbox = await startSandbox();
  const bot = await setupBot(sandbox, { avatar: 'https://example.com/bot.png' });
  const opened = sandbox.scenario.openChat({ agentIds: [bot.botId], customer: { name: 'Jane' } });
  return { bot, ...opened };
};

const errorOf = (body: unknown) => ({
  type: at(body, 'error', 'type'),
  message: str(body, 'error', 'message'),
});

describe('send_event', () => {
  it('takes the documented request and answers { event_id }', async () => {
    const { bot, chatId, threadId } = await withBotChat();
    const response = await agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: chatId },
      {
        auth: bot.authorization,
      },
    );
    expect(response.status).toBe(200);
    expect(shapeDiff(response.body, SEND_EVENT_RESPONSE)).toEqual([]);
    expect(str(response.body, 'event_id')).toMatch(new RegExp(`^${threadId}_\\d+$`));
    const chat = sandbox.scenario.getChat({ chatId });
    expect(at(chat, 'threads', 0, 'events', 0)).toMatchObject({
      id: str(response.body, 'event_id'),
      type: 'message',
      text: 'Hi! How can I help?',
      author_id: bot.botId,
      visibility: 'all',
    });
  });

  it('stores and echoes custom_id; visibility agents makes a whisper shaped like the docs', async () => {
    const { bot, chatId } = await withBotChat();
    const response = await agentCall(
      sandbox,
      'send_event',
      {
        chat_id: chatId,
        event: {
          type: 'message',
          text: 'Internal note',
          visibility: 'agents',
          custom_id: 'job-42',
        },
      },
      { auth: bot.authorization },
    );
    const got = await agentCall(
      sandbox,
      'get_chat',
      { chat_id: chatId },
      { auth: bot.authorization },
    );
    const event = at(got.body, 'thread', 'events', 0);
    expect(event).toMatchObject({
      id: str(response.body, 'event_id'),
      custom_id: 'job-42',
      visibility: 'agents',
    });
    expect(shapeDiff(event, AGENTS_ONLY_MESSAGE, { extra: ['custom_id'] })).toEqual([]);
  });

  it('requires the requester to be a chat user', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox);
    const opened = sandbox.scenario.openChat();
    const response = await agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: opened.chatId },
      {
        auth: bot.authorization,
      },
    );
    expect(response.status).toBe(403);
    expect(errorOf(response.body).type).toBe('authorization');
  });

  it('answers chat_inactive when the thread is closed', async () => {
    const { bot, chatId } = await withBotChat();
    sandbox.scenario.close({ chatId });
    const response = await agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: chatId },
      {
        auth: bot.authorization,
      },
    );
    expect(response.status).toBe(422);
    expect(shapeDiff(response.body, ERROR_RESPONSE, { optional: ['error.data'] })).toEqual([]);
    expect(errorOf(response.body).type).toBe('chat_inactive');
  });

  it('validates fields by their documented names', async () => {
    const { bot, chatId } = await withBotChat();
    const cases: Array<[unknown, string]> = [
      [{ event: { type: 'message', text: 'x' } }, 'chat_id'],
      [{ chat_id: 42, event: { type: 'message', text: 'x' } }, 'chat_id'],
      [{ chat_id: chatId }, 'event'],
      [{ chat_id: chatId, event: { text: 'x' } }, 'event.type'],
      [{ chat_id: chatId, event: { type: 'message' } }, 'event.text'],
      [
        { chat_id: chatId, event: { type: 'message', text: 'x', visibility: 'everyone' } },
        'event.visibility',
      ],
      [{ chat_id: chatId, event: { type: 'message', text: 'x', custom_id: 7 } }, 'event.custom_id'],
      [{ chat_id: chatId, event: { type: 'telepathy' } }, 'event.type'],
    ];
    for (const [body, field] of cases) {
      const response = await agentCall(sandbox, 'send_event', body, { auth: bot.authorization });
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(errorOf(response.body).type).toBe('validation');
      expect(errorOf(response.body).message).toContain(`\`${field}\``);
    }
  });

  it('an unknown chat is not_found, also for a chat of another organization', async () => {
    const { bot } = await withBotChat();
    const response = await agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: 'NOSUCHCHAT' },
      {
        auth: bot.authorization,
      },
    );
    expect(response.status).toBe(404);
    expect(errorOf(response.body).type).toBe('not_found');
  });
});

describe('get_chat', () => {
  it('returns the latest thread with events, tags and properties, in the documented shape', async () => {
    const { bot, chatId, threadId } = await withBotChat();
    sandbox.scenario.customerMessage({ chatId, text: 'hello' });
    sandbox.scenario.tag({ chatId, tag: 'sales' });
    sandbox.scenario.rate({ chatId, score: 1, comment: 'great' });
    const response = await agentCall(
      sandbox,
      'get_chat',
      { chat_id: chatId },
      { auth: bot.authorization },
    );
    expect(response.status).toBe(200);
    expect(
      shapeDiff(response.body, GET_CHAT_RESPONSE, {
        optional: GET_CHAT_OPTIONAL_THREAD_FIELDS.map((field) => `thread.${field}`),
        extra: GET_CHAT_OPTIONAL_THREAD_FIELDS.map((field) => `thread.${field}`),
      }),
    ).toEqual([]);
    expect(
      shapeDiff(at(response.body, 'users'), INCOMING_CHAT.payload.chat.users, {
        extra: ['[].created_at'],
        optional: ['[].email'],
      }),
    ).toEqual([]);
    expect(response.body).toMatchObject({
      id: chatId,
      thread: {
        id: threadId,
        active: true,
        tags: ['sales'],
        properties: { rating: { score: 1, comment: 'great' } },
      },
    });
    expect(at(response.body, 'thread', 'user_ids')).toEqual(expect.arrayContaining([bot.botId]));
  });

  it('returns a requested older thread, linked to the next one', async () => {
    const { bot, chatId, threadId } = await withBotChat();
    sandbox.scenario.close({ chatId });
    const resumed = sandbox.scenario.customerMessage({ chatId, text: 'me again' });
    expect(resumed.newThread).toBe(true);
    const latest = await agentCall(
      sandbox,
      'get_chat',
      { chat_id: chatId },
      { auth: bot.authorization },
    );
    expect(at(latest.body, 'thread')).toMatchObject({
      id: resumed.threadId,
      active: true,
      previous_thread_id: threadId,
    });
    const older = await agentCall(
      sandbox,
      'get_chat',
      { chat_id: chatId, thread_id: threadId },
      {
        auth: bot.authorization,
      },
    );
    expect(at(older.body, 'thread')).toMatchObject({
      id: threadId,
      active: false,
      next_thread_id: resumed.threadId,
    });
    expect(at(older.body, 'thread')).not.toHaveProperty('tags');
    const missing = await agentCall(
      sandbox,
      'get_chat',
      { chat_id: chatId, thread_id: 'NOPE' },
      {
        auth: bot.authorization,
      },
    );
    expect(errorOf(missing.body).type).toBe('not_found');
  });
});

describe('list_chats and list_threads', () => {
  const openThree = () => {
    const first = sandbox.scenario.openChat();
    const second = sandbox.scenario.openChat();
    const third = sandbox.scenario.openChat();
    sandbox.scenario.close({ chatId: second.chatId });
    return [first.chatId, second.chatId, third.chatId];
  };

  it('v3.5: include_active, summary shape, newest first', async () => {
    sandbox = await startSandbox();
    const [first, second, third] = openThree();
    sandbox.scenario.customerMessage({ chatId: first ?? '', text: 'hi' });
    const all = await agentCall(sandbox, 'list_chats', {});
    expect(all.status).toBe(200);
    expect(
      shapeDiff(all.body, LIST_CHATS_RESPONSE, {
        optional: LIST_CHATS_OPTIONAL_FIELDS,
        extra: LIST_CHATS_OPTIONAL_FIELDS,
      }),
    ).toEqual([]);
    expect(at(all.body, 'found_chats')).toBe(3);
    expect((at(all.body, 'chats_summary') as unknown[]).map((chat) => at(chat, 'id'))).toEqual([
      third,
      second,
      first,
    ]);
    const summary = (at(all.body, 'chats_summary') as unknown[]).find(
      (chat) => at(chat, 'id') === first,
    );
    expect(at(summary, 'last_event_per_type', 'message', 'event', 'text')).toBe('hi');
    expect(at(summary, 'last_thread_summary')).toMatchObject({
      active: true,
      user_ids: expect.any(Array),
    });
    const inactiveOnly = await agentCall(sandbox, 'list_chats', {
      filters: { include_active: false },
    });
    expect(
      (at(inactiveOnly.body, 'chats_summary') as unknown[]).map((chat) => at(chat, 'id')),
    ).toEqual([second]);
    const wrongName = await agentCall(sandbox, 'list_chats', { filters: { active: true } });
    expect(errorOf(wrongName.body)).toMatchObject({ type: 'validation' });
  });

  it('v3.6: active replaces include_active', async () => {
    sandbox = await startSandbox();
    const [first, second, third] = openThree();
    const active = await agentCall(
      sandbox,
      'list_chats',
      { filters: { active: true } },
      { version: '3.6' },
    );
    expect((at(active.body, 'chats_summary') as unknown[]).map((chat) => at(chat, 'id'))).toEqual([
      third,
      first,
    ]);
    const inactive = await agentCall(
      sandbox,
      'list_chats',
      { filters: { active: false } },
      { version: '3.6' },
    );
    expect((at(inactive.body, 'chats_summary') as unknown[]).map((chat) => at(chat, 'id'))).toEqual(
      [second],
    );
    const legacy = await agentCall(
      sandbox,
      'list_chats',
      { filters: { include_active: true } },
      { version: '3.6' },
    );
    expect(legacy.status).toBe(400);
    expect(errorOf(legacy.body).message).toContain('include_active');
  });

  it('pages with next_page_id / previous_page_id', async () => {
    sandbox = await startSandbox();
    const ids = openThree();
    const first = await agentCall(sandbox, 'list_chats', { limit: 2, sort_order: 'asc' });
    expect((at(first.body, 'chats_summary') as unknown[]).map((chat) => at(chat, 'id'))).toEqual(
      ids.slice(0, 2),
    );
    const next = await agentCall(sandbox, 'list_chats', {
      page_id: str(first.body, 'next_page_id'),
    });
    expect((at(next.body, 'chats_summary') as unknown[]).map((chat) => at(chat, 'id'))).toEqual(
      ids.slice(2),
    );
    expect(at(next.body, 'next_page_id')).toBeUndefined();
    expect(typeof at(next.body, 'previous_page_id')).toBe('string');
    // Filters belong to the first page: new ones with a page_id are refused, as documented.
    const refiltered = await agentCall(sandbox, 'list_chats', {
      page_id: str(first.body, 'next_page_id'),
      filters: { active: true },
    });
    expect(refiltered.status).toBe(400);
    expect(errorOf(refiltered.body).type).toBe('validation');
  });

  it('list_threads: threads of a chat, newest first, documented shape', async () => {
    sandbox = await startSandbox();
    const opened = sandbox.scenario.openChat();
    sandbox.scenario.close({ chatId: opened.chatId });
    const resumed = sandbox.scenario.customerMessage({ chatId: opened.chatId, text: 'again' });
    const response = await agentCall(sandbox, 'list_threads', { chat_id: opened.chatId });
    expect(shapeDiff(response.body, LIST_THREADS_RESPONSE)).toEqual([]);
    expect((at(response.body, 'threads') as unknown[]).map((thread) => at(thread, 'id'))).toEqual([
      resumed.threadId,
      opened.threadId,
    ]);
    expect(at(response.body, 'found_threads')).toBe(2);
  });
});

describe('routing statuses', () => {
  it('a bot sets its own status; list_routing_statuses answers with underscores', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox);
    const set = await agentCall(
      sandbox,
      'set_routing_status',
      { status: 'not_accepting_chats' },
      {
        auth: bot.authorization,
        version: '3.6',
      },
    );
    expect(set).toMatchObject({ status: 200, body: {} });
    const listed = await agentCall(sandbox, 'list_routing_statuses', {});
    expect(Array.isArray(listed.body)).toBe(true);
    expect(shapeDiff(listed.body, [ROUTING_STATUS_ITEM])).toEqual([]);
    expect(listed.body).toEqual(
      expect.arrayContaining([
        { agent_id: bot.botId, status: 'not_accepting_chats' },
        { agent_id: sandbox.credentials.agentId, status: 'accepting_chats' },
      ]),
    );
  });

  it('offline is for bots only; an agent may set a bot of its organization', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox);
    const agentOffline = await agentCall(sandbox, 'set_routing_status', { status: 'offline' });
    expect(errorOf(agentOffline.body).type).toBe('validation');
    const botOnline = await agentCall(sandbox, 'set_routing_status', {
      status: 'accepting_chats',
      agent_id: bot.botId,
    });
    expect(botOnline.status).toBe(200);
    expect(sandbox.state.bots().find((item) => item.id === bot.botId)?.routingStatus).toBe(
      'accepting_chats',
    );
    const unknown = await agentCall(sandbox, 'set_routing_status', {
      status: 'offline',
      agent_id: 'ghost',
    });
    expect(errorOf(unknown.body).type).toBe('not_found');
    const badStatus = await agentCall(sandbox, 'set_routing_status', { status: 'accepting chats' });
    expect(errorOf(badStatus.body).message).toContain('`status`');
  });

  it('a bot token lacks the scopes for list_routing_statuses and for other agents', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox);
    const listed = await agentCall(
      sandbox,
      'list_routing_statuses',
      {},
      { auth: bot.authorization },
    );
    expect(listed.status).toBe(403);
    const other = await agentCall(
      sandbox,
      'set_routing_status',
      {
        status: 'not_accepting_chats',
        agent_id: sandbox.credentials.agentId,
      },
      { auth: bot.authorization },
    );
    expect(errorOf(other.body).type).toBe('authorization');
  });
});

describe('tags, deactivation, users', () => {
  it('tag_thread / untag_thread change the thread tags', async () => {
    const { bot, chatId, threadId } = await withBotChat();
    const tagged = await agentCall(
      sandbox,
      'tag_thread',
      { chat_id: chatId, thread_id: threadId, tag: 'nudged' },
      {
        auth: bot.authorization,
      },
    );
    expect(tagged).toMatchObject({ status: 200, body: {} });
    expect(at(sandbox.scenario.getChat({ chatId }), 'threads', 0, 'tags')).toEqual(['nudged']);
    await agentCall(
      sandbox,
      'untag_thread',
      { chat_id: chatId, thread_id: threadId, tag: 'nudged' },
      {
        auth: bot.authorization,
      },
    );
    expect(at(sandbox.scenario.getChat({ chatId }), 'threads', 0)).not.toHaveProperty('tags');
    const missingTag = await agentCall(
      sandbox,
      'tag_thread',
      { chat_id: chatId, thread_id: threadId },
      {
        auth: bot.authorization,
      },
    );
    expect(errorOf(missingTag.body).message).toContain('`tag`');
  });

  it('deactivate_chat closes the thread with the requester as user_id', async () => {
    const { bot, chatId } = await withBotChat();
    const response = await agentCall(
      sandbox,
      'deactivate_chat',
      { id: chatId },
      { auth: bot.authorization },
    );
    expect(response).toMatchObject({ status: 200, body: {} });
    expect(sandbox.journal.webhooks()).toHaveLength(0); // nothing registered
    expect(at(sandbox.scenario.getChat({ chatId }), 'threads', 0, 'active')).toBe(false);
    const again = await agentCall(
      sandbox,
      'deactivate_chat',
      { id: chatId },
      { auth: bot.authorization },
    );
    expect(errorOf(again.body).type).toBe('chat_inactive');
  });

  it('add_user_to_chat lets a bot join (ignore_requester_presence), then send', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox);
    const opened = sandbox.scenario.openChat();
    const join = (extra: Record<string, unknown>) =>
      agentCall(
        sandbox,
        'add_user_to_chat',
        {
          chat_id: opened.chatId,
          user_id: bot.botId,
          user_type: 'agent',
          visibility: 'all',
          ...extra,
        },
        { auth: bot.authorization },
      );
    const refused = await join({});
    expect(errorOf(refused.body).type).toBe('authorization');
    const joined = await join({ ignore_requester_presence: true });
    expect(joined).toMatchObject({ status: 200, body: {} });
    const sent = await agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: opened.chatId },
      {
        auth: bot.authorization,
      },
    );
    expect(sent.status).toBe(200);
    const wrongType = await join({ user_type: 'customer', ignore_requester_presence: true });
    expect(errorOf(wrongType.body).type).toBe('validation');
  });

  it('remove_user_from_chat leaves the user in the chat, not present; it can no longer send', async () => {
    const { bot, chatId, customerId } = await withBotChat();
    const receiver = await startReceiver();
    try {
      await registerWebhook(sandbox, receiver, { action: 'user_removed_from_chat' }, '3.6');
      const remove = (body: Record<string, unknown>, auth = sandbox.credentials.patAuthorization) =>
        agentCall(
          sandbox,
          'remove_user_from_chat',
          { chat_id: chatId, user_type: 'agent', ...body },
          { auth, version: '3.6' },
        );
      // The PAT's agent is not in the chat: it must say it doesn't need to be.
      expect(errorOf((await remove({ user_id: bot.botId })).body).type).toBe('authorization');
      const removed = await remove({ user_id: bot.botId, ignore_requester_presence: true });
      expect(removed).toMatchObject({ status: 200, body: {} });

      const chat = await agentCall(sandbox, 'get_chat', { chat_id: chatId }, { version: '3.6' });
      expect(at(chat.body, 'users')).toContainEqual(
        expect.objectContaining({ id: bot.botId, present: false }),
      );
      const [delivery] = await receiver.waitForCount(1, 'user_removed_from_chat');
      expect(at(delivery?.body, 'payload')).toMatchObject({
        chat_id: chatId,
        user_id: bot.botId,
        user_type: 'agent',
        reason: 'manual',
        requester_id: sandbox.credentials.agentId,
      });
      // Events can be sent only by users present in the chat.
      const sent = await agentCall(
        sandbox,
        'send_event',
        { ...SEND_EVENT_REQUEST, chat_id: chatId },
        { auth: bot.authorization, version: '3.6' },
      );
      expect(errorOf(sent.body).type).toBe('authorization');
      // Not twice, and never the customer.
      expect(
        errorOf((await remove({ user_id: bot.botId, ignore_requester_presence: true })).body).type,
      ).toBe('not_found');
      const customer = await remove({
        user_id: customerId,
        user_type: 'customer',
        ignore_requester_presence: true,
      });
      expect(errorOf(customer.body).type).toBe('validation');
    } finally {
      await receiver.close();
    }
  });

  it('scenario removeUser: the bot leaves; added again, it is present and can send', async () => {
    const { bot, chatId } = await withBotChat();
    sandbox.scenario.removeUser({ chatId, userId: bot.botId });
    expect(at(sandbox.scenario.getChat({ chatId }), 'users')).toContainEqual(
      expect.objectContaining({ id: bot.botId, present: false }),
    );
    const joined = await agentCall(
      sandbox,
      'add_user_to_chat',
      {
        chat_id: chatId,
        user_id: bot.botId,
        user_type: 'agent',
        visibility: 'all',
        ignore_requester_presence: true,
      },
      { auth: bot.authorization, version: '3.6' },
    );
    expect(joined.status).toBe(200);
    const sent = await agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: chatId },
      { auth: bot.authorization, version: '3.6' },
    );
    expect(sent.status).toBe(200);
  });
});
