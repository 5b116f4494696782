import type { z } from 'zod';
import type { SkippedEvent } from '../webhooks/events.js';
import { createAuthenticatedCaller, type LivechatAuth, secretsOf } from './auth.js';
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
import {
  createTransport,
  LIVECHAT_API_VERSIONS,
  type LivechatApiVersion,
  type LivechatCall,
  type LivechatLogger,
  type RequestOptions,
} from './transport.js';

// The client's public types live with the part they describe; the package exports them from here.
export {
  BOT_TOKEN_VALIDITY_MS,
  type LivechatAuth,
  type LivechatBearerAuth,
  type LivechatBotAuth,
  type LivechatIssuerAuth,
  type LivechatPatAuth,
} from './auth.js';
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

  const call = createAuthenticatedCaller({ auth, transport, redactor, version, timeoutMs, log });

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
