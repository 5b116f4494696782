import { type BotTokenProvider, createBotTokenProvider } from './bot-token.js';
import { LivechatError, LivechatRetryableError } from './errors.js';
import type { Redactor } from './redaction.js';
import { IssueBotTokenResponse } from './schemas.js';
import type { BotTokenCache } from './token-cache.js';
import type {
  LivechatApiVersion,
  LivechatCaller,
  LivechatLogger,
  LivechatTransport,
} from './transport.js';

/** issue_bot_token tokens are valid 24 h (https://platform.text.com/docs/management/configuration-api#issue-bot-token). */
const BOT_TOKEN_VALIDITY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_REFRESH_MARGIN_MS = 5 * 60 * 1000;
const LOCK_POLL_INTERVAL_MS = 50;

/**
 * The credentials issue_bot_token is called with: an agent's personal access token or Bearer
 * token in the bot's organization. Its docs list no required scope, but every example sends
 * `Authorization`: no scope is not no authentication.
 */
export type LivechatIssuerAuth =
  | { type: 'pat'; accountId: string; pat: string }
  | { type: 'bearer'; token: string };

/** Act as a bot with tokens from issue_bot_token, shared through `tokenCache`. */
export type LivechatBotAuth = {
  type: 'bot';
  botId: string;
  clientId: string;
  botSecret: string;
  organizationId: string;
  /** Sent with issue_bot_token. */
  issuer: LivechatIssuerAuth;
  tokenCache: BotTokenCache;
  /** Assumed validity when LiveChat doesn't say; default 24 h. */
  tokenValidityMs?: number;
  /** Refresh this long before expiry (at most a tenth of the validity); default 5 min. */
  refreshMarginMs?: number;
};

/**
 * A personal access token, sent as `Basic base64(account_id:pat)`. `authorId` (v3.5 only) acts
 * as that bot on the Agent Chat API through `X-Author-Id`.
 */
export type LivechatPatAuth = { type: 'pat'; accountId: string; pat: string; authorId?: string };

/** A Bearer token (agent OAuth token or a bot token obtained elsewhere). */
export type LivechatBearerAuth = { type: 'bearer'; token: string; authorId?: string };

export type LivechatAuth = LivechatBotAuth | LivechatPatAuth | LivechatBearerAuth;

type CreateAuthenticatedCallerOptions = {
  auth: LivechatAuth;
  transport: LivechatTransport;
  /** Learns each bot token as it is obtained. */
  redactor: Redactor;
  version: LivechatApiVersion;
  /** The client's timeout, which the bot token lock's lifetime must outlast. */
  timeoutMs: number;
  log?: LivechatLogger;
};

type BotCallerOptions = CreateAuthenticatedCallerOptions & { auth: LivechatBotAuth };

const basicValue = (accountId: string, pat: string) =>
  Buffer.from(`${accountId}:${pat}`).toString('base64');

/** Every secret `auth` holds or sends: none may reach an error message, a cause or a log. */
export const secretsOf = (auth: LivechatAuth | LivechatIssuerAuth): string[] => {
  switch (auth.type) {
    case 'bot':
      return [auth.botSecret, ...secretsOf(auth.issuer)];
    case 'pat':
      return [auth.pat, basicValue(auth.accountId, auth.pat)];
    default:
      return [auth.token];
  }
};

/** The `Authorization` value of PAT or Bearer credentials. */
const authorizationOf = (auth: LivechatIssuerAuth): string =>
  auth.type === 'pat' ? `Basic ${basicValue(auth.accountId, auth.pat)}` : `Bearer ${auth.token}`;

/** The bot's tokens from issue_bot_token (called with `asIssuer`), each one redacted. */
const createBotTokens = (
  { auth, redactor, version, timeoutMs }: BotCallerOptions,
  asIssuer: LivechatCaller,
): BotTokenProvider => {
  // Longer than one issue_bot_token call may take, so a live holder keeps it.
  const lockTtlMs = Math.max(2 * timeoutMs, 5_000);
  const provider = createBotTokenProvider({
    cache: auth.tokenCache,
    name: `${auth.organizationId}:${auth.botId}`,
    issue: async () => {
      const { token, expires_in } = await asIssuer({
        api: 'configuration',
        action: 'issue_bot_token',
        body: {
          bot_id: auth.botId,
          client_id: auth.clientId,
          bot_secret: auth.botSecret,
          organization_id: auth.organizationId,
        },
        schema: IssueBotTokenResponse,
      });
      redactor.add(token);
      return { token, expiresInMs: expires_in === undefined ? undefined : expires_in * 1000 };
    },
    validityMs: auth.tokenValidityMs ?? BOT_TOKEN_VALIDITY_MS,
    refreshMarginMs: auth.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS,
    lockTtlMs,
    waitTimeoutMs: lockTtlMs + timeoutMs,
    pollIntervalMs: LOCK_POLL_INTERVAL_MS,
    unavailable: (message, cause) =>
      new LivechatRetryableError({
        action: 'issue_bot_token',
        version,
        type: 'token_unavailable',
        message: redactor.text(message),
        ...(cause === undefined ? {} : { cause: redactor.cause(cause) }),
      }),
  });
  return {
    get: async () => {
      const token = await provider.get();
      redactor.add(token);
      return token;
    },
    invalidate: provider.invalidate,
  };
};

/**
 * A bot calls everything with its bot token except issue_bot_token itself, which takes the
 * issuer's credentials.
 */
const createBotCaller = (options: BotCallerOptions): LivechatCaller => {
  const { auth, transport, version, log } = options;
  const asIssuer = transport({ Authorization: authorizationOf(auth.issuer) });
  const tokens = createBotTokens(options, asIssuer);
  const withToken = (token: string) => transport({ Authorization: `Bearer ${token}` });
  return async (call, callOptions) => {
    if (call.action === 'issue_bot_token') {
      return asIssuer(call, callOptions);
    }
    const token = await tokens.get();
    try {
      return await withToken(token)(call, callOptions);
    } catch (err) {
      if (!(err instanceof LivechatError) || err.type !== 'authentication') {
        throw err;
      }
      // A token can be rejected before its expiry (clock skew, a deleted-and-recreated bot):
      // refresh once and retry once; a second rejection is final.
      log?.warn(
        { action: call.action, version, botId: auth.botId, organizationId: auth.organizationId },
        'LiveChat rejected the bot token; refreshing it and retrying once',
      );
      await tokens.invalidate(token);
      return withToken(await tokens.get())(call, callOptions);
    }
  };
};

/** Sends each call with `auth`'s credentials; bot tokens are obtained and refreshed as needed. */
export const createAuthenticatedCaller = (
  options: CreateAuthenticatedCallerOptions,
): LivechatCaller => {
  const { auth, transport } = options;
  if (auth.type === 'bot') {
    return createBotCaller({ ...options, auth });
  }
  const authorization = authorizationOf(auth);
  const asAccount = transport({ Authorization: authorization });
  // Impersonation applies to the Agent Chat API only; Configuration calls act as the account.
  const asAuthor =
    auth.authorId === undefined
      ? asAccount
      : transport({ Authorization: authorization, 'X-Author-Id': auth.authorId });
  return (call, callOptions) => (call.api === 'agent' ? asAuthor : asAccount)(call, callOptions);
};
