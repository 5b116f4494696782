import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import {
  ALL_SCOPES,
  createDefaultSeed,
  DEFAULT_CLIENT_ID,
  DEFAULT_ORGANIZATION_ID,
  type Sandbox,
} from '../src/index.js';
import {
  agentCall,
  at,
  configCall,
  registerWebhook,
  setupBot,
  startReceiver,
  startSandbox,
} from './helpers.js';

// Smaller points where LiveChat's docs are stricter (or different per version) than a lenient
// stand-in would be.

let sandbox: Sandbox;

afterEach(async () => {
  await sandbox?.close();
});

const errorType = (body: unknown) => at(body, 'error', 'type');

describe("the customer's visit", () => {
  it('is `visit` in v3.6 and `last_visit` in v3.5, in API answers and webhooks', async () => {
    sandbox = await startSandbox();
    const v35 = await startReceiver();
    const v36 = await startReceiver();
    onTestFinished(() => Promise.all([v35.close(), v36.close()]).then(() => undefined));
    await registerWebhook(sandbox, v35, { action: 'incoming_chat' }, '3.5');
    await registerWebhook(sandbox, v36, { action: 'incoming_chat' }, '3.6');
    const { chatId } = sandbox.scenario.openChat({ agentIds: [], message: 'Hi' });

    const customerIn = (chat: unknown) =>
      (at(chat, 'users') as Array<Record<string, unknown>>).find(
        (user) => user.type === 'customer',
      );
    for (const [version, field, absent] of [
      ['3.6', 'visit', 'last_visit'],
      ['3.5', 'last_visit', 'visit'],
    ] as const) {
      const chat = await agentCall(sandbox, 'get_chat', { chat_id: chatId }, { version });
      const customer = customerIn(chat.body);
      expect(customer, version).toHaveProperty(field);
      expect(customer, version).not.toHaveProperty(absent);
      expect(at(customer, field, 'started_at'), version).toEqual(expect.any(String));
    }
    const [old] = await v35.waitForCount(1, 'incoming_chat');
    const [current] = await v36.waitForCount(1, 'incoming_chat');
    expect(customerIn(at(old?.body, 'payload', 'chat'))).toHaveProperty('last_visit');
    expect(customerIn(at(current?.body, 'payload', 'chat'))).toHaveProperty('visit');
    expect(customerIn(at(current?.body, 'payload', 'chat'))).not.toHaveProperty('last_visit');
  });
});

describe('owner_client_id', () => {
  it('list_webhooks and unregister_webhook require it, even with a Bearer token', async () => {
    sandbox = await startSandbox();
    const bearer = { auth: sandbox.credentials.agentAuthorization, version: '3.6' };
    const listed = await configCall(sandbox, 'list_webhooks', {}, bearer);
    expect(at(listed.body, 'error')).toMatchObject({
      type: 'validation',
      message: '`owner_client_id` is required',
    });
    const unregistered = await configCall(sandbox, 'unregister_webhook', { id: 'x' }, bearer);
    expect(at(unregistered.body, 'error', 'message')).toBe('`owner_client_id` is required');
    // The license webhooks state keeps the PAT-only rule: a Bearer token's client ID counts.
    const state = await configCall(sandbox, 'get_license_webhooks_state', {}, bearer);
    expect(state.body).toEqual({ license_webhooks_enabled: true });
  });
});

describe('bots', () => {
  it('get_bot names the avatar `avatar_path` in v3.6 (`avatar` in v3.5)', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox, { avatar: 'https://example.com/bot.png' });
    const v36 = await configCall(sandbox, 'get_bot', { id: bot.botId }, { version: '3.6' });
    expect(v36.body).toMatchObject({ avatar_path: 'https://example.com/bot.png' });
    expect(v36.body).not.toHaveProperty('avatar');
    const v35 = await configCall(sandbox, 'get_bot', { id: bot.botId }, { version: '3.5' });
    expect(v35.body).toMatchObject({ avatar: 'https://example.com/bot.png' });
    expect(v35.body).not.toHaveProperty('avatar_path');
  });

  it("setting a bot's routing status with a PAT takes agents-bot--all:rw", async () => {
    const seed = createDefaultSeed();
    const only = (scope: string) => ALL_SCOPES.filter((candidate) => candidate !== scope);
    seed.clientApps.push({ clientId: 'f00dfeedf00dfeedf00dfeedf00dfeed', name: 'Other app' });
    seed.accounts.push(
      {
        accountId: 'a0000000-0000-4000-8000-00000000000b',
        agentId: 'my-bots@example.com',
        organizationId: DEFAULT_ORGANIZATION_ID,
        pat: 'dal:pat-with-my-bots-only',
        agentToken: 'dal:token-with-my-bots-only',
        agentTokenClientId: DEFAULT_CLIENT_ID,
        scopes: only('agents-bot--all:rw'),
      },
      {
        accountId: 'a0000000-0000-4000-8000-00000000000c',
        agentId: 'other-app@example.com',
        organizationId: DEFAULT_ORGANIZATION_ID,
        agentToken: 'dal:other-app-token',
        agentTokenClientId: 'f00dfeedf00dfeedf00dfeedf00dfeed',
        scopes: only('agents-bot--all:rw'),
      },
    );
    sandbox = await startSandbox({ seed });
    const bot = await setupBot(sandbox);
    const set = (auth: string) =>
      agentCall(
        sandbox,
        'set_routing_status',
        { status: 'accepting_chats', agent_id: bot.botId },
        { auth, version: '3.6' },
      );
    const basic = Buffer.from(
      'a0000000-0000-4000-8000-00000000000b:dal:pat-with-my-bots-only',
    ).toString('base64');
    // agents-bot--my:rw is for bots of the token's client ID; a PAT has none.
    expect(errorType((await set(`Basic ${basic}`)).body)).toBe('authorization');
    // An agent token of another app: not its bot.
    expect(errorType((await set('Bearer dal:other-app-token')).body)).toBe('authorization');
    // An agent token of the bot's own app: agents-bot--my is enough.
    expect((await set('Bearer dal:token-with-my-bots-only')).status).toBe(200);
    // A PAT with agents-bot--all:rw (the default seed's).
    expect((await set(sandbox.credentials.patAuthorization)).status).toBe(200);
  });
});

describe('rich messages', () => {
  it('send_event takes a rich_message without elements; checks template_id and the limit', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox);
    const { chatId } = sandbox.scenario.openChat({ agentIds: [bot.botId] });
    const send = (event: Record<string, unknown>, version = '3.6') =>
      agentCall(
        sandbox,
        'send_event',
        { chat_id: chatId, event: { type: 'rich_message', ...event } },
        { auth: bot.authorization, version },
      );
    for (const version of ['3.5', '3.6']) {
      expect((await send({ template_id: 'quick_replies' }, version)).status).toBe(200);
    }
    expect((await send({ template_id: 'ecommerce' })).status).toBe(200);
    expect(errorType((await send({ template_id: 'ecommerce' }, '3.5')).body)).toBe('validation');
    const eleven = Array.from({ length: 11 }, (_, i) => ({ title: `card ${i}` }));
    expect(errorType((await send({ template_id: 'cards', elements: eleven })).body)).toBe(
      'validation',
    );
    expect(errorType((await send({ elements: [] })).body)).toBe('validation');
  });
});

describe('license webhooks', () => {
  it('enable_license_webhooks does not install an app; the state says so', async () => {
    const seed = createDefaultSeed();
    seed.clientApps.push({ clientId: 'f00dfeedf00dfeedf00dfeedf00dfeed', name: 'Not installed' });
    sandbox = await startSandbox({ seed });
    const owner = { owner_client_id: 'f00dfeedf00dfeedf00dfeedf00dfeed' };
    const enabled = await configCall(sandbox, 'enable_license_webhooks', owner, { version: '3.6' });
    expect(enabled.status).toBe(404);
    expect(at(enabled.body, 'error')).toMatchObject({
      type: 'not_found',
      message: expect.stringContaining('not installed'),
    });
    const state = await configCall(sandbox, 'get_license_webhooks_state', owner, {
      version: '3.6',
    });
    expect(state.body).toEqual({ license_webhooks_enabled: false });
    expect(sandbox.state.licenseWebhooksEnabled('f00dfeedf00dfeedf00dfeedf00dfeed')).toBe(false);
  });
});
