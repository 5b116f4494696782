// Request bodies, with LiveChat's own field names (Agent Chat / Configuration API v3.5/v3.6).

export type Visibility = 'all' | 'agents';

/** A send_event `event`: `message` needs `text`; other types carry their own fields. */
export type OutgoingEvent = {
  type: string;
  text?: string;
  visibility?: Visibility;
  custom_id?: string;
  properties?: Record<string, Record<string, unknown>>;
  [field: string]: unknown;
};

export type SendEventRequest = {
  chat_id: string;
  event: OutgoingEvent;
};

export type GetChatRequest = {
  chat_id: string;
  /** The latest thread when omitted. */
  thread_id?: string;
};

export type ListThreadsRequest = {
  chat_id: string;
  sort_order?: 'asc' | 'desc';
  /** Default 3, at most 100. */
  limit?: number;
  page_id?: string;
  min_events_count?: number;
  filters?: { from?: string; to?: string };
};

type PropertyFilter = {
  exists?: boolean;
  values?: unknown[];
  exclude_values?: unknown[];
};

export type ListChatsFilters = {
  /** v3.6 name. On v3.5 `active: false` is sent as `include_active: false`. */
  active?: boolean;
  /** v3.5 name. On v3.6 `include_active: false` is sent as `active: false`. */
  include_active?: boolean;
  include_chats_without_threads?: boolean;
  group_ids?: number[];
  properties?: Record<string, Record<string, PropertyFilter>>;
};

export type ListChatsRequest = {
  filters?: ListChatsFilters;
  sort_order?: 'asc' | 'desc';
  limit?: number;
  page_id?: string;
};

export type ListRoutingStatusesRequest = {
  filters?: { group_ids?: number[] };
};

export type RoutingStatusValue = 'accepting_chats' | 'not_accepting_chats' | 'offline';

export type SetRoutingStatusRequest = {
  status: RoutingStatusValue;
  /** The requester itself when omitted. */
  agent_id?: string;
};

export type TagThreadRequest = {
  chat_id: string;
  thread_id: string;
  tag: string;
};

export type DeactivateChatRequest = {
  id: string;
  ignore_requester_presence?: boolean;
};

export type AddUserToChatRequest = {
  chat_id: string;
  user_id: string;
  /** Bots are added as `agent`. */
  user_type: 'agent' | 'customer';
  visibility: Visibility;
  ignore_requester_presence?: boolean;
};

export type WebhookFilters = {
  author_type?: 'customer' | 'agent';
  only_my_chats?: boolean;
  chat_presence?: {
    user_ids?: { values: string[] } | { exclude_values: string[] };
    my_bots?: boolean;
  };
  source_type?: Array<'my_client' | 'other_clients' | 'system'>;
  [filter: string]: unknown;
};

export type RegisterWebhookRequest = {
  url: string;
  action: string;
  secret_key: string;
  owner_client_id: string;
  type: 'bot' | 'license';
  description?: string;
  additional_data?: string[];
  filters?: WebhookFilters;
};

/**
 * License webhooks state: `owner_client_id` is required with a PAT; with a Bearer token it
 * defaults to the token's.
 */
export type OwnerClientRequest = {
  owner_client_id?: string;
};

/** `owner_client_id` is always required ("Required: yes", whatever the credentials). */
export type ListWebhooksRequest = {
  owner_client_id: string;
};

/** `owner_client_id` is always required ("Required: yes", whatever the credentials). */
export type UnregisterWebhookRequest = {
  id: string;
  owner_client_id: string;
};

type BotGroupPriority = 'first' | 'normal' | 'last' | 'supervisor';

export type BotFields = {
  avatar?: string;
  max_chats_count?: number;
  default_group_priority?: BotGroupPriority;
  job_title?: string;
  groups?: Array<{ id: number; priority: BotGroupPriority }>;
  work_scheduler?: Record<string, unknown>;
  timezone?: string;
  /** v3.6 (default `chatbot`). */
  type?: string;
};

export type CreateBotRequest = BotFields & {
  name: string;
  owner_client_id?: string;
};

export type BotField = 'groups' | 'work_scheduler' | 'job_title' | 'max_chats_count' | 'timezone';

export type ListBotsRequest = {
  /** false (default): the requester's bots only. */
  all?: boolean;
  fields?: BotField[];
};

export type GetBotRequest = {
  id: string;
  fields?: BotField[];
};

export type UpdateBotRequest = BotFields & {
  id: string;
  name?: string;
};

export type DeleteBotRequest = {
  id: string;
};

export type IssueBotTokenRequest = {
  bot_id: string;
  client_id: string;
  bot_secret: string;
  organization_id: string;
};
