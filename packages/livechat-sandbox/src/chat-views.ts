import { cloneJson, type JsonObject } from './json.js';
import {
  type ApiVersion,
  type Chat,
  type ChatEvent,
  type ChatMember,
  latestThread,
  type Store,
  type Thread,
} from './store.js';

// Chats as their readers see them: the API's shapes (get_chat, list_threads, webhook
// payloads), per API version and per role where deleted events are concerned.

/**
 * Who reads a chat: the API version asked for, and how deleted events read. Bots and agents
 * with the `normal` role get a deleted event in place of the original (Agent Chat API data
 * structures, "Deleted event"); administrators, vice-owners and the owner get the original
 * with `deleted: true` (Customer Chat API, delete_event).
 */
export type Viewer = { version: ApiVersion; deletedEvents: 'original' | 'stripped' };

/** The scenario's own view: everything, as the owner sees it. */
export const FULL_VIEW: Viewer = { version: '3.6', deletedEvents: 'original' };

/** The deleted event in place of the original: only these fields (data structures). */
const DELETED_EVENT_FIELDS = ['id', 'custom_id', 'type', 'deleted', 'author_id', 'created_at'];

/** An event as `viewer` reads it. */
export const renderEvent = (event: ChatEvent, viewer: Viewer): JsonObject => {
  if (event.deleted !== true || viewer.deletedEvents === 'original') {
    return cloneJson(event);
  }
  const stripped: JsonObject = {};
  for (const field of DELETED_EVENT_FIELDS) {
    const value = event[field];
    if (value !== undefined) {
      stripped[field] = value;
    }
  }
  // The table says `visibility` is always returned; the sample omits it. We follow the table.
  stripped.visibility = event.visibility;
  return stripped;
};

const serializeCustomer = (
  store: Store,
  chat: Chat,
  member: ChatMember,
  viewer: Viewer,
): JsonObject => {
  const customer = store.customers.get(member.id);
  const visit = {
    started_at: latestThread(chat).createdAt,
    ip: '198.51.100.23',
    geolocation: { country_code: 'PL' },
  };
  return {
    id: member.id,
    type: 'customer',
    name: customer?.name ?? 'Customer',
    ...(customer?.email === undefined ? {} : { email: customer.email }),
    present: member.present,
    created_at: customer?.createdAt ?? chat.createdAt,
    // v3.6 renamed the customer's `last_visit` to `visit` (changelog).
    ...(viewer.version === '3.5' ? { last_visit: visit } : { visit }),
    statistics: {
      chats_count: customer?.chatsCount ?? 1,
      threads_count: customer?.threadsCount ?? 1,
      visits_count: customer?.threadsCount ?? 1,
    },
  };
};

/** A chat user: the customer, an agent, or a bot (bots are agents in chats: no `bot` type). */
export const serializeUser = (
  store: Store,
  chat: Chat,
  member: ChatMember,
  viewer: Viewer,
): JsonObject => {
  if (member.kind === 'customer') {
    return serializeCustomer(store, chat, member, viewer);
  }
  const user = member.kind === 'agent' ? store.agents.get(member.id) : store.bots.get(member.id);
  return {
    id: member.id,
    type: 'agent',
    name: user?.name ?? member.id,
    // Agents are identified by e-mail in chats.
    ...(member.kind === 'agent' ? { email: member.id } : {}),
    present: member.present,
    ...(user?.avatar === undefined ? {} : { avatar: user.avatar }),
    visibility: member.visibility,
  };
};

export const serializeThread = (chat: Chat, thread: Thread, viewer: Viewer): JsonObject => {
  const index = chat.threads.indexOf(thread);
  const previous = chat.threads[index - 1];
  const next = chat.threads[index + 1];
  return {
    id: thread.id,
    created_at: thread.createdAt,
    active: thread.active,
    user_ids: [...thread.userIds],
    events: thread.events.map((event) => renderEvent(event, viewer)),
    properties: cloneJson(thread.properties),
    access: cloneJson(thread.access),
    // Present only when the thread is tagged, as documented
    // (https://platform.text.com/docs/messaging/agent-chat-api/data-structures#threads).
    ...(thread.tags.length > 0 ? { tags: [...thread.tags] } : {}),
    ...(previous ? { previous_thread_id: previous.id } : {}),
    ...(next ? { next_thread_id: next.id } : {}),
  };
};

export const serializeUsers = (store: Store, chat: Chat, viewer: Viewer): JsonObject[] =>
  chat.members.map((member) => serializeUser(store, chat, member, viewer));

/** The get_chat shape: the chat with one `thread`. */
export const serializeChat = (
  store: Store,
  chat: Chat,
  thread: Thread,
  viewer: Viewer,
): JsonObject => ({
  id: chat.id,
  thread: serializeThread(chat, thread, viewer),
  users: serializeUsers(store, chat, viewer),
  properties: cloneJson(chat.properties),
  access: cloneJson(chat.access),
  is_followed: false,
});

/**
 * The incoming_chat payload: the chat with its new `thread`
 * (https://platform.text.com/docs/management/webhooks#incoming_chat).
 */
export const incomingChatPayload = (
  store: Store,
  chat: Chat,
  thread: Thread,
  viewer: Viewer,
): JsonObject => {
  const { next_thread_id: _next, ...threadFields } = serializeThread(chat, thread, viewer);
  return {
    chat: {
      id: chat.id,
      users: serializeUsers(store, chat, viewer),
      thread: threadFields,
      properties: cloneJson(chat.properties),
      access: cloneJson(chat.access),
    },
  };
};
