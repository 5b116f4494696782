import type { z } from 'zod';
import type { SkippedEvent } from '../webhooks/events.js';
import { type BotTokenProvider, createBotTokenProvider } from './bot-token.js';
import { LivechatError, LivechatRetryableError } from './errors.js';
import { createRedactor } from './redaction.js';
import { createRegionStore, type LivechatRegionStore } from './region.js';
import type {
  AddUserToChatRequest,
  CreateBotRequest,
  DeactivateChatRequest,
  DeleteBotRequest,
  GetBotRequest,
  GetChatRequest,
  IssueBotTokenRequest,
  ListBotsRequest,
  ListChatsRequest,
  ListRoutingStatusesRequest,
  ListThreadsRequest,
  ListWebhooksRequest,
  OwnerClientRequest,
  RegisterWebhookRequest,
  SendEventRequest,
  SetRoutingStatusRequest,
  TagThreadRequest,
  UnregisterWebhookRequest,
  UpdateBotRequest,
} from './requests.js';
import {
  Bot,
  Chat,
  CreateBotResponse,
  EmptyResponse,
  IssueBotTokenResponse,
  LicenseWebhooksState,
  ListBotsResponse,
  ListChatsResponse,
  ListRoutingStatusesResponse,
  ListThreadsResponse,
  ListWebhooksResponse,
  RegisterWebhookResponse,
  SendEventResponse,
} from './schemas.js';
import type { BotTokenCache } from './token-cache.js';
import {
  createTransport,
  LIVECHAT_API_VERSIONS,
  type LivechatApiVersion,
  type LivechatCall,
  type LivechatCaller,
  type LivechatLogger,
  type RequestOptions,
} from './transport.js';

// The client's public types live with the part they describe; the package exports them from here.
export {
  LIVECHAT_API_VERSIONS,
  type LivechatApi,
  type LivechatApiVersion,
  type LivechatCall,
  type LivechatLogger,
  type RequestOptions,
} from './transport.js';

export const DEFAULT_LIVECHAT_BASE_URL = 'https://api.livechatinc.com';
export const DEFAULT_LIVECHAT_TIMEOUT_MS = 10_000;
/** issue_bot_token tokens are valid 24 h (livechat-api.md §4.1). */
export const BOT_TOKEN_VALIDITY_MS = 24 * 60 * 60 * 1000;
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

/** An event of a thread LiveChat returned that didn't parse and was left out. */
export type LivechatSkippedEvent = SkippedEvent & {
  /** `get_chat` or `list_threads`. */
  action: string;
  chatId: string;
  threadId: string;
};

export type CreateLivechatClientOptions = {
  auth: LivechatAuth;
  /** Default `https://api.livechatinc.com`. */
  baseUrl?: string;
  /** Default 3.6. */
  version?: LivechatApiVersion;
  /** Per HTTP call; default 10 s. */
  timeoutMs?: number;
  /** Sent as `X-Region` (e.g. `fra`) when set; the start of `regionStore` when that is omitted. */
  region?: string;
  /**
   * The organization's region, shared by its clients: on misdirected_request the client
   * retries once where `error.data.region` says and remembers it here. One per client by
   * default.
   */
  regionStore?: LivechatRegionStore;
  log?: LivechatLogger;
  fetch?: typeof fetch;
  /**
   * Remembers which `Legacy`/`Deprecation` headers were logged; share one set between clients
   * to log each (version, header) once per process. One per client by default.
   */
  seenNoticeHeaders?: Set<string>;
  /**
   * Called for each event of a get_chat / list_threads thread that didn't parse and was left
   * out of `events` (the chat itself still answers). Without it the client logs a warning.
   */
  onSkippedEvent?: (skipped: LivechatSkippedEvent) => void;
};

export type LivechatClient = {
  readonly version: LivechatApiVersion;
  // Agent Chat API
  sendEvent: (request: SendEventRequest, options?: RequestOptions) => Promise<SendEventResponse>;
  getChat: (request: GetChatRequest, options?: RequestOptions) => Promise<Chat>;
  listThreads: (
    request: ListThreadsRequest,
    options?: RequestOptions,
  ) => Promise<ListThreadsResponse>;
  listChats: (request?: ListChatsRequest, options?: RequestOptions) => Promise<ListChatsResponse>;
  listRoutingStatuses: (
    request?: ListRoutingStatusesRequest,
    options?: RequestOptions,
  ) => Promise<ListRoutingStatusesResponse>;
  setRoutingStatus: (request: SetRoutingStatusRequest, options?: RequestOptions) => Promise<void>;
  tagThread: (request: TagThreadRequest, options?: RequestOptions) => Promise<void>;
  untagThread: (request: TagThreadRequest, options?: RequestOptions) => Promise<void>;
  deactivateChat: (request: DeactivateChatRequest, options?: RequestOptions) => Promise<void>;
  addUserToChat: (request: AddUserToChatRequest, options?: RequestOptions) => Promise<void>;
  // Configuration API
  registerWebhook: (
    request: RegisterWebhookRequest,
    options?: RequestOptions,
  ) => Promise<RegisterWebhookResponse>;
  listWebhooks: (
    request: ListWebhooksRequest,
    options?: RequestOptions,
  ) => Promise<ListWebhooksResponse>;
  unregisterWebhook: (request: UnregisterWebhookRequest, options?: RequestOptions) => Promise<void>;
  /** Only for an app installed in the organization (it never installs one). */
  enableLicenseWebhooks: (request?: OwnerClientRequest, options?: RequestOptions) => Promise<void>;
  disableLicenseWebhooks: (request?: OwnerClientRequest, options?: RequestOptions) => Promise<void>;
  getLicenseWebhooksState: (
    request?: OwnerClientRequest,
    options?: RequestOptions,
  ) => Promise<LicenseWebhooksState>;
  createBot: (request: CreateBotRequest, options?: RequestOptions) => Promise<CreateBotResponse>;
  listBots: (request?: ListBotsRequest, options?: RequestOptions) => Promise<ListBotsResponse>;
  getBot: (request: GetBotRequest, options?: RequestOptions) => Promise<Bot>;
  updateBot: (request: UpdateBotRequest, options?: RequestOptions) => Promise<void>;
  deleteBot: (request: DeleteBotRequest, options?: RequestOptions) => Promise<void>;
  /** A bot client sends its `issuer` credentials; other clients their own. */
  issueBotToken: (
    request: IssueBotTokenRequest,
    options?: RequestOptions,
  ) => Promise<IssueBotTokenResponse>;
  /** Any other action, validated with `schema`; same auth, timeout and errors. */
  call: <S extends z.ZodType>(
    call: LivechatCall<S>,
    options?: RequestOptions,
  ) => Promise<z.output<S>>;
};

const basicValue = (accountId: string, pat: string) =>
  Buffer.from(`${accountId}:${pat}`).toString('base64');

const secretsOf = (auth: LivechatAuth | LivechatIssuerAuth): string[] => {
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

/** A LiveChat Agent Chat + Configuration API client for one set of credentials. */
export const createLivechatClient = ({
  auth,
  baseUrl = DEFAULT_LIVECHAT_BASE_URL,
  version = '3.6',
  timeoutMs = DEFAULT_LIVECHAT_TIMEOUT_MS,
  region,
  regionStore = createRegionStore(region),
  log,
  fetch: fetchImpl = globalThis.fetch,
  seenNoticeHeaders = new Set<string>(),
  onSkippedEvent,
}: CreateLivechatClientOptions): LivechatClient => {
  if (!(LIVECHAT_API_VERSIONS as readonly string[]).includes(version)) {
    throw new Error(`LiveChat API version must be one of ${LIVECHAT_API_VERSIONS.join(', ')}`);
  }
  if (!(timeoutMs > 0)) {
    throw new Error('LiveChat client timeoutMs must be positive');
  }
  if (auth.type !== 'bot' && auth.authorId !== undefined && version !== '3.5') {
    throw new Error(
      'X-Author-Id (authorId) was removed in LiveChat API v3.6: use bot auth, or version 3.5',
    );
  }
  // Everything that must never reach an error message, a cause or a log line. Bot tokens are
  // added as they are obtained.
  const redactor = createRedactor(secretsOf(auth));
  const transport = createTransport({
    baseUrl,
    version,
    timeoutMs,
    regionStore,
    redactor,
    fetch: fetchImpl,
    seenNoticeHeaders,
    log,
  });

  // A bot client calls everything with its bot token except issue_bot_token itself, which
  // takes the issuer's credentials.
  const staticAuthorization = authorizationOf(auth.type === 'bot' ? auth.issuer : auth);

  const botTokens: BotTokenProvider | undefined =
    auth.type === 'bot'
      ? createBotTokenProvider({
          cache: auth.tokenCache,
          name: `${auth.organizationId}:${auth.botId}`,
          issue: async () => {
            const { token, expires_in } = await transport({ Authorization: staticAuthorization })({
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
            return {
              token,
              expiresInMs: expires_in === undefined ? undefined : expires_in * 1000,
            };
          },
          validityMs: auth.tokenValidityMs ?? BOT_TOKEN_VALIDITY_MS,
          refreshMarginMs: auth.refreshMarginMs ?? DEFAULT_REFRESH_MARGIN_MS,
          // Longer than one issue_bot_token call may take, so a live holder keeps it.
          lockTtlMs: Math.max(2 * timeoutMs, 5_000),
          waitTimeoutMs: Math.max(2 * timeoutMs, 5_000) + timeoutMs,
          pollIntervalMs: LOCK_POLL_INTERVAL_MS,
          unavailable: (message, cause) =>
            new LivechatRetryableError({
              action: 'issue_bot_token',
              version,
              type: 'token_unavailable',
              message: redactor.text(message),
              ...(cause === undefined ? {} : { cause: redactor.cause(cause) }),
            }),
        })
      : undefined;

  const botToken = async (provider: BotTokenProvider): Promise<string> => {
    const token = await provider.get();
    redactor.add(token);
    return token;
  };

  const headersFor = (
    api: LivechatCall<z.ZodType>['api'],
    authorization: string,
  ): Record<string, string> =>
    // Impersonation applies to the Agent Chat API only; Configuration calls act as the account.
    api === 'agent' && auth.type !== 'bot' && auth.authorId !== undefined
      ? { Authorization: authorization, 'X-Author-Id': auth.authorId }
      : { Authorization: authorization };

  const call: LivechatCaller = async (request, options = {}) => {
    const { api, action } = request;
    if (!botTokens || auth.type !== 'bot' || action === 'issue_bot_token') {
      return transport(headersFor(api, staticAuthorization))(request, options);
    }
    const token = await botToken(botTokens);
    try {
      return await transport(headersFor(api, `Bearer ${token}`))(request, options);
    } catch (err) {
      if (!(err instanceof LivechatError) || err.type !== 'authentication') {
        throw err;
      }
      // A token can be rejected before its expiry (clock skew, a deleted-and-recreated bot):
      // refresh once and retry once; a second rejection is final.
      log?.warn(
        { action, version, botId: auth.botId, organizationId: auth.organizationId },
        'LiveChat rejected the bot token; refreshing it and retrying once',
      );
      await botTokens.invalidate(token);
      const fresh = await botToken(botTokens);
      return transport(headersFor(api, `Bearer ${fresh}`))(request, options);
    }
  };

  const agent = <S extends z.ZodType>(
    action: string,
    schema: S,
    body: object,
    options?: RequestOptions,
  ) => call({ api: 'agent', action, body, schema }, options);
  const configuration = <S extends z.ZodType>(
    action: string,
    schema: S,
    body: object,
    options?: RequestOptions,
  ) => call({ api: 'configuration', action, body, schema }, options);

  const reportSkipped = (
    action: string,
    chatId: string,
    thread: { id: string; skippedEvents: SkippedEvent[] },
  ) => {
    for (const skipped of thread.skippedEvents) {
      const report = { ...skipped, action, chatId, threadId: thread.id };
      if (onSkippedEvent) {
        onSkippedEvent(report);
      } else {
        log?.warn(report, 'LiveChat event skipped: it does not match our schema');
      }
    }
  };

  // v3.6 renamed list_chats' `include_active` to `active`; translate where they mean the same
  // (`include_active: false` = `active: false`, `include_active: true` = no filter).
  const listChatsBody = (request: ListChatsRequest): ListChatsRequest => {
    const filters = request.filters;
    if (!filters) {
      return request;
    }
    const { active, include_active, ...rest } = filters;
    if (version === '3.6' && include_active !== undefined && active === undefined) {
      return { ...request, filters: { ...rest, ...(include_active ? {} : { active: false }) } };
    }
    if (version === '3.5' && active === false && include_active === undefined) {
      return { ...request, filters: { ...rest, include_active: false } };
    }
    return request;
  };

  return {
    version,
    sendEvent: (request, options) => agent('send_event', SendEventResponse, request, options),
    getChat: async (request, options) => {
      const chat = await agent('get_chat', Chat, request, options);
      reportSkipped('get_chat', chat.id, chat.thread);
      return chat;
    },
    listThreads: async (request, options) => {
      const page = await agent('list_threads', ListThreadsResponse, request, options);
      for (const thread of page.threads) {
        reportSkipped('list_threads', request.chat_id, thread);
      }
      return page;
    },
    listChats: (request = {}, options = {}) =>
      agent('list_chats', ListChatsResponse, listChatsBody(request), options),
    listRoutingStatuses: (request = {}, options = {}) =>
      agent('list_routing_statuses', ListRoutingStatusesResponse, request, options),
    setRoutingStatus: async (request, options) => {
      await agent('set_routing_status', EmptyResponse, request, options);
    },
    tagThread: async (request, options) => {
      await agent('tag_thread', EmptyResponse, request, options);
    },
    untagThread: async (request, options) => {
      await agent('untag_thread', EmptyResponse, request, options);
    },
    deactivateChat: async (request, options) => {
      await agent('deactivate_chat', EmptyResponse, request, options);
    },
    addUserToChat: async (request, options) => {
      await agent('add_user_to_chat', EmptyResponse, request, options);
    },
    registerWebhook: (request, options) =>
      configuration('register_webhook', RegisterWebhookResponse, request, options),
    listWebhooks: (request, options) =>
      configuration('list_webhooks', ListWebhooksResponse, request, options),
    unregisterWebhook: async (request, options) => {
      await configuration('unregister_webhook', EmptyResponse, request, options);
    },
    enableLicenseWebhooks: async (request = {}, options = {}) => {
      await configuration('enable_license_webhooks', EmptyResponse, request, options);
    },
    disableLicenseWebhooks: async (request = {}, options = {}) => {
      await configuration('disable_license_webhooks', EmptyResponse, request, options);
    },
    getLicenseWebhooksState: (request = {}, options = {}) =>
      configuration('get_license_webhooks_state', LicenseWebhooksState, request, options),
    createBot: (request, options) =>
      configuration('create_bot', CreateBotResponse, request, options),
    listBots: (request = {}, options = {}) =>
      configuration('list_bots', ListBotsResponse, request, options),
    getBot: (request, options) => configuration('get_bot', Bot, request, options),
    updateBot: async (request, options) => {
      await configuration('update_bot', EmptyResponse, request, options);
    },
    deleteBot: async (request, options) => {
      await configuration('delete_bot', EmptyResponse, request, options);
    },
    issueBotToken: async (request, options) => {
      redactor.add(request.bot_secret);
      const issued = await configuration(
        'issue_bot_token',
        IssueBotTokenResponse,
        request,
        options,
      );
      redactor.add(issued.token);
      return issued;
    },
    call,
  };
};
