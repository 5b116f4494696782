import type { ApiVersion } from './store.js';

// The webhook actions and their filters, from the Configuration API v3.5 "Triggering actions"
// table (https://platform.text.com/docs/management/configuration-api/v3.5). v3.6 drops `incoming_customer` and adds
// `event_deleted` and `thread_summary_set` (https://platform.text.com/docs/management/changelog,
// https://platform.text.com/docs/management/webhooks).

const CHAT_FILTERS = ['chat_presence', 'only_my_chats', 'source_type'];
const EVENT_FILTERS = ['chat_presence', 'author_type', 'only_my_chats', 'source_type'];
const SOURCE_ONLY = ['source_type'];

const COMMON: Readonly<Record<string, string[]>> = {
  incoming_chat: CHAT_FILTERS,
  chat_deactivated: CHAT_FILTERS,
  chat_access_updated: CHAT_FILTERS,
  chat_transferred: CHAT_FILTERS,
  user_added_to_chat: CHAT_FILTERS,
  user_removed_from_chat: CHAT_FILTERS,
  incoming_event: EVENT_FILTERS,
  event_updated: EVENT_FILTERS,
  incoming_rich_message_postback: CHAT_FILTERS,
  chat_properties_updated: CHAT_FILTERS,
  chat_properties_deleted: CHAT_FILTERS,
  thread_properties_updated: CHAT_FILTERS,
  thread_properties_deleted: CHAT_FILTERS,
  event_properties_updated: CHAT_FILTERS,
  event_properties_deleted: CHAT_FILTERS,
  thread_tagged: CHAT_FILTERS,
  thread_untagged: CHAT_FILTERS,
  routing_status_set: ['agent_ids', 'source_type'],
  customer_session_fields_updated: ['chat_presence', 'source_type'],
  events_marked_as_seen: CHAT_FILTERS,
  group_created: SOURCE_ONLY,
  group_updated: SOURCE_ONLY,
  group_deleted: SOURCE_ONLY,
  agent_created: SOURCE_ONLY,
  agent_updated: SOURCE_ONLY,
  agent_deleted: SOURCE_ONLY,
  agent_suspended: SOURCE_ONLY,
  agent_unsuspended: SOURCE_ONLY,
  agent_approved: SOURCE_ONLY,
  bot_created: SOURCE_ONLY,
  bot_updated: SOURCE_ONLY,
  bot_deleted: SOURCE_ONLY,
  tag_created: SOURCE_ONLY,
  tag_updated: SOURCE_ONLY,
  tag_deleted: SOURCE_ONLY,
  auto_access_created: SOURCE_ONLY,
  auto_access_updated: SOURCE_ONLY,
  auto_access_deleted: SOURCE_ONLY,
};

const BY_VERSION: Readonly<Record<ApiVersion, Readonly<Record<string, string[]>>>> = {
  '3.5': { ...COMMON, incoming_customer: SOURCE_ONLY },
  '3.6': { ...COMMON, event_deleted: CHAT_FILTERS, thread_summary_set: CHAT_FILTERS },
};

/**
 * `additional_data` is available for every action except these
 * (https://platform.text.com/docs/management/configuration-api/v3.5#register-webhook).
 */
const WITHOUT_ADDITIONAL_DATA = new Set(['agent_deleted', 'incoming_customer']);

export const ADDITIONAL_DATA_KEYS = ['chat_properties', 'chat_presence_user_ids'];

/** The filters an action accepts in `version`, or undefined for an unknown action. */
export const filtersForAction = (version: ApiVersion, action: string): string[] | undefined =>
  Object.hasOwn(BY_VERSION[version], action) ? BY_VERSION[version][action] : undefined;

const additionalDataForAction = (action: string): string[] =>
  WITHOUT_ADDITIONAL_DATA.has(action) ? [] : ADDITIONAL_DATA_KEYS;

/** The list_webhook_names response. */
export const webhookNames = (
  version: ApiVersion,
): Array<{ action: string; filters: string[]; additional_data: string[] }> =>
  Object.entries(BY_VERSION[version]).map(([action, filters]) => ({
    action,
    filters: [...filters],
    additional_data: additionalDataForAction(action),
  }));
