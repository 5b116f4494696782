import { z } from 'zod';
import type { SkippedEvent } from '../webhooks/events.js';
import { type BotTokenProvider, createBotTokenProvider } from './bot-token.js';
import {
  classifyLivechatError,
  createLivechatError,
  LivechatError,
  LivechatRetryableError,
  LivechatUnrecoverableError,
  redactText,
  redactValue,
  sanitizeCause,
} from './errors.js';
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
  ErrorResponse,
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

export const LIVECHAT_API_VERSIONS = ['3.5', '3.6'] as const;
export type LivechatApiVersion = (typeof LIVECHAT_API_VERSIONS)[number];

export const DEFAULT_LIVECHAT_BASE_URL = 'https://api.livechatinc.com';
export const DEFAULT_LIVECHAT_TIMEOUT_MS = 10_000;
/** issue_bot_token tokens are valid 24 h (livechat-api.md §4.1). */
export const BOT_TOKEN_VALIDITY_MS = 24 * 60 * 60 * 1000;
const DEFAULT_REFRESH_MARGIN_MS = 5 * 60 * 1000;
const LOCK_POLL_INTERVAL_MS = 50;

/** pino-compatible. */
export type LivechatLogger = { warn: (obj: object, msg: string) => void };

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

export type RequestOptions = {
  /** Aborts the call (combined with the timeout). */
  signal?: AbortSignal;
  /** Overrides the client's timeout for this call. */
  timeoutMs?: number;
};

export type LivechatApi = 'agent' | 'configuration';

export type LivechatCall<S extends z.ZodType> = {
  api: LivechatApi;
  action: string;
  body: object;
  schema: S;
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

type Answer = { status: number; body: unknown };

const NOTICE_HEADERS = ['Legacy', 'Deprecation'] as const;

const parseRetryAfter = (value: string | null): number | undefined => {
  if (value === null || value.trim() === '') {
    return undefined;
  }
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) {
    return seconds * 1000;
  }
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
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

/** The region a misdirected_request error names in `error.data.region`, if any. */
const misdirectedTo = (err: unknown): string | undefined => {
  if (!(err instanceof LivechatError) || err.type !== 'misdirected_request') {
    return undefined;
  }
  const { data } = err;
  const region =
    typeof data === 'object' && data !== null && 'region' in data ? data.region : undefined;
  return typeof region === 'string' && region !== '' ? region : undefined;
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
  const root = new URL(baseUrl).toString().replace(/\/+$/, '');
  // Everything that must never reach an error message, a cause or a log line. Bot tokens are
  // added as they are obtained.
  const secrets = new Set(secretsOf(auth));
  const redact = (text: string) => redactText(text, secrets);

  // A bot client calls everything with its bot token except issue_bot_token itself, which
  // takes the issuer's credentials.
  const staticAuthorization = authorizationOf(auth.type === 'bot' ? auth.issuer : auth);

  const noticeHeaders = (headers: Headers, action: string) => {
    for (const header of NOTICE_HEADERS) {
      const value = headers.get(header);
      const key = `${version}:${header}`;
      if (value !== null && !seenNoticeHeaders.has(key)) {
        seenNoticeHeaders.add(key);
        log?.warn(
          { version, header, value: redact(value), action },
          `LiveChat API v${version} answered with ${header}: ${redact(value)}; plan the move to a newer version`,
        );
      }
    }
  };

  const postOnce = async (
    api: LivechatApi,
    action: string,
    body: object,
    authorization: string,
    { signal, timeoutMs: callTimeoutMs = timeoutMs }: RequestOptions,
  ): Promise<Answer> => {
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      Authorization: authorization,
    };
    // Impersonation applies to the Agent Chat API only; Configuration calls act as the account.
    if (api === 'agent' && auth.type !== 'bot' && auth.authorId !== undefined) {
      headers['X-Author-Id'] = auth.authorId;
    }
    const region = regionStore.get();
    if (region !== undefined) {
      headers['X-Region'] = region;
    }
    const timeout = AbortSignal.timeout(callTimeoutMs);
    const combined = signal ? AbortSignal.any([timeout, signal]) : timeout;
    const details = { action, version };
    let response: Response;
    let text: string;
    try {
      response = await fetchImpl(`${root}/v${version}/${api}/action/${action}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: combined,
      });
      text = await response.text();
    } catch (err) {
      if (timeout.aborted) {
        throw new LivechatRetryableError({
          ...details,
          type: 'timeout',
          message: `no answer within ${callTimeoutMs} ms`,
        });
      }
      if (signal?.aborted) {
        throw new LivechatRetryableError({
          ...details,
          type: 'aborted',
          message: 'aborted by the caller',
        });
      }
      const cause = sanitizeCause(err, secrets);
      throw new LivechatRetryableError({
        ...details,
        type: 'network_error',
        message: cause.message,
        cause,
      });
    }
    noticeHeaders(response.headers, action);
    const { status } = response;
    let json: unknown;
    let isJson = true;
    try {
      json = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      isJson = false;
    }
    if (response.ok) {
      if (!isJson) {
        throw new LivechatUnrecoverableError({
          ...details,
          status,
          type: 'invalid_response',
          message: 'the response is not JSON',
        });
      }
      // "200, no payload" actions may answer with an empty body.
      return { status, body: json ?? {} };
    }
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    const error = ErrorResponse.safeParse(json);
    if (error.success) {
      const { type, message, data } = error.data.error;
      throw createLivechatError(classifyLivechatError({ type, status }), {
        ...details,
        status,
        type,
        message: redact(message ?? '(no message)'),
        ...(data === undefined ? {} : { data: redactValue(data, secrets) }),
        ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
      });
    }
    const snippet = redact(text).slice(0, 200).trim();
    throw createLivechatError(classifyLivechatError({ status }), {
      ...details,
      status,
      type: 'http_error',
      message: `HTTP ${status} without a LiveChat error body${snippet ? `: ${snippet}` : ''}`,
      ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
    });
  };

  /**
   * One call, retried once in the right data center when LiveChat answers misdirected_request
   * with `error.data.region` ("this is where the client should be connected"); the region is
   * remembered for the organization's other calls. Anything else, or a second misdirection,
   * is thrown (misdirected_request is retryable: the next attempt goes to the new region).
   */
  const post = async (
    api: LivechatApi,
    action: string,
    body: object,
    authorization: string,
    options: RequestOptions,
  ): Promise<Answer> => {
    try {
      return await postOnce(api, action, body, authorization, options);
    } catch (err) {
      const region = misdirectedTo(err);
      if (region === undefined || region === regionStore.get()) {
        throw err;
      }
      log?.warn(
        { action, version, from: regionStore.get() ?? 'dal', region },
        'LiveChat misdirected the request; retrying in its region and staying there',
      );
      regionStore.set(region);
      return postOnce(api, action, body, authorization, options);
    }
  };

  const validate = <S extends z.ZodType>(action: string, schema: S, answer: Answer) => {
    const parsed = schema.safeParse(answer.body);
    if (!parsed.success) {
      throw new LivechatUnrecoverableError({
        action,
        version,
        status: answer.status,
        type: 'invalid_response',
        message: redact(`the response does not match our schema: ${z.prettifyError(parsed.error)}`),
      });
    }
    return parsed.data;
  };

  const botTokens: BotTokenProvider | undefined =
    auth.type === 'bot'
      ? createBotTokenProvider({
          cache: auth.tokenCache,
          name: `${auth.organizationId}:${auth.botId}`,
          issue: async () => {
            const answer = await post(
              'configuration',
              'issue_bot_token',
              {
                bot_id: auth.botId,
                client_id: auth.clientId,
                bot_secret: auth.botSecret,
                organization_id: auth.organizationId,
              },
              staticAuthorization,
              {},
            );
            const { token, expires_in } = validate(
              'issue_bot_token',
              IssueBotTokenResponse,
              answer,
            );
            secrets.add(token);
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
              message: redact(message),
              ...(cause === undefined ? {} : { cause: sanitizeCause(cause, secrets) }),
            }),
        })
      : undefined;

  const botToken = async (provider: BotTokenProvider): Promise<string> => {
    const token = await provider.get();
    secrets.add(token);
    return token;
  };

  const send = async (
    api: LivechatApi,
    action: string,
    body: object,
    options: RequestOptions,
  ): Promise<Answer> => {
    if (!botTokens || auth.type !== 'bot' || action === 'issue_bot_token') {
      return post(api, action, body, staticAuthorization, options);
    }
    const token = await botToken(botTokens);
    try {
      return await post(api, action, body, `Bearer ${token}`, options);
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
      return post(api, action, body, `Bearer ${fresh}`, options);
    }
  };

  const call = async <S extends z.ZodType>(
    { api, action, body, schema }: LivechatCall<S>,
    options: RequestOptions = {},
  ): Promise<z.output<S>> => validate(action, schema, await send(api, action, body, options));

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
      secrets.add(request.bot_secret);
      const issued = await configuration(
        'issue_bot_token',
        IssueBotTokenResponse,
        request,
        options,
      );
      secrets.add(issued.token);
      return issued;
    },
    call,
  };
};
