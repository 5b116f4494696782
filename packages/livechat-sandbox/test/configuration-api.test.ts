import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import {
  CREATE_BOT_RESPONSE,
  GET_BOT_RESPONSE,
  ISSUE_BOT_TOKEN_REQUEST_FIELDS,
  ISSUE_BOT_TOKEN_RESPONSE,
  LICENSE_WEBHOOKS_STATE,
  LIST_BOTS_ITEM,
  LIST_WEBHOOKS_ITEM,
  REGISTER_WEBHOOK_REQUEST,
  REGISTER_WEBHOOK_RESPONSE,
} from './fixtures/docs-examples.js';
import {
  agentCall,
  at,
  configCall,
  OTHER_ORGANIZATION,
  seedWithOtherOrganization,
  setupBot,
  shapeDiff,
  startSandbox,
  str,
} from './helpers.js';

let sandbox: Sandbox;

afterEach(async () => {
  await sandbox?.close();
});

const errorOf = (body: unknown) => ({
  type: at(body, 'error', 'type'),
  message: str(body, 'error', 'message'),
});

const documentedRegistration = () => ({
  ...REGISTER_WEBHOOK_REQUEST,
  owner_client_id: sandbox.credentials.clientId,
});

describe('webhook registration', () => {
  it('register_webhook takes the documented request and answers { id }', async () => {
    sandbox = await startSandbox();
    const response = await configCall(sandbox, 'register_webhook', documentedRegistration());
    expect(response.status).toBe(200);
    expect(shapeDiff(response.body, REGISTER_WEBHOOK_RESPONSE)).toEqual([]);
    const [registered] = sandbox.state.webhooks();
    expect(registered).toMatchObject({
      id: str(response.body, 'id'),
      action: 'incoming_event',
      type: 'bot',
      url: REGISTER_WEBHOOK_REQUEST.url,
      secretKey: REGISTER_WEBHOOK_REQUEST.secret_key,
      filters: REGISTER_WEBHOOK_REQUEST.filters,
      additionalData: ['chat_presence_user_ids'],
    });
  });

  it('list_webhooks lists the client IDs webhooks in the documented shape; unregister removes one', async () => {
    sandbox = await startSandbox();
    const registered = await configCall(sandbox, 'register_webhook', documentedRegistration());
    const listed = await configCall(sandbox, 'list_webhooks', {
      owner_client_id: sandbox.credentials.clientId,
    });
    expect(Array.isArray(listed.body)).toBe(true);
    expect(shapeDiff(listed.body, [LIST_WEBHOOKS_ITEM], { extra: ['[].additional_data'] })).toEqual(
      [],
    );
    expect(at(listed.body, 0, 'id')).toBe(str(registered.body, 'id'));
    expect(at(listed.body, 0)).not.toHaveProperty('secret_key');
    const removed = await configCall(sandbox, 'unregister_webhook', {
      id: str(registered.body, 'id'),
      owner_client_id: sandbox.credentials.clientId,
    });
    expect(removed).toMatchObject({ status: 200, body: {} });
    expect(sandbox.state.webhooks()).toEqual([]);
    const again = await configCall(sandbox, 'unregister_webhook', {
      id: str(registered.body, 'id'),
      owner_client_id: sandbox.credentials.clientId,
    });
    expect(again.status).toBe(404);
    expect(errorOf(again.body).type).toBe('not_found');
  });

  it('allows three webhooks per action per client ID, then limit_reached', async () => {
    sandbox = await startSandbox();
    for (let i = 0; i < 3; i++) {
      expect((await configCall(sandbox, 'register_webhook', documentedRegistration())).status).toBe(
        200,
      );
    }
    const fourth = await configCall(sandbox, 'register_webhook', documentedRegistration());
    expect(fourth.status).toBe(400);
    expect(errorOf(fourth.body).type).toBe('limit_reached');
    const otherAction = await configCall(sandbox, 'register_webhook', {
      ...documentedRegistration(),
      action: 'incoming_chat',
      filters: {},
    });
    expect(otherAction.status).toBe(200);
  });

  it('validates the documented fields', async () => {
    sandbox = await startSandbox();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ action: undefined }, '`action`'],
      [{ action: 'no_such_webhook' }, '`action`'],
      [{ secret_key: undefined }, '`secret_key`'],
      [{ url: 'ftp://example.com' }, '`url`'],
      [{ url: `https://example.com/${'x'.repeat(500)}` }, '`url`'],
      [{ owner_client_id: undefined }, '`owner_client_id`'],
      [{ owner_client_id: 'unknown-client' }, '`owner_client_id`'],
      [{ type: 'agent' }, '`type`'],
      [{ additional_data: ['chat_everything'] }, '`additional_data`'],
      [{ action: 'thread_tagged' }, '`filters.author_type`'],
      [{ filters: { author_type: 'bot' } }, '`filters.author_type`'],
      [
        { filters: { chat_presence: { user_ids: { values: ['a'], exclude_values: ['b'] } } } },
        '`filters.chat_presence.user_ids`',
      ],
      [{ filters: { source_type: ['everyone'] } }, '`filters.source_type`'],
    ];
    for (const [override, field] of cases) {
      const response = await configCall(sandbox, 'register_webhook', {
        ...documentedRegistration(),
        ...override,
      });
      expect(response.status, JSON.stringify(override)).toBe(400);
      expect(errorOf(response.body)).toMatchObject({ type: 'validation' });
      expect(errorOf(response.body).message).toContain(field);
    }
    expect(sandbox.state.webhooks()).toEqual([]);
  });

  it('v3.6 knows event_deleted but no longer incoming_customer', async () => {
    sandbox = await startSandbox();
    const base = { ...documentedRegistration(), filters: {}, additional_data: [] };
    expect(
      (
        await configCall(
          sandbox,
          'register_webhook',
          { ...base, action: 'event_deleted' },
          { version: '3.6' },
        )
      ).status,
    ).toBe(200);
    expect(
      (await configCall(sandbox, 'register_webhook', { ...base, action: 'event_deleted' })).status,
    ).toBe(400);
    expect(
      (await configCall(sandbox, 'register_webhook', { ...base, action: 'incoming_customer' }))
        .status,
    ).toBe(200);
    expect(
      (
        await configCall(
          sandbox,
          'register_webhook',
          { ...base, action: 'incoming_customer' },
          { version: '3.6' },
        )
      ).status,
    ).toBe(400);
  });

  it('list_webhook_names needs no authorization', async () => {
    sandbox = await startSandbox();
    const response = await configCall(
      sandbox,
      'list_webhook_names',
      { version: '3.5' },
      { auth: '' },
    );
    expect(response.status).toBe(200);
    expect(response.body).toEqual(
      expect.arrayContaining([
        {
          action: 'incoming_event',
          filters: ['chat_presence', 'author_type', 'only_my_chats', 'source_type'],
          additional_data: ['chat_properties', 'chat_presence_user_ids'],
        },
      ]),
    );
  });

  it('get_license_webhooks_state answers the documented shape', async () => {
    sandbox = await startSandbox();
    const response = await configCall(sandbox, 'get_license_webhooks_state', {
      owner_client_id: sandbox.credentials.clientId,
    });
    expect(shapeDiff(response.body, LICENSE_WEBHOOKS_STATE)).toEqual([]);
  });
});

describe('bots', () => {
  it('create_bot answers { id, secret } with a 32-hex ID; a new bot is offline', async () => {
    sandbox = await startSandbox();
    const response = await configCall(sandbox, 'create_bot', {
      name: 'Nudge',
      owner_client_id: sandbox.credentials.clientId,
    });
    expect(response.status).toBe(200);
    expect(shapeDiff(response.body, CREATE_BOT_RESPONSE)).toEqual([]);
    expect(str(response.body, 'id')).toMatch(/^[0-9a-f]{32}$/);
    expect(sandbox.state.bots()).toEqual([
      expect.objectContaining({
        id: str(response.body, 'id'),
        routingStatus: 'offline',
        ownerClientId: sandbox.credentials.clientId,
      }),
    ]);
    const withoutName = await configCall(sandbox, 'create_bot', {
      owner_client_id: sandbox.credentials.clientId,
    });
    expect(errorOf(withoutName.body).message).toContain('`name`');
    const withPatNoOwner = await configCall(sandbox, 'create_bot', { name: 'x' });
    expect(errorOf(withPatNoOwner.body).message).toContain('`owner_client_id`');
    const withTokenNoOwner = await configCall(
      sandbox,
      'create_bot',
      { name: 'x' },
      { auth: sandbox.credentials.agentAuthorization },
    );
    expect(withTokenNoOwner.status).toBe(200);
  });

  it('list_bots, get_bot, update_bot, delete_bot in the documented shapes', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox, { name: 'Nudge', avatar: 'https://example.com/a.png' });
    const listed = await configCall(sandbox, 'list_bots', {});
    expect(shapeDiff(listed.body, [LIST_BOTS_ITEM])).toEqual([]);
    expect(listed.body).toEqual([
      { id: bot.botId, name: 'Nudge', avatar: 'https://example.com/a.png' },
    ]);
    const listed36 = await configCall(sandbox, 'list_bots', { all: true }, { version: '3.6' });
    expect(at(listed36.body, 0, 'avatar_path')).toBe('https://example.com/a.png');
    const got = await configCall(sandbox, 'get_bot', { id: bot.botId });
    expect(shapeDiff(got.body, GET_BOT_RESPONSE)).toEqual([]);
    expect(got.body).toMatchObject({
      id: bot.botId,
      owner_client_id: sandbox.credentials.clientId,
      max_chats_count: 6,
    });
    const updated = await configCall(sandbox, 'update_bot', {
      id: bot.botId,
      name: 'Nudge 2',
      max_chats_count: 20,
    });
    expect(updated).toMatchObject({ status: 200, body: {} });
    const got2 = await configCall(sandbox, 'get_bot', { id: bot.botId });
    expect(got2.body).toMatchObject({ name: 'Nudge 2', max_chats_count: 20 });
    const badUpdate = await configCall(sandbox, 'update_bot', {
      id: bot.botId,
      max_chats_count: 501,
    });
    expect(errorOf(badUpdate.body).message).toContain('`max_chats_count`');
    const deleted = await configCall(sandbox, 'delete_bot', { id: bot.botId });
    expect(deleted).toMatchObject({ status: 200, body: {} });
    expect((await configCall(sandbox, 'get_bot', { id: bot.botId })).status).toBe(404);
    // Its token stops working.
    const afterDelete = await agentCall(sandbox, 'list_chats', {}, { auth: bot.authorization });
    expect(errorOf(afterDelete.body).type).toBe('authentication');
  });

  it('issue_bot_token takes the documented fields and validates the secret', async () => {
    sandbox = await startSandbox();
    const created = await configCall(sandbox, 'create_bot', {
      name: 'Nudge',
      owner_client_id: sandbox.credentials.clientId,
    });
    const request = {
      bot_id: str(created.body, 'id'),
      client_id: sandbox.credentials.clientId,
      bot_secret: str(created.body, 'secret'),
      organization_id: sandbox.credentials.organizationId,
    };
    expect(Object.keys(request).sort()).toEqual([...ISSUE_BOT_TOKEN_REQUEST_FIELDS].sort());
    // Like every doc example: with the account's PAT.
    const issued = await configCall(sandbox, 'issue_bot_token', request);
    expect(issued.status).toBe(200);
    expect(shapeDiff(issued.body, ISSUE_BOT_TOKEN_RESPONSE)).toEqual([]);
    expect(str(issued.body, 'token').split('.')).toHaveLength(3);
    const wrongSecret = await configCall(sandbox, 'issue_bot_token', {
      ...request,
      bot_secret: 'nope',
    });
    expect(wrongSecret.status).toBe(401);
    expect(errorOf(wrongSecret.body).type).toBe('authentication');
    for (const field of ISSUE_BOT_TOKEN_REQUEST_FIELDS) {
      const missing = await configCall(sandbox, 'issue_bot_token', {
        ...request,
        [field]: undefined,
      });
      expect(errorOf(missing.body).message).toContain(`\`${field}\``);
    }
  });

  it("issue_bot_token needs an agent's credentials in the organization asked for", async () => {
    sandbox = await startSandbox({ seed: seedWithOtherOrganization() });
    const bot = await setupBot(sandbox);
    const request = {
      bot_id: bot.botId,
      client_id: sandbox.credentials.clientId,
      bot_secret: bot.secret,
      organization_id: sandbox.credentials.organizationId,
    };
    // "Required scopes: -" is no scope, not no authentication.
    const anonymous = await configCall(sandbox, 'issue_bot_token', request, { auth: '' });
    expect(anonymous.status).toBe(401);
    expect(errorOf(anonymous.body).type).toBe('authentication');
    // Another organization's PAT cannot issue this organization's bot tokens.
    const foreign = await configCall(sandbox, 'issue_bot_token', request, {
      auth: OTHER_ORGANIZATION.authorization,
    });
    expect(foreign.status).toBe(403);
    expect(errorOf(foreign.body)).toMatchObject({
      type: 'authorization',
      message: expect.stringContaining(sandbox.credentials.organizationId),
    });
    // Nor can a bot token renew itself.
    const withBotToken = await configCall(sandbox, 'issue_bot_token', request, {
      auth: bot.authorization,
    });
    expect(errorOf(withBotToken.body).type).toBe('authorization');
    // An agent's Bearer token of the organization works, like the older doc examples.
    const withAgentToken = await configCall(sandbox, 'issue_bot_token', request, {
      auth: sandbox.credentials.agentAuthorization,
    });
    expect(withAgentToken.status).toBe(200);
  });

  it('a bot token cannot manage webhooks (no webhooks.configuration scope)', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox);
    const response = await configCall(sandbox, 'register_webhook', documentedRegistration(), {
      auth: bot.authorization,
    });
    expect(response.status).toBe(403);
    expect(errorOf(response.body).type).toBe('authorization');
  });
});
