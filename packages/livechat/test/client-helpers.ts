import {
  type CallEntry,
  createDefaultSeed,
  createSandbox,
  DEFAULT_CLIENT_ID,
  DEFAULT_ORGANIZATION_ID,
  type Sandbox,
  type SandboxOptions,
} from '@nudge/livechat-sandbox';
import { createRedisKeys, createRedisTokenCache } from '@nudge/runtime';
import { connectRedis, createTestPrefix, deleteKeysWithPrefix } from '@nudge/testing';
import type { Redis } from 'ioredis';
import { inject, onTestFinished } from 'vitest';
import {
  CachedBotToken,
  type CreateLivechatClientOptions,
  createLivechatClient,
  type LivechatApiVersion,
  type LivechatAuth,
  type LivechatClient,
  type LivechatLogger,
} from '../src/index.js';

/** The seeded bot: distinctive strings so leak checks can search for them. */
export const BOT = {
  id: '5c9871d5372c824cbf22d860a707a578',
  secret: 'bot-secret-7f3a91c2e8d54b06a1f9',
  name: 'Nudge Bot',
} as const;

/** A sandbox seeded with the default organization, app, agent (or `seed`'s) and one bot (offline). */
export const startSandbox = (options: SandboxOptions = {}): Promise<Sandbox> =>
  createSandbox({
    ...options,
    seed: {
      ...(options.seed ?? createDefaultSeed()),
      bots: [
        {
          id: BOT.id,
          secret: BOT.secret,
          name: BOT.name,
          organizationId: DEFAULT_ORGANIZATION_ID,
          ownerClientId: DEFAULT_CLIENT_ID,
        },
      ],
    },
  });

/** `startSandbox` plus a Redis scope, both closed and cleaned up when the test finishes. */
export const startTestSandbox = async (
  options: SandboxOptions = {},
): Promise<{ sandbox: Sandbox; scope: RedisScope }> => {
  const sandbox = await startSandbox(options);
  const scope = openRedisScope(inject('redisUrl'));
  onTestFinished(async () => {
    await sandbox.close();
    await scope.cleanup();
  });
  return { sandbox, scope };
};

/** A Redis connection and a key prefix for one test; `cleanup` deletes the keys and quits. */
export type RedisScope = { redis: Redis; prefix: string; cleanup: () => Promise<void> };

export const openRedisScope = (url: string): RedisScope => {
  const redis = connectRedis(url);
  const prefix = createTestPrefix();
  return {
    redis,
    prefix,
    cleanup: async () => {
      await deleteKeysWithPrefix(redis, prefix);
      await redis.quit();
    },
  };
};

/** The Redis key the token cache uses for the seeded bot (the client names it `org:bot`). */
export const botTokenKey = (prefix: string, botId: string = BOT.id): string =>
  createRedisKeys(prefix).botToken(`${DEFAULT_ORGANIZATION_ID}:${botId}`);

export const botTokenLockKey = (prefix: string, botId: string = BOT.id): string =>
  createRedisKeys(prefix).botTokenLock(`${DEFAULT_ORGANIZATION_ID}:${botId}`);

export type AuthMode = 'bot' | 'pat' | 'pat-as-bot' | 'bearer' | 'bearer-as-bot';

/** Credentials for `mode` against `sandbox` (bot mode shares tokens through `scope`). */
const authFor = (
  sandbox: Sandbox,
  mode: AuthMode,
  scope: RedisScope,
  botAuth: Partial<Extract<LivechatAuth, { type: 'bot' }>> = {},
): LivechatAuth => {
  const { credentials } = sandbox;
  switch (mode) {
    case 'bot':
      return {
        type: 'bot',
        botId: BOT.id,
        botSecret: BOT.secret,
        clientId: credentials.clientId,
        organizationId: credentials.organizationId,
        issuer: { type: 'pat', accountId: credentials.accountId, pat: credentials.pat },
        tokenCache: createRedisTokenCache({
          redis: scope.redis,
          prefix: scope.prefix,
          entry: CachedBotToken,
        }),
        ...botAuth,
      };
    case 'pat':
      return { type: 'pat', accountId: credentials.accountId, pat: credentials.pat };
    case 'pat-as-bot':
      return {
        type: 'pat',
        accountId: credentials.accountId,
        pat: credentials.pat,
        authorId: BOT.id,
      };
    case 'bearer':
      return { type: 'bearer', token: credentials.agentToken };
    default:
      return { type: 'bearer', token: credentials.agentToken, authorId: BOT.id };
  }
};

type ClientSetup = Omit<CreateLivechatClientOptions, 'auth' | 'baseUrl'> & {
  mode: AuthMode;
  version: LivechatApiVersion;
  botAuth?: Partial<Extract<LivechatAuth, { type: 'bot' }>>;
};

/** A client for the sandbox. */
export const clientFor = (
  sandbox: Sandbox,
  scope: RedisScope,
  { mode, botAuth, ...options }: ClientSetup,
): LivechatClient =>
  createLivechatClient({
    baseUrl: sandbox.url,
    auth: authFor(sandbox, mode, scope, botAuth),
    ...options,
  });

/** A pino-like logger that keeps what it was given. */
export const createLogCollector = (): {
  log: LivechatLogger;
  lines: Array<{ obj: object; msg: string }>;
} => {
  const lines: Array<{ obj: object; msg: string }> = [];
  return { log: { warn: (obj, msg) => lines.push({ obj, msg }) }, lines };
};

/** The sandbox's answered calls of one action, after journal position `since`. */
export const callsOf = (sandbox: Sandbox, action: string, since = 0): CallEntry[] =>
  sandbox.journal.calls().filter((call) => call.action === action && call.seq > since);

/** The journal's last sequence number, to look only at later calls. */
export const journalPosition = (sandbox: Sandbox): number =>
  sandbox.journal.entries.at(-1)?.seq ?? 0;

/** Runs `promise` expecting a rejection; returns the error. */
export const rejectionOf = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to fail');
};
