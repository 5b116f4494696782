import type { Sandbox } from '@nudge/livechat-sandbox';
import { waitFor } from '@nudge/testing';
import { afterEach, describe, expect, inject, it } from 'vitest';
import {
  CachedBotToken,
  LivechatRetryableError,
  LivechatUnrecoverableError,
} from '../src/index.js';
import {
  BOT,
  botTokenKey,
  botTokenLockKey,
  callsOf,
  clientFor,
  createLogCollector,
  openRedisScope,
  type RedisScope,
  rejectionOf,
  startSandbox,
} from './client-helpers.js';

let sandbox: Sandbox | undefined;
let scope: RedisScope | undefined;

afterEach(async () => {
  await sandbox?.close();
  await scope?.cleanup();
  sandbox = undefined;
  scope = undefined;
});

const setup = async (botTokenTtlMs?: number) => {
  sandbox = await startSandbox(botTokenTtlMs === undefined ? {} : { botTokenTtlMs });
  scope = openRedisScope(inject('redisUrl'));
  const { chatId } = sandbox.scenario.openChat({ agentIds: [BOT.id], message: 'Hi' });
  return { sandbox, scope, chatId };
};

const issuedTokens = (sandbox: Sandbox): string[] =>
  callsOf(sandbox, 'issue_bot_token').map((call) => {
    const token = (call.response as { token?: unknown } | undefined)?.token;
    if (typeof token !== 'string') {
      throw new Error(`issue_bot_token answered ${JSON.stringify(call.response)}`);
    }
    return token;
  });

const DAY_MS = 24 * 60 * 60 * 1000;
const MARGIN_MS = 5 * 60 * 1000;

describe('bot token cache', () => {
  it('caches the token in Redis; a second client instance reuses it', async () => {
    const { sandbox, scope, chatId } = await setup();
    const first = clientFor(sandbox, scope, { mode: 'bot', version: '3.6' });
    await first.getChat({ chat_id: chatId });

    const [token] = issuedTokens(sandbox);
    const raw = await scope.redis.get(botTokenKey(scope.prefix));
    const cached = CachedBotToken.parse(JSON.parse(raw ?? 'null'));
    expect(cached.token).toBe(token);
    // Valid 24 h; the entry lives 5 min less so it is refreshed before LiveChat refuses it.
    const ttl = await scope.redis.pttl(botTokenKey(scope.prefix));
    expect(ttl).toBeLessThanOrEqual(DAY_MS - MARGIN_MS);
    expect(ttl).toBeGreaterThan(DAY_MS - MARGIN_MS - 10_000);
    expect(cached.refreshAt).toBe(cached.expiresAt - MARGIN_MS);

    const second = clientFor(sandbox, scope, { mode: 'bot', version: '3.6' });
    await second.sendEvent({ chat_id: chatId, event: { type: 'message', text: 'Reused' } });
    expect(callsOf(sandbox, 'issue_bot_token')).toHaveLength(1);
    expect(callsOf(sandbox, 'send_event')[0]?.identity).toEqual({
      type: 'bot',
      botId: BOT.id,
      via: 'bot_token',
    });
    // The lock was released.
    expect(await scope.redis.exists(botTokenLockKey(scope.prefix))).toBe(0);
  });

  it('20 concurrent calls from two instances with an empty cache issue one token', async () => {
    const { sandbox, scope, chatId } = await setup();
    // A slow issue_bot_token keeps the refresh in flight while every call arrives.
    sandbox.faults.add({ action: 'issue_bot_token', mode: 'delay', delayMs: 300 });
    const clients = [
      clientFor(sandbox, scope, { mode: 'bot', version: '3.6' }),
      clientFor(sandbox, scope, { mode: 'bot', version: '3.6' }),
    ];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => clients[i % 2]?.getChat({ chat_id: chatId })),
    );
    expect(results.map((chat) => chat?.id)).toEqual(Array(20).fill(chatId));
    expect(callsOf(sandbox, 'issue_bot_token')).toHaveLength(1);
    const gets = callsOf(sandbox, 'get_chat');
    expect(gets).toHaveLength(20);
    expect(gets.every((call) => call.status === 200)).toBe(true);
  });

  it('refreshes before expiry (configured validity)', async () => {
    const { sandbox, scope, chatId } = await setup(1_500);
    const client = clientFor(sandbox, scope, {
      mode: 'bot',
      version: '3.6',
      botAuth: { tokenValidityMs: 1_500 },
    });
    await client.getChat({ chat_id: chatId });
    // The entry disappears when the token is due for a refresh, before it expires.
    await waitFor(async () => (await scope.redis.exists(botTokenKey(scope.prefix))) === 0, {
      timeoutMs: 5_000,
      what: 'the cached token to be due for a refresh',
    });
    await client.getChat({ chat_id: chatId });
    const [firstToken, secondToken] = issuedTokens(sandbox);
    expect(issuedTokens(sandbox)).toHaveLength(2);
    expect(secondToken).not.toBe(firstToken);
    // Never sent an expired token: LiveChat refused nothing.
    expect(sandbox.journal.calls().filter((call) => call.status !== 200)).toEqual([]);
  });

  it("honours the token's own exp claim when it is shorter than the configured validity", async () => {
    const { sandbox, scope, chatId } = await setup(2_000);
    const client = clientFor(sandbox, scope, { mode: 'bot', version: '3.6' });
    await client.getChat({ chat_id: chatId });
    expect(await scope.redis.pttl(botTokenKey(scope.prefix))).toBeLessThanOrEqual(2_000);
    await waitFor(async () => (await scope.redis.exists(botTokenKey(scope.prefix))) === 0, {
      timeoutMs: 5_000,
      what: 'the cached token to be due for a refresh',
    });
    await client.getChat({ chat_id: chatId });
    expect(issuedTokens(sandbox)).toHaveLength(2);
    expect(sandbox.journal.calls().filter((call) => call.status !== 200)).toEqual([]);
  });

  it('an authentication error refreshes the token once and retries once', async () => {
    const { sandbox, scope, chatId } = await setup();
    const { log, lines } = createLogCollector();
    const client = clientFor(sandbox, scope, { mode: 'bot', version: '3.6', log });
    sandbox.faults.add({
      action: 'get_chat',
      mode: 'error',
      errorType: 'authentication',
      times: 1,
    });
    const chat = await client.getChat({ chat_id: chatId });
    expect(chat.id).toBe(chatId);
    expect(callsOf(sandbox, 'get_chat').map((call) => call.status)).toEqual([401, 200]);
    const [first, second] = issuedTokens(sandbox);
    expect(issuedTokens(sandbox)).toHaveLength(2);
    // The cache now holds the new token; the rejected one is gone.
    const cached = CachedBotToken.parse(
      JSON.parse((await scope.redis.get(botTokenKey(scope.prefix))) ?? 'null'),
    );
    expect(cached.token).toBe(second);
    expect(cached.token).not.toBe(first);
    expect(lines).toEqual([
      {
        obj: expect.objectContaining({ action: 'get_chat', botId: BOT.id }),
        msg: expect.stringContaining('refreshing'),
      },
    ]);
  });

  it('a second authentication error is final (one retry only)', async () => {
    const { sandbox, scope, chatId } = await setup();
    const client = clientFor(sandbox, scope, { mode: 'bot', version: '3.6' });
    sandbox.faults.add({ action: 'get_chat', mode: 'error', errorType: 'authentication' });
    const err = await rejectionOf(client.getChat({ chat_id: chatId }));
    expect(err).toBeInstanceOf(LivechatUnrecoverableError);
    expect(err).toMatchObject({ type: 'authentication', status: 401, action: 'get_chat' });
    expect(callsOf(sandbox, 'get_chat')).toHaveLength(2);
    expect(callsOf(sandbox, 'issue_bot_token')).toHaveLength(2);
  });

  it('a wrong bot secret fails at issue_bot_token without a retry loop', async () => {
    const { sandbox, scope, chatId } = await setup();
    const client = clientFor(sandbox, scope, {
      mode: 'bot',
      version: '3.6',
      botAuth: { botSecret: 'not-the-bot-secret-123456' },
    });
    const err = await rejectionOf(client.getChat({ chat_id: chatId }));
    expect(err).toBeInstanceOf(LivechatUnrecoverableError);
    expect(err).toMatchObject({ type: 'authentication', action: 'issue_bot_token' });
    expect(callsOf(sandbox, 'issue_bot_token')).toHaveLength(1);
    expect(callsOf(sandbox, 'get_chat')).toHaveLength(0);
  });

  it('a failed refresh releases the lock, so the next call refreshes at once', async () => {
    const { sandbox, scope, chatId } = await setup();
    const client = clientFor(sandbox, scope, { mode: 'bot', version: '3.6' });
    sandbox.faults.add({
      action: 'issue_bot_token',
      mode: 'error',
      errorType: 'service_unavailable',
      times: 1,
    });
    const err = await rejectionOf(client.getChat({ chat_id: chatId }));
    expect(err).toBeInstanceOf(LivechatRetryableError);
    expect(err).toMatchObject({ type: 'service_unavailable', action: 'issue_bot_token' });
    expect(await scope.redis.exists(botTokenLockKey(scope.prefix))).toBe(0);

    const started = Date.now();
    expect((await client.getChat({ chat_id: chatId })).id).toBe(chatId);
    // Well under the lock's lifetime (≥ 5 s): nobody waited for a stale lock.
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(callsOf(sandbox, 'issue_bot_token').map((call) => call.status)).toEqual([503, 200]);
  });

  it('waits for a lock held by another worker and uses the token it stores', async () => {
    const { sandbox, scope, chatId } = await setup();
    const lockKey = botTokenLockKey(scope.prefix);
    // Another worker is refreshing.
    await scope.redis.set(lockKey, 'other-worker', 'PX', 10_000);
    const client = clientFor(sandbox, scope, { mode: 'bot', version: '3.6' });
    const pending = client.getChat({ chat_id: chatId });
    // Issue a token the way the other worker would, then store it in the cache.
    const other = clientFor(sandbox, scope, { mode: 'pat', version: '3.6' });
    const { token } = await other.issueBotToken({
      bot_id: BOT.id,
      client_id: sandbox.credentials.clientId,
      bot_secret: BOT.secret,
      organization_id: sandbox.credentials.organizationId,
    });
    const now = Date.now();
    await scope.redis.set(
      botTokenKey(scope.prefix),
      JSON.stringify({ token, expiresAt: now + DAY_MS, refreshAt: now + DAY_MS - MARGIN_MS }),
      'PX',
      60_000,
    );
    await scope.redis.del(lockKey);
    expect((await pending).id).toBe(chatId);
    // Only the other worker's token was issued.
    expect(callsOf(sandbox, 'issue_bot_token')).toHaveLength(1);
    expect(callsOf(sandbox, 'get_chat')[0]?.identity).toMatchObject({ via: 'bot_token' });
  });
});

describe('issue_bot_token credentials', () => {
  it.each([
    ['pat', 'pat'],
    ['bearer', 'agent_token'],
  ] as const)("sends the issuer's credentials (%s) with issue_bot_token", async (type, via) => {
    const { sandbox, scope, chatId } = await setup();
    const { credentials } = sandbox;
    const client = clientFor(sandbox, scope, {
      mode: 'bot',
      version: '3.6',
      botAuth: {
        issuer:
          type === 'pat'
            ? { type: 'pat', accountId: credentials.accountId, pat: credentials.pat }
            : { type: 'bearer', token: credentials.agentToken },
      },
    });
    expect((await client.getChat({ chat_id: chatId })).id).toBe(chatId);
    expect(callsOf(sandbox, 'issue_bot_token').map((call) => [call.status, call.identity])).toEqual(
      [
        [
          200,
          { type: 'agent', agentId: credentials.agentId, accountId: credentials.accountId, via },
        ],
      ],
    );
    expect(callsOf(sandbox, 'get_chat')[0]?.identity).toMatchObject({ via: 'bot_token' });
  });
});
