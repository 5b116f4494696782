import { DEFAULT_AGENT_ID, type Sandbox } from '@nudge/livechat-sandbox';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { LivechatApiVersion } from '../src/index.js';
import { LivechatUnrecoverableError } from '../src/index.js';
import {
  type AuthMode,
  BOT,
  callsOf,
  clientFor,
  journalPosition,
  openRedisScope,
  type RedisScope,
  rejectionOf,
  startSandbox,
} from './client-helpers.js';

let sandbox: Sandbox;
let scope: RedisScope;

beforeAll(async () => {
  sandbox = await startSandbox();
  scope = openRedisScope(inject('redisUrl'));
});

afterAll(async () => {
  await sandbox?.close();
  await scope?.cleanup();
});

type Profile = {
  mode: AuthMode;
  version: LivechatApiVersion;
  /** Who the Agent Chat API sees. */
  agentIdentity: { type: 'bot' | 'agent'; via: string };
  /** Who the Configuration API sees (X-Author-Id applies to the Agent Chat API only). */
  configIdentity: { type: 'bot' | 'agent'; via: string };
};

const BOT_TOKEN = { type: 'bot', via: 'bot_token' } as const;
const AS_BOT = { type: 'bot', via: 'x_author_id' } as const;
const PAT = { type: 'agent', via: 'pat' } as const;
const AGENT_TOKEN = { type: 'agent', via: 'agent_token' } as const;

const PROFILES: Profile[] = [
  { mode: 'bot', version: '3.6', agentIdentity: BOT_TOKEN, configIdentity: BOT_TOKEN },
  { mode: 'bot', version: '3.5', agentIdentity: BOT_TOKEN, configIdentity: BOT_TOKEN },
  { mode: 'pat-as-bot', version: '3.5', agentIdentity: AS_BOT, configIdentity: PAT },
  { mode: 'bearer-as-bot', version: '3.5', agentIdentity: AS_BOT, configIdentity: AGENT_TOKEN },
  { mode: 'pat', version: '3.5', agentIdentity: PAT, configIdentity: PAT },
  { mode: 'pat', version: '3.6', agentIdentity: PAT, configIdentity: PAT },
  { mode: 'bearer', version: '3.5', agentIdentity: AGENT_TOKEN, configIdentity: AGENT_TOKEN },
  { mode: 'bearer', version: '3.6', agentIdentity: AGENT_TOKEN, configIdentity: AGENT_TOKEN },
];

const expectIdentity = (api: string, since: number, identity: Profile['agentIdentity']) => {
  const calls = sandbox.journal
    .calls()
    .filter((call) => call.seq > since && call.api === api && call.action !== 'issue_bot_token');
  expect(calls.length).toBeGreaterThan(0);
  for (const call of calls) {
    expect(call.identity, `${call.action}`).toMatchObject(identity);
  }
  return calls;
};

describe('Agent Chat API', () => {
  it.each(PROFILES)('every method as $mode on v$version', async (profile) => {
    const client = clientFor(sandbox, scope, profile);
    const actsAsBot = profile.agentIdentity.type === 'bot';
    const actorId = actsAsBot ? BOT.id : DEFAULT_AGENT_ID;
    const otherId = actsAsBot ? DEFAULT_AGENT_ID : BOT.id;
    const since = journalPosition(sandbox);
    const { chatId, threadId } = sandbox.scenario.openChat({
      agentIds: [actorId],
      message: 'Where is my order?',
    });

    const { event_id: eventId } = await client.sendEvent({
      chat_id: chatId,
      event: { type: 'message', text: 'Hello from Nudge', visibility: 'all' },
    });
    await client.tagThread({ chat_id: chatId, thread_id: threadId, tag: 'order' });
    const chat = await client.getChat({ chat_id: chatId });
    expect(chat.id).toBe(chatId);
    expect(chat.thread).toMatchObject({ id: threadId, active: true });
    expect(chat.thread.tags).toEqual(['order']);
    expect(chat.thread.events).toContainEqual(
      expect.objectContaining({
        id: eventId,
        type: 'message',
        text: 'Hello from Nudge',
        author_id: actorId,
      }),
    );
    expect(chat.users.map((user) => user.id)).toContain(actorId);

    await client.untagThread({ chat_id: chatId, thread_id: threadId, tag: 'order' });
    expect((await client.getChat({ chat_id: chatId, thread_id: threadId })).thread.tags).toEqual(
      [],
    );

    const listed = await client.listChats({ limit: 100 });
    expect(listed.chats_summary.map((summary) => summary.id)).toContain(chatId);
    expect(listed.found_chats).toBeGreaterThanOrEqual(1);

    await client.addUserToChat({
      chat_id: chatId,
      user_id: otherId,
      user_type: 'agent',
      visibility: 'all',
    });
    expect((await client.getChat({ chat_id: chatId })).users.map((user) => user.id)).toContain(
      otherId,
    );

    await client.setRoutingStatus({ status: 'not_accepting_chats' });
    if (profile.mode === 'bot') {
      expect(sandbox.state.bots().find((bot) => bot.id === BOT.id)?.routingStatus).toBe(
        'not_accepting_chats',
      );
      // A bot token lacks agents--all:ro, which list_routing_statuses requires (the scopes of a
      // bot token: https://platform.text.com/docs/management/configuration-api#issue-bot-token).
      const err = await rejectionOf(client.listRoutingStatuses());
      expect(err).toBeInstanceOf(LivechatUnrecoverableError);
      expect(err).toMatchObject({ type: 'authorization', action: 'list_routing_statuses' });
    } else {
      const statuses = await client.listRoutingStatuses({ filters: { group_ids: [0] } });
      expect(statuses).toContainEqual({ agent_id: actorId, status: 'not_accepting_chats' });
    }
    await client.setRoutingStatus({ status: 'accepting_chats', agent_id: actorId });

    await client.deactivateChat({ id: chatId });
    expect((await client.getChat({ chat_id: chatId })).thread.active).toBe(false);

    const calls = expectIdentity('agent', since, profile.agentIdentity);
    expect(new Set(calls.map((call) => call.version))).toEqual(new Set([profile.version]));
    expect(new Set(calls.map((call) => call.action))).toEqual(
      new Set([
        'send_event',
        'tag_thread',
        'get_chat',
        'untag_thread',
        'list_chats',
        'add_user_to_chat',
        'set_routing_status',
        'list_routing_statuses',
        'deactivate_chat',
      ]),
    );
  });

  it('list_chats: include_active/active are translated to the version in use', async () => {
    const { chatId: closedId } = sandbox.scenario.openChat({ message: 'bye' });
    sandbox.scenario.close({ chatId: closedId });
    const { chatId: openId } = sandbox.scenario.openChat({ message: 'hi' });
    const v36 = clientFor(sandbox, scope, { mode: 'pat', version: '3.6' });
    const v35 = clientFor(sandbox, scope, { mode: 'pat', version: '3.5' });
    const since = journalPosition(sandbox);

    const inactive36 = await v36.listChats({ filters: { include_active: false }, limit: 100 });
    const inactive35 = await v35.listChats({ filters: { active: false }, limit: 100 });
    for (const result of [inactive36, inactive35]) {
      const ids = result.chats_summary.map((summary) => summary.id);
      expect(ids).toContain(closedId);
      expect(ids).not.toContain(openId);
    }
    const requests = callsOf(sandbox, 'list_chats', since).map((call) => call.request);
    expect(requests).toEqual([
      { filters: { active: false }, limit: 100 },
      { filters: { include_active: false }, limit: 100 },
    ]);
  });
});

describe('Configuration API', () => {
  it.each(PROFILES.filter((profile) => profile.mode !== 'bot'))(
    'webhooks and bots as $mode on v$version',
    async (profile) => {
      const client = clientFor(sandbox, scope, profile);
      const { clientId, organizationId } = sandbox.credentials;
      const since = journalPosition(sandbox);
      const url = `https://nudge.example.com/livechat/webhook/${profile.mode}-${profile.version}`;

      const { id: webhookId } = await client.registerWebhook({
        url,
        action: 'incoming_event',
        secret_key: 'webhook-secret-0123456789abcdef',
        owner_client_id: clientId,
        type: 'bot',
        description: 'customer messages',
        filters: { author_type: 'customer', chat_presence: { my_bots: true } },
      });
      const webhooks = await client.listWebhooks({ owner_client_id: clientId });
      expect(webhooks.find((webhook) => webhook.id === webhookId)).toMatchObject({
        url,
        action: 'incoming_event',
        type: 'bot',
        owner_client_id: clientId,
      });
      await client.unregisterWebhook({ id: webhookId, owner_client_id: clientId });
      const after = await client.listWebhooks({ owner_client_id: clientId });
      expect(after.map((webhook) => webhook.id)).not.toContain(webhookId);

      await client.disableLicenseWebhooks({ owner_client_id: clientId });
      expect(await client.getLicenseWebhooksState({ owner_client_id: clientId })).toEqual({
        license_webhooks_enabled: false,
      });
      await client.enableLicenseWebhooks({ owner_client_id: clientId });
      expect(await client.getLicenseWebhooksState({ owner_client_id: clientId })).toEqual({
        license_webhooks_enabled: true,
      });

      const created = await client.createBot({
        name: 'Helper',
        owner_client_id: clientId,
        avatar: 'https://cdn.example.com/helper.png',
        max_chats_count: 12,
      });
      const listed = await client.listBots();
      // v3.6 lists `avatar_path`; both versions read as `avatar`.
      expect(listed.find((bot) => bot.id === created.id)).toMatchObject({
        name: 'Helper',
        avatar: 'https://cdn.example.com/helper.png',
      });
      expect(await client.getBot({ id: created.id })).toMatchObject({
        id: created.id,
        name: 'Helper',
        owner_client_id: clientId,
        max_chats_count: 12,
      });
      await client.updateBot({ id: created.id, name: 'Renamed', job_title: 'Assistant' });
      expect(await client.getBot({ id: created.id, fields: ['job_title'] })).toMatchObject({
        name: 'Renamed',
        job_title: 'Assistant',
      });
      const issued = await client.issueBotToken({
        bot_id: created.id,
        client_id: clientId,
        bot_secret: created.secret,
        organization_id: organizationId,
      });
      expect(issued.token).toEqual(expect.any(String));
      await client.deleteBot({ id: created.id });
      const gone = await rejectionOf(client.getBot({ id: created.id }));
      expect(gone).toBeInstanceOf(LivechatUnrecoverableError);
      expect(gone).toMatchObject({ type: 'not_found', status: 404, action: 'get_bot' });

      const calls = expectIdentity('configuration', since, profile.configIdentity);
      expect(new Set(calls.map((call) => call.version))).toEqual(new Set([profile.version]));
      expect(new Set(callsOf(sandbox, 'issue_bot_token', since).map((c) => c.version))).toEqual(
        new Set([profile.version]),
      );
      expect(new Set(calls.map((call) => call.action))).toEqual(
        new Set([
          'register_webhook',
          'list_webhooks',
          'unregister_webhook',
          'disable_license_webhooks',
          'get_license_webhooks_state',
          'enable_license_webhooks',
          'create_bot',
          'list_bots',
          'get_bot',
          'update_bot',
          'delete_bot',
        ]),
      );
    },
  );

  it.each(['3.6', '3.5'] as const)('bots with a bot token on v%s', async (version) => {
    const client = clientFor(sandbox, scope, { mode: 'bot', version });
    const { clientId } = sandbox.credentials;
    const since = journalPosition(sandbox);

    // owner_client_id defaults to the token's client ID.
    const created = await client.createBot({ name: 'Sidekick' });
    expect((await client.listBots()).map((bot) => bot.id)).toContain(created.id);
    expect(await client.getBot({ id: created.id })).toMatchObject({
      name: 'Sidekick',
      owner_client_id: clientId,
    });
    await client.updateBot({ id: created.id, name: 'Sidekick 2' });
    expect((await client.getBot({ id: created.id })).name).toBe('Sidekick 2');
    const issued = await client.issueBotToken({
      bot_id: created.id,
      client_id: clientId,
      bot_secret: created.secret,
      organization_id: sandbox.credentials.organizationId,
    });
    expect(issued.token).toEqual(expect.any(String));
    await client.deleteBot({ id: created.id });
    expect(sandbox.state.bots().map((bot) => bot.id)).not.toContain(created.id);

    // Bot tokens carry no webhook scopes: registering is an app's (PAT/agent token) job.
    const err = await rejectionOf(client.listWebhooks({ owner_client_id: clientId }));
    expect(err).toMatchObject({ kind: 'unrecoverable', type: 'authorization' });

    expectIdentity('configuration', since, BOT_TOKEN);
    // issue_bot_token is sent with the issuer's credentials (the account's PAT), also when the
    // bot client calls it explicitly.
    const issues = callsOf(sandbox, 'issue_bot_token', since);
    expect(issues.length).toBeGreaterThan(0);
    for (const call of issues) {
      expect(call.identity).toEqual({
        type: 'agent',
        agentId: sandbox.credentials.agentId,
        accountId: sandbox.credentials.accountId,
        via: 'pat',
      });
    }
  });
});
