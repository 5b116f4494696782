import type { z } from 'zod';
import type { SkippedEvent } from '../webhooks/events.js';
import type { Redactor } from './redaction.js';
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
import type {
  LivechatApi,
  LivechatApiVersion,
  LivechatCaller,
  LivechatLogger,
  RequestOptions,
} from './transport.js';

/** The Agent Chat and Configuration API methods of a client. */
export type LivechatMethods = {
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
};

/** An event of a thread LiveChat returned that didn't parse and was left out. */
export type LivechatSkippedEvent = SkippedEvent & {
  /** `get_chat` or `list_threads`. */
  action: string;
  chatId: string;
  threadId: string;
};

type MethodName = keyof LivechatMethods;
type AnswerOf<M extends MethodName> = Awaited<ReturnType<LivechatMethods[M]>>;
type Route = { api: LivechatApi; action: string; schema?: z.ZodType };

/**
 * Where a method's request goes and the schema its answer must match. Actions documented as
 * "200, no payload" have none: their answer is checked against EmptyResponse, then dropped.
 */
type RouteOf<M extends MethodName> =
  AnswerOf<M> extends void
    ? { api: LivechatApi; action: string }
    : { api: LivechatApi; action: string; schema: z.ZodType<AnswerOf<M>> };

/** The method table: each client method's API, action and answer schema. */
const ROUTES = {
  sendEvent: { api: 'agent', action: 'send_event', schema: SendEventResponse },
  getChat: { api: 'agent', action: 'get_chat', schema: Chat },
  listThreads: { api: 'agent', action: 'list_threads', schema: ListThreadsResponse },
  listChats: { api: 'agent', action: 'list_chats', schema: ListChatsResponse },
  listRoutingStatuses: {
    api: 'agent',
    action: 'list_routing_statuses',
    schema: ListRoutingStatusesResponse,
  },
  setRoutingStatus: { api: 'agent', action: 'set_routing_status' },
  tagThread: { api: 'agent', action: 'tag_thread' },
  untagThread: { api: 'agent', action: 'untag_thread' },
  deactivateChat: { api: 'agent', action: 'deactivate_chat' },
  addUserToChat: { api: 'agent', action: 'add_user_to_chat' },
  registerWebhook: {
    api: 'configuration',
    action: 'register_webhook',
    schema: RegisterWebhookResponse,
  },
  listWebhooks: { api: 'configuration', action: 'list_webhooks', schema: ListWebhooksResponse },
  unregisterWebhook: { api: 'configuration', action: 'unregister_webhook' },
  enableLicenseWebhooks: { api: 'configuration', action: 'enable_license_webhooks' },
  disableLicenseWebhooks: { api: 'configuration', action: 'disable_license_webhooks' },
  getLicenseWebhooksState: {
    api: 'configuration',
    action: 'get_license_webhooks_state',
    schema: LicenseWebhooksState,
  },
  createBot: { api: 'configuration', action: 'create_bot', schema: CreateBotResponse },
  listBots: { api: 'configuration', action: 'list_bots', schema: ListBotsResponse },
  getBot: { api: 'configuration', action: 'get_bot', schema: Bot },
  updateBot: { api: 'configuration', action: 'update_bot' },
  deleteBot: { api: 'configuration', action: 'delete_bot' },
  issueBotToken: {
    api: 'configuration',
    action: 'issue_bot_token',
    schema: IssueBotTokenResponse,
  },
} satisfies { [M in MethodName]: RouteOf<M> };

/** A client method sending its request (`{}` when omitted) as `route` says. */
const bindRoute =
  (call: LivechatCaller, { api, action, schema }: Route) =>
  async (request?: object, options?: RequestOptions): Promise<unknown> => {
    const answer = await call(
      { api, action, body: request ?? {}, schema: schema ?? EmptyResponse },
      options,
    );
    return schema === undefined ? undefined : answer;
  };

/** Every method of the table, bound to `call`. */
const bindRoutes = (call: LivechatCaller): LivechatMethods =>
  // `satisfies` above checks each route against its method's signature; entries() loses that.
  Object.fromEntries(
    Object.entries(ROUTES).map(([name, route]) => [name, bindRoute(call, route)]),
  ) as LivechatMethods;

/**
 * v3.6 renamed list_chats' `include_active` to `active`; translate where they mean the same
 * (`include_active: false` = `active: false`, `include_active: true` = no filter).
 */
const listChatsBody = (
  request: ListChatsRequest,
  version: LivechatApiVersion,
): ListChatsRequest => {
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

type CreateLivechatMethodsOptions = {
  call: LivechatCaller;
  version: LivechatApiVersion;
  /** Learns the secrets issueBotToken sends and receives. */
  redactor: Redactor;
  /** Gets the events of a thread that were left out; else they are logged. */
  onSkippedEvent?: (skipped: LivechatSkippedEvent) => void;
  log?: LivechatLogger;
};

/** The API methods over `call`, with the few that do more than send and validate. */
export const createLivechatMethods = ({
  call,
  version,
  redactor,
  onSkippedEvent,
  log,
}: CreateLivechatMethodsOptions): LivechatMethods => {
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
  const methods = bindRoutes(call);
  return {
    ...methods,
    getChat: async (request, options) => {
      const chat = await methods.getChat(request, options);
      reportSkipped('get_chat', chat.id, chat.thread);
      return chat;
    },
    listThreads: async (request, options) => {
      const page = await methods.listThreads(request, options);
      for (const thread of page.threads) {
        reportSkipped('list_threads', request.chat_id, thread);
      }
      return page;
    },
    listChats: (request = {}, options = {}) =>
      methods.listChats(listChatsBody(request, version), options),
    issueBotToken: async (request, options) => {
      redactor.add(request.bot_secret);
      const issued = await methods.issueBotToken(request, options);
      redactor.add(issued.token);
      return issued;
    },
  };
};
