import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import type { Sandbox } from '../src/index.js';
import {
  agentCall,
  at,
  configCall,
  registerWebhook,
  startReceiver,
  startSandbox,
  str,
} from './helpers.js';

// LiveChat's routing (simulated for bots) and a bot token's reach: `chats--access:rw`, the
// chats of the bot's groups.

let sandbox: Sandbox;

afterEach(async () => {
  await sandbox?.close();
});

type Priority = 'first' | 'normal' | 'last' | 'supervisor';

/** create_bot (PAT) with `groups`, its status set, and a bot token. */
const createBot = async ({
  name = 'Bot',
  groups = [{ id: 0, priority: 'normal' as Priority }],
  status = 'accepting_chats',
  maxChatsCount,
}: {
  name?: string;
  groups?: Array<{ id: number; priority: Priority }>;
  status?: 'accepting_chats' | 'not_accepting_chats' | 'offline';
  maxChatsCount?: number;
} = {}) => {
  const { credentials } = sandbox;
  const created = await configCall(
    sandbox,
    'create_bot',
    {
      name,
      owner_client_id: credentials.clientId,
      groups,
      ...(maxChatsCount === undefined ? {} : { max_chats_count: maxChatsCount }),
    },
    { version: '3.6' },
  );
  const id = str(created.body, 'id');
  sandbox.scenario.setBotStatus({ botId: id, status });
  const issued = await configCall(
    sandbox,
    'issue_bot_token',
    {
      bot_id: id,
      client_id: credentials.clientId,
      bot_secret: str(created.body, 'secret'),
      organization_id: credentials.organizationId,
    },
    { version: '3.6' },
  );
  return { id, authorization: `Bearer ${str(issued.body, 'token')}` };
};

const usersOf = (chatId: string) =>
  at(sandbox.scenario.getChat({ chatId }), 'users') as Array<{
    id: string;
    present: boolean;
    visibility?: string;
  }>;

const staffOf = (chatId: string) =>
  usersOf(chatId)
    .filter((user) => user.present && user.visibility !== undefined)
    .map((user) => user.id);

describe('routing (bots)', () => {
  it('assigns a new chat to an accepting bot of its group; never a supervisor', async () => {
    sandbox = await startSandbox();
    const receiver = await startReceiver();
    onTestFinished(() => receiver.close());
    await registerWebhook(sandbox, receiver, { action: 'incoming_chat' }, '3.6');
    const supervisor = await createBot({ groups: [{ id: 0, priority: 'supervisor' }] });
    const routed = await createBot({ groups: [{ id: 0, priority: 'normal' }] });

    const { chatId, threadId } = sandbox.scenario.openChat({ message: 'Hi' });
    expect(usersOf(chatId)).toContainEqual(
      expect.objectContaining({ id: routed.id, present: true, visibility: 'all' }),
    );
    expect(staffOf(chatId)).not.toContain(supervisor.id);
    // The assignee is in the chat LiveChat announces.
    const [delivery] = await receiver.waitForCount(1, 'incoming_chat');
    expect(at(delivery?.body, 'payload', 'chat', 'thread', 'user_ids')).toContain(routed.id);
    expect(at(delivery?.body, 'payload', 'chat', 'thread', 'id')).toBe(threadId);
    // The routed bot can talk at once.
    const sent = await agentCall(
      sandbox,
      'send_event',
      { chat_id: chatId, event: { type: 'message', text: 'Hello, I am a bot' } },
      { auth: routed.authorization, version: '3.6' },
    );
    expect(sent.status).toBe(200);
  });

  it('routes only bots that accept chats, in the chat’s group, with a free slot', async () => {
    sandbox = await startSandbox();
    const offline = await createBot({ status: 'offline' });
    const busy = await createBot({ status: 'not_accepting_chats' });
    const elsewhere = await createBot({ groups: [{ id: 1, priority: 'first' }] });
    const small = await createBot({ maxChatsCount: 1 });

    const first = sandbox.scenario.openChat();
    expect(staffOf(first.chatId)).toEqual([small.id]);
    // Full: the next chat waits for an agent.
    const second = sandbox.scenario.openChat();
    expect(staffOf(second.chatId)).toEqual([]);
    for (const bot of [offline, busy, elsewhere]) {
      expect(staffOf(first.chatId)).not.toContain(bot.id);
    }
    // Closing the first frees the slot.
    sandbox.scenario.close({ chatId: first.chatId });
    expect(staffOf(sandbox.scenario.openChat().chatId)).toEqual([small.id]);
    // A chat of group 1 goes to the bot there.
    expect(staffOf(sandbox.scenario.openChat({ groupId: 1 }).chatId)).toEqual([elsewhere.id]);
  });

  it('prefers first, then normal, then last; ties to the bot with fewest active chats', async () => {
    sandbox = await startSandbox();
    const last = await createBot({ groups: [{ id: 0, priority: 'last' }] });
    const normalA = await createBot({ groups: [{ id: 0, priority: 'normal' }] });
    const normalB = await createBot({ groups: [{ id: 0, priority: 'normal' }] });
    const assigned = [1, 2, 3, 4].map(() => staffOf(sandbox.scenario.openChat().chatId));
    // Normal bots take turns (fewest active chats); the `last` one gets nothing.
    expect(assigned.flat().sort()).toEqual([normalA.id, normalA.id, normalB.id, normalB.id].sort());
    expect(assigned.flat()).not.toContain(last.id);
    const first = await createBot({ groups: [{ id: 0, priority: 'first' }] });
    expect(staffOf(sandbox.scenario.openChat().chatId)).toEqual([first.id]);
  });

  it('explicit agentIds skip routing; a new thread with nobody left is routed again', async () => {
    sandbox = await startSandbox();
    const bot = await createBot();
    const { agentId } = sandbox.credentials;
    const chosen = sandbox.scenario.openChat({ agentIds: [agentId] });
    expect(staffOf(chosen.chatId)).toEqual([agentId]);
    const none = sandbox.scenario.openChat({ agentIds: [] });
    expect(staffOf(none.chatId)).toEqual([]);

    // The agent leaves and the chat closes; the customer comes back: a new thread, routed.
    sandbox.scenario.removeUser({ chatId: chosen.chatId, userId: agentId });
    sandbox.scenario.close({ chatId: chosen.chatId });
    const again = sandbox.scenario.customerMessage({ chatId: chosen.chatId, text: 'Back!' });
    expect(again.newThread).toBe(true);
    expect(staffOf(chosen.chatId)).toEqual([bot.id]);
  });
});

describe('a bot token reaches the chats of its groups only', () => {
  it('chat actions on another group’s chat answer missing_access; list_chats leaves it out', async () => {
    sandbox = await startSandbox();
    const outsider = await createBot({ groups: [{ id: 1, priority: 'supervisor' }] });
    const { chatId, threadId } = sandbox.scenario.openChat({ agentIds: [], message: 'Hi' });
    const own = sandbox.scenario.openChat({ agentIds: [], groupId: 1 });
    const calls: Array<[string, Record<string, unknown>]> = [
      ['get_chat', { chat_id: chatId }],
      ['list_threads', { chat_id: chatId }],
      ['send_event', { chat_id: chatId, event: { type: 'message', text: 'Hi' } }],
      [
        'add_user_to_chat',
        {
          chat_id: chatId,
          user_id: outsider.id,
          user_type: 'agent',
          visibility: 'all',
          ignore_requester_presence: true,
        },
      ],
      [
        'remove_user_from_chat',
        {
          chat_id: chatId,
          user_id: sandbox.credentials.agentId,
          user_type: 'agent',
          ignore_requester_presence: true,
        },
      ],
      ['tag_thread', { chat_id: chatId, thread_id: threadId, tag: 'x' }],
      ['untag_thread', { chat_id: chatId, thread_id: threadId, tag: 'x' }],
      ['deactivate_chat', { id: chatId, ignore_requester_presence: true }],
    ];
    for (const [action, body] of calls) {
      const response = await agentCall(sandbox, action, body, {
        auth: outsider.authorization,
        version: '3.6',
      });
      expect([action, response.status, at(response.body, 'error', 'type')]).toEqual([
        action,
        403,
        'missing_access',
      ]);
    }
    const listed = await agentCall(
      sandbox,
      'list_chats',
      {},
      {
        auth: outsider.authorization,
        version: '3.6',
      },
    );
    expect(
      (at(listed.body, 'chats_summary') as Array<{ id: string }>).map((chat) => chat.id),
    ).toEqual([own.chatId]);
    // Its own group's chat is fine.
    const got = await agentCall(
      sandbox,
      'get_chat',
      { chat_id: own.chatId },
      {
        auth: outsider.authorization,
        version: '3.6',
      },
    );
    expect(got.status).toBe(200);
  });

  it('also as a v3.5 X-Author-Id bot, and when an agent adds a bot outside its groups', async () => {
    sandbox = await startSandbox();
    const outsider = await createBot({ groups: [{ id: 1, priority: 'supervisor' }] });
    const { chatId } = sandbox.scenario.openChat({
      agentIds: [sandbox.credentials.agentId],
      message: 'Hi',
    });
    const impersonated = await agentCall(
      sandbox,
      'get_chat',
      { chat_id: chatId },
      {
        headers: { 'X-Author-Id': outsider.id },
      },
    );
    expect(at(impersonated.body, 'error', 'type')).toBe('missing_access');
    // "Additional agents must also have access to the chat."
    const added = await agentCall(
      sandbox,
      'add_user_to_chat',
      { chat_id: chatId, user_id: outsider.id, user_type: 'agent', visibility: 'all' },
      { version: '3.6' },
    );
    expect(at(added.body, 'error', 'type')).toBe('missing_access');
  });
});
