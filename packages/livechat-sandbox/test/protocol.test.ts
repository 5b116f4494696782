import { waitFor } from '@nudge/testing';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { ERROR_RESPONSE, SEND_EVENT_REQUEST } from './fixtures/docs-examples.js';
import {
  agentCall,
  at,
  configCall,
  OTHER_ORGANIZATION,
  post,
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

describe('URL layout, versions and errors', () => {
  it('serves v3.5 and v3.6; v3.5 answers carry a Legacy header', async () => {
    sandbox = await startSandbox();
    const legacy = await agentCall(sandbox, 'list_chats', {});
    expect(legacy.status).toBe(200);
    expect(legacy.headers.get('legacy')).toMatch(/^\d{4}-\d\d-\d\d$/);
    expect(legacy.headers.get('content-type')).toBe('application/json');
    const stable = await agentCall(sandbox, 'list_chats', {}, { version: '3.6' });
    expect(stable.status).toBe(200);
    expect(stable.headers.get('legacy')).toBeNull();
    const failed = await agentCall(sandbox, 'get_chat', {});
    expect(failed.headers.get('legacy')).not.toBeNull();
  });

  it('answers unknown versions, actions and paths in LiveChats error format', async () => {
    sandbox = await startSandbox();
    const auth = sandbox.credentials.patAuthorization;
    const version = await post(
      sandbox,
      '/v3.4/agent/action/list_chats',
      {},
      { Authorization: auth },
    );
    expect(version.status).toBe(400);
    expect(errorOf(version.body).type).toBe('unsupported_version');
    const action = await agentCall(sandbox, 'start_world_peace', {});
    expect(action.status).toBe(404);
    expect(shapeDiff(action.body, ERROR_RESPONSE, { optional: ['error.data'] })).toEqual([]);
    const prototype = await agentCall(sandbox, 'constructor', {});
    expect(errorOf(prototype.body).type).toBe('not_found');
    const path = await post(sandbox, '/v3.5/chat/action/send_event', {});
    expect(errorOf(path.body).type).toBe('not_found');
  });

  it('rejects bodies that are not JSON objects', async () => {
    sandbox = await startSandbox();
    const auth = sandbox.credentials.patAuthorization;
    const broken = await post(sandbox, '/v3.5/agent/action/list_chats', '{not json', {
      Authorization: auth,
    });
    expect(broken.status).toBe(400);
    expect(errorOf(broken.body).type).toBe('validation');
    const array = await post(sandbox, '/v3.5/agent/action/list_chats', '[]', {
      Authorization: auth,
    });
    expect(errorOf(array.body).type).toBe('validation');
  });
});

describe('authentication', () => {
  it('accepts a PAT as Basic base64(account_id:PAT), an agent token and a bot token', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox);
    for (const auth of [
      sandbox.credentials.patAuthorization,
      sandbox.credentials.agentAuthorization,
      bot.authorization,
    ]) {
      const response = await agentCall(sandbox, 'list_chats', {}, { auth });
      expect(response.status, auth).toBe(200);
    }
    const identities = sandbox.journal
      .calls()
      .filter((call) => call.action === 'list_chats')
      .map((call) => call.identity);
    expect(identities).toEqual([
      {
        type: 'agent',
        agentId: sandbox.credentials.agentId,
        accountId: sandbox.credentials.accountId,
        via: 'pat',
      },
      {
        type: 'agent',
        agentId: sandbox.credentials.agentId,
        accountId: sandbox.credentials.accountId,
        via: 'agent_token',
      },
      { type: 'bot', botId: bot.botId, via: 'bot_token' },
    ]);
  });

  it('rejects missing, unknown and malformed credentials with authentication / 401', async () => {
    sandbox = await startSandbox();
    const { accountId, pat } = sandbox.credentials;
    const bad = [
      '',
      'Bearer nope',
      `Basic ${Buffer.from(`${accountId}:wrong`).toString('base64')}`,
      // The unencoded form some doc samples print.
      `Basic ${accountId}:${pat}`,
      `Basic ${Buffer.from(`agent@example.com:${pat}`).toString('base64')}`,
      `Token ${pat}`,
    ];
    for (const auth of bad) {
      const response = await agentCall(sandbox, 'list_chats', {}, { auth });
      expect(response.status, auth).toBe(401);
      expect(errorOf(response.body).type).toBe('authentication');
    }
  });

  it('an expired bot token answers authentication', async () => {
    sandbox = await startSandbox({ botTokenTtlMs: 300 });
    const bot = await setupBot(sandbox);
    expect((await agentCall(sandbox, 'list_chats', {}, { auth: bot.authorization })).status).toBe(
      200,
    );
    const expired = await waitFor(
      async () => {
        const response = await agentCall(sandbox, 'list_chats', {}, { auth: bot.authorization });
        return response.status === 401 ? response : undefined;
      },
      { timeoutMs: 3_000, intervalMs: 50, what: 'the bot token to expire' },
    );
    expect(errorOf(expired.body)).toMatchObject({
      type: 'authentication',
      message: expect.stringContaining('expired'),
    });
  });

  it('v3.5: X-Author-Id with a PAT or agent token acts as that bot', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox);
    const opened = sandbox.scenario.openChat({ agentIds: [bot.botId] });
    for (const auth of [
      sandbox.credentials.patAuthorization,
      sandbox.credentials.agentAuthorization,
    ]) {
      const response = await agentCall(
        sandbox,
        'send_event',
        { ...SEND_EVENT_REQUEST, chat_id: opened.chatId },
        {
          auth,
          headers: { 'X-Author-Id': bot.botId },
        },
      );
      expect(response.status).toBe(200);
    }
    const events = at(
      sandbox.scenario.getChat({ chatId: opened.chatId }),
      'threads',
      0,
      'events',
    ) as unknown[];
    expect(events.map((event) => at(event, 'author_id'))).toEqual([bot.botId, bot.botId]);
    expect(sandbox.journal.calls().at(-1)?.identity).toEqual({
      type: 'bot',
      botId: bot.botId,
      via: 'x_author_id',
      impersonatedBy: sandbox.credentials.agentId,
    });
    const unknownBot = await agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: opened.chatId },
      {
        headers: { 'X-Author-Id': 'ffffffffffffffffffffffffffffffff' },
      },
    );
    expect(errorOf(unknownBot.body).type).toBe('authorization');
  });

  it('v3.6: X-Author-Id is rejected with validation', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox);
    const opened = sandbox.scenario.openChat({ agentIds: [bot.botId] });
    const response = await agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: opened.chatId },
      {
        version: '3.6',
        headers: { 'X-Author-Id': bot.botId },
      },
    );
    expect(response.status).toBe(400);
    expect(errorOf(response.body)).toMatchObject({
      type: 'validation',
      message: expect.stringContaining('X-Author-Id'),
    });
    expect(at(sandbox.scenario.getChat({ chatId: opened.chatId }), 'threads', 0, 'events')).toEqual(
      [],
    );
  });

  it('a bot token acts only in its organization', async () => {
    const otherOrg = OTHER_ORGANIZATION.organizationId;
    sandbox = await startSandbox({ seed: seedWithOtherOrganization() });
    const bot = await setupBot(sandbox);
    const foreign = sandbox.scenario.openChat({
      organizationId: otherOrg,
      agentIds: ['other@example.com'],
    });
    const got = await agentCall(
      sandbox,
      'get_chat',
      { chat_id: foreign.chatId },
      { auth: bot.authorization },
    );
    expect(got.status).toBe(404);
    const otherPat = OTHER_ORGANIZATION.authorization;
    const listedByOther = await agentCall(sandbox, 'list_chats', {}, { auth: otherPat });
    expect(
      (at(listedByOther.body, 'chats_summary') as unknown[]).map((chat) => at(chat, 'id')),
    ).toEqual([foreign.chatId]);
    const botFromOtherOrg = await configCall(
      sandbox,
      'get_bot',
      { id: bot.botId },
      { auth: otherPat },
    );
    expect(botFromOtherOrg.status).toBe(404);
  });
});
