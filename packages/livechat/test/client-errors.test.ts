import { randomUUID } from 'node:crypto';
import type { Sandbox } from '@nudge/livechat-sandbox';
import { createRedisTokenCache } from '@nudge/runtime';
import { findFreePort } from '@nudge/testing';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import {
  CachedBotToken,
  createLivechatClient,
  LivechatError,
  type LivechatErrorDetails,
  type LivechatErrorKind,
  LivechatRateLimitedError,
  LivechatRetryableError,
  LivechatUnrecoverableError,
} from '../src/index.js';
import {
  BOT,
  callsOf,
  clientFor,
  createLogCollector,
  openRedisScope,
  type RedisScope,
  rejectionOf,
  startSandbox,
} from './client-helpers.js';

let sandbox: Sandbox;
let scope: RedisScope;
let chatId: string;

beforeAll(async () => {
  sandbox = await startSandbox();
  scope = openRedisScope(inject('redisUrl'));
  chatId = sandbox.scenario.openChat({ agentIds: [BOT.id], message: 'Hi' }).chatId;
});

afterEach(() => {
  sandbox.faults.clear();
});

afterAll(async () => {
  await sandbox?.close();
  await scope?.cleanup();
});

const CLASSES: Record<LivechatErrorKind, new (details: LivechatErrorDetails) => LivechatError> = {
  rate_limited: LivechatRateLimitedError,
  retryable: LivechatRetryableError,
  unrecoverable: LivechatUnrecoverableError,
};

/** A fetch that answers every call with `response()` (LiveChat misbehaving beyond the sandbox). */
const answering =
  (response: () => Response): typeof fetch =>
  async () =>
    response();

/** A fetch that passes calls to the sandbox and rewrites the answers of `action`. */
const rewriting =
  (action: string, rewrite: (response: Response) => Promise<Response>): typeof fetch =>
  async (input, init) => {
    const response = await fetch(input, init);
    return String(input).endsWith(`/action/${action}`) ? rewrite(response) : response;
  };

describe('error classes', () => {
  it.each([
    ['too_many_requests', undefined, 'rate_limited', 429],
    ['internal', undefined, 'retryable', 500],
    ['service_unavailable', undefined, 'retryable', 503],
    ['request_timeout', undefined, 'retryable', 408],
    ['validation', undefined, 'unrecoverable', 400],
    ['authorization', undefined, 'unrecoverable', 403],
    ['not_found', undefined, 'unrecoverable', 404],
    ['chat_inactive', undefined, 'unrecoverable', 422],
    // error.type wins over the HTTP status.
    ['validation', 503, 'unrecoverable', 503],
    ['internal', 400, 'retryable', 400],
    ['too_many_requests', 400, 'rate_limited', 400],
    // A type we don't know yet falls back on the status.
    ['brand_new_problem', 502, 'retryable', 502],
    ['brand_new_problem', 400, 'unrecoverable', 400],
  ] as const)('%s (HTTP %s) → %s', async (errorType, status, kind, expectedStatus) => {
    const client = clientFor(sandbox, scope, { mode: 'pat', version: '3.6' });
    sandbox.faults.add({
      action: 'get_chat',
      mode: 'error',
      errorType,
      ...(status === undefined ? {} : { status }),
      times: 1,
    });
    const err = await rejectionOf(client.getChat({ chat_id: chatId }));
    expect(err).toBeInstanceOf(CLASSES[kind]);
    expect(err).toBeInstanceOf(LivechatError);
    expect(err).toMatchObject({
      kind,
      type: errorType,
      status: expectedStatus,
      action: 'get_chat',
      version: '3.6',
    });
    expect(String(err)).toContain(`get_chat (v3.6) failed: ${errorType}`);
  });

  it('chat_inactive from a closed chat is unrecoverable', async () => {
    const { chatId: closed } = sandbox.scenario.openChat({ agentIds: [BOT.id] });
    sandbox.scenario.close({ chatId: closed });
    const client = clientFor(sandbox, scope, { mode: 'bot', version: '3.6' });
    const err = await rejectionOf(
      client.sendEvent({ chat_id: closed, event: { type: 'message', text: 'Still there?' } }),
    );
    expect(err).toBeInstanceOf(LivechatUnrecoverableError);
    expect(err).toMatchObject({ type: 'chat_inactive', action: 'send_event' });
  });

  it('a real validation error is unrecoverable', async () => {
    const client = clientFor(sandbox, scope, { mode: 'bot', version: '3.6' });
    const err = await rejectionOf(
      client.sendEvent({ chat_id: chatId, event: { type: 'message', text: '' } }),
    );
    expect(err).toBeInstanceOf(LivechatUnrecoverableError);
    expect(err).toMatchObject({ type: 'validation', status: 400 });
  });

  it.each([
    [429, '', 'rate_limited'],
    [503, '<html>Bad gateway</html>', 'retryable'],
    [500, '', 'retryable'],
    [408, '', 'retryable'],
    [404, '', 'unrecoverable'],
    [400, '{"message":"not LiveChat shaped"}', 'unrecoverable'],
  ] as const)('HTTP %s without a LiveChat error body → %s', async (status, body, kind) => {
    const client = createLivechatClient({
      auth: { type: 'bearer', token: sandbox.credentials.agentToken },
      fetch: answering(
        () => new Response(body === '' ? null : body, { status, headers: { 'Retry-After': '7' } }),
      ),
    });
    const err = await rejectionOf(client.listChats());
    expect(err).toBeInstanceOf(CLASSES[kind]);
    expect(err).toMatchObject({ type: 'http_error', status, retryAfterMs: 7_000 });
  });

  it('a network error (closed port) is retryable', async () => {
    const port = await findFreePort();
    const client = createLivechatClient({
      baseUrl: `http://127.0.0.1:${port}`,
      auth: { type: 'pat', accountId: sandbox.credentials.accountId, pat: sandbox.credentials.pat },
    });
    const err = await rejectionOf(client.getChat({ chat_id: chatId }));
    expect(err).toBeInstanceOf(LivechatRetryableError);
    expect(err).toMatchObject({ type: 'network_error', status: undefined, action: 'get_chat' });
    expect(String((err as Error).cause)).toContain('ECONNREFUSED');
  });

  it('a response that fails our schema is unrecoverable and names the action and issue', async () => {
    const client = clientFor(sandbox, scope, {
      mode: 'pat',
      version: '3.6',
      fetch: rewriting('send_event', async (response) =>
        Response.json({ ...((await response.json()) as object), event_id: 42 }),
      ),
    });
    const err = await rejectionOf(
      client.sendEvent({ chat_id: chatId, event: { type: 'message', text: 'Drift' } }),
    );
    expect(err).toBeInstanceOf(LivechatUnrecoverableError);
    expect(err).toMatchObject({ type: 'invalid_response', action: 'send_event', status: 200 });
    expect((err as Error).message).toMatch(/send_event.*expected string.*event_id/s);
  });

  it('a 200 that is not JSON is unrecoverable; an empty 200 is fine for no-payload actions', async () => {
    const notJson = createLivechatClient({
      auth: { type: 'bearer', token: sandbox.credentials.agentToken },
      fetch: answering(() => new Response('<html>proxy</html>', { status: 200 })),
    });
    expect(await rejectionOf(notJson.getChat({ chat_id: chatId }))).toMatchObject({
      kind: 'unrecoverable',
      type: 'invalid_response',
    });
    const empty = createLivechatClient({
      auth: { type: 'bearer', token: sandbox.credentials.agentToken },
      fetch: answering(() => new Response(null, { status: 200 })),
    });
    await expect(empty.tagThread({ chat_id: 'c', thread_id: 't', tag: 'x' })).resolves.toBe(
      undefined,
    );
  });
});

describe('timeouts', () => {
  it('a hanging call fails as retryable within the timeout', async () => {
    sandbox.faults.add({ action: 'send_event', mode: 'hang' });
    const client = clientFor(sandbox, scope, { mode: 'pat', version: '3.6', timeoutMs: 300 });
    const started = Date.now();
    const err = await rejectionOf(
      client.sendEvent({ chat_id: chatId, event: { type: 'message', text: 'Hello?' } }),
    );
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(LivechatRetryableError);
    expect(err).toMatchObject({ type: 'timeout', action: 'send_event', status: undefined });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(2_000);
  });

  it('a per-call timeout overrides the client default', async () => {
    sandbox.faults.add({ action: 'get_chat', mode: 'hang' });
    const client = clientFor(sandbox, scope, { mode: 'pat', version: '3.6' });
    const started = Date.now();
    const err = await rejectionOf(client.getChat({ chat_id: chatId }, { timeoutMs: 200 }));
    expect(err).toMatchObject({ kind: 'retryable', type: 'timeout' });
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("a call's deadline timer is cleared once it answers, not left for the whole timeout", async () => {
    // An odd timeout, to tell the call's deadline from any other timer.
    const TIMEOUT_MS = 7_321;
    const client = clientFor(sandbox, scope, { mode: 'pat', version: '3.6' });
    const set = vi.spyOn(globalThis, 'setTimeout');
    const clear = vi.spyOn(globalThis, 'clearTimeout');
    try {
      await client.getChat({ chat_id: chatId }, { timeoutMs: TIMEOUT_MS });
      const deadlines = set.mock.calls.flatMap(([, delay], i) =>
        delay === TIMEOUT_MS ? [set.mock.results[i]?.value] : [],
      );
      expect(deadlines).toHaveLength(1);
      expect(clear.mock.calls.map(([timer]) => timer)).toContain(deadlines[0]);
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  it("the caller's signal aborts the call (retryable)", async () => {
    sandbox.faults.add({ action: 'list_chats', mode: 'hang' });
    const client = clientFor(sandbox, scope, { mode: 'pat', version: '3.6' });
    const controller = new AbortController();
    const pending = rejectionOf(client.listChats({}, { signal: controller.signal }));
    await sandbox.journal.waitForRequest((call) => call.action === 'list_chats');
    controller.abort();
    const err = await pending;
    expect(err).toBeInstanceOf(LivechatRetryableError);
    expect(err).toMatchObject({ type: 'aborted', action: 'list_chats' });
  });
});

describe('Legacy / Deprecation headers', () => {
  it('logs the Legacy header once per version', async () => {
    const { log, lines } = createLogCollector();
    const v35 = clientFor(sandbox, scope, { mode: 'pat', version: '3.5', log });
    const v36 = clientFor(sandbox, scope, { mode: 'pat', version: '3.6', log });
    await v35.getChat({ chat_id: chatId });
    await v35.listChats();
    await v36.listChats();
    await rejectionOf(v35.getChat({ chat_id: 'NO_SUCH_CHAT' }));
    expect(lines).toEqual([
      {
        obj: { version: '3.5', header: 'Legacy', value: '2027-02-07', action: 'get_chat' },
        msg: expect.stringContaining('Legacy: 2027-02-07'),
      },
    ]);
  });

  it('logs Deprecation separately, once across clients sharing a notice set', async () => {
    const { log, lines } = createLogCollector();
    const seenNoticeHeaders = new Set<string>();
    const deprecated: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      const headers = new Headers(response.headers);
      headers.set('Deprecation', '2026-12-31');
      return new Response(await response.text(), { status: response.status, headers });
    };
    for (let i = 0; i < 2; i++) {
      const client = clientFor(sandbox, scope, {
        mode: 'pat',
        version: '3.5',
        log,
        fetch: deprecated,
        seenNoticeHeaders,
      });
      await client.listChats();
      await client.listChats();
    }
    expect(lines.map((line) => line.obj)).toEqual([
      expect.objectContaining({ version: '3.5', header: 'Legacy' }),
      expect.objectContaining({ version: '3.5', header: 'Deprecation', value: '2026-12-31' }),
    ]);
  });
});

describe('construction', () => {
  it('refuses X-Author-Id on v3.6 (removed there) and unknown versions', () => {
    const auth = { type: 'pat', accountId: 'a', pat: 'p', authorId: BOT.id } as const;
    expect(() => createLivechatClient({ auth })).toThrow(/X-Author-Id/);
    expect(() => createLivechatClient({ auth, version: '3.4' as unknown as '3.5' })).toThrow(
      /version/,
    );
    expect(createLivechatClient({ auth, version: '3.5' }).version).toBe('3.5');
    expect(createLivechatClient({ auth: { type: 'bearer', token: 't' } }).version).toBe('3.6');
  });

  it('sends X-Region where configured', async () => {
    const seen: Array<string | null> = [];
    const client = createLivechatClient({
      auth: { type: 'bearer', token: sandbox.credentials.agentToken },
      region: 'fra',
      fetch: async (_input, init) => {
        seen.push(new Headers(init?.headers).get('X-Region'));
        return Response.json([]);
      },
    });
    await client.listRoutingStatuses();
    expect(seen).toEqual(['fra']);
  });
});

describe('secrets stay out of errors and logs', () => {
  it('in every auth mode and for every kind of error', async () => {
    const { credentials } = sandbox;
    const { log, lines } = createLogCollector();
    const errors: unknown[] = [];
    const collect = async (promise: Promise<unknown>) => errors.push(await rejectionOf(promise));
    const patBasic = Buffer.from(`${credentials.accountId}:${credentials.pat}`).toString('base64');
    const issuedBotTokens = () =>
      callsOf(sandbox, 'issue_bot_token').flatMap((call) => {
        const token = (call.response as { token?: unknown } | undefined)?.token;
        return typeof token === 'string' ? [token] : [];
      });
    // LiveChat echoing a client's credentials back is the worst case: errors must redact them.
    const echoFor = (mode: string) => {
      switch (mode) {
        case 'bot':
          return `token ${BOT.secret} ${issuedBotTokens().join(' ')}`;
        case 'bearer':
          return `token ${credentials.agentToken}`;
        default:
          return `token ${credentials.pat} ${patBasic}`;
      }
    };
    // A network failure whose underlying error names a credential.
    const failingFetch =
      (echo: () => string): typeof fetch =>
      async (input, init) => {
        if (String(input).endsWith('/list_chats')) {
          const inner = Object.assign(new Error(`connect ECONNREFUSED (${echo()})`), {
            code: 'ECONNREFUSED',
          });
          throw new TypeError('fetch failed', { cause: inner });
        }
        return fetch(input, init);
      };

    const modes = [
      ['bot', '3.6'],
      ['pat-as-bot', '3.5'],
      ['pat', '3.6'],
      ['bearer', '3.6'],
    ] as const;
    for (const [mode, version] of modes) {
      const client = clientFor(sandbox, scope, {
        mode,
        version,
        log,
        timeoutMs: 300,
        fetch: failingFetch(() => echoFor(mode)),
      });
      // A first call, so a bot client has a token to leak.
      await client.getChat({ chat_id: chatId });
      for (const errorType of [
        'too_many_requests',
        'internal',
        'validation',
        'authorization',
        'authentication',
      ]) {
        // Twice: a bot client refreshes and retries once on `authentication`.
        sandbox.faults.add({
          action: 'get_chat',
          mode: 'error',
          errorType,
          message: `Rejected ${echoFor(mode)}`,
          times: 2,
        });
        await collect(client.getChat({ chat_id: chatId }));
        sandbox.faults.clear();
      }
      sandbox.faults.add({ action: 'send_event', mode: 'hang' });
      await collect(client.sendEvent({ chat_id: chatId, event: { type: 'message', text: 'x' } }));
      sandbox.faults.clear();
      await collect(client.listChats());
    }
    // Failures of issue_bot_token itself (an empty cache, so the client must issue): a wrong
    // secret, and an answer that fails our schema.
    const emptyCache = () =>
      createRedisTokenCache({
        redis: scope.redis,
        prefix: `${scope.prefix}:${randomUUID()}`,
        entry: CachedBotToken,
      });
    await collect(
      clientFor(sandbox, scope, {
        mode: 'bot',
        version: '3.6',
        botAuth: { botSecret: `${BOT.secret}-wrong`, tokenCache: emptyCache() },
      }).getChat({ chat_id: chatId }),
    );
    await collect(
      clientFor(sandbox, scope, {
        mode: 'bot',
        version: '3.6',
        botAuth: { tokenCache: emptyCache() },
        fetch: rewriting('issue_bot_token', async () => Response.json({ token: 12345 })),
      }).getChat({ chat_id: chatId }),
    );

    const botTokens = issuedBotTokens();
    expect(botTokens.length).toBeGreaterThan(0);
    const secrets = [
      credentials.pat,
      credentials.agentToken,
      patBasic,
      BOT.secret,
      ...botTokens,
      ...botTokens.map((token) => `Bearer ${token}`),
    ];
    expect(errors).toHaveLength(modes.length * 7 + 2);
    const kinds = new Set(errors.map((err) => (err as LivechatError).kind));
    expect(kinds).toEqual(new Set(['rate_limited', 'retryable', 'unrecoverable']));
    const { inspect } = await import('node:util');
    for (const err of errors) {
      expect(err).toBeInstanceOf(LivechatError);
      const error = err as LivechatError;
      const views = [
        String(error),
        error.stack ?? '',
        JSON.stringify(error),
        String(error.cause),
        error.cause instanceof Error ? (error.cause.stack ?? '') : '',
        inspect(error, { depth: 10 }),
      ];
      for (const secret of secrets) {
        for (const view of views) {
          expect(view.includes(secret), `${error.type}: ${view}`).toBe(false);
        }
      }
    }
    // The echoed message is kept, with the secrets replaced.
    expect(errors.map(String).some((text) => text.includes('Rejected token [redacted]'))).toBe(
      true,
    );
    const logged = JSON.stringify(lines);
    expect(lines.length).toBeGreaterThan(0);
    for (const secret of secrets) {
      expect(logged.includes(secret)).toBe(false);
    }
  });
});
