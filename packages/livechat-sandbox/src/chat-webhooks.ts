import type { UserKind } from './chat-lookups.js';
import { incomingChatPayload, serializeUser } from './chat-views.js';
import { cloneJson, type JsonObject, type JsonValue } from './json.js';
import {
  type Chat,
  type ChatEvent,
  type ChatMember,
  latestThread,
  type RoutingStatus,
  type Store,
  type Thread,
} from './store.js';
import type { WebhookInput, WebhookSource } from './webhooks.js';

// The webhooks LiveChat sends when a chat or a routing status changes, in its payload shapes.

/**
 * How `routing_status_set` webhooks spell statuses: documented with spaces
 * (https://platform.text.com/docs/management/webhooks#routing_status_set).
 */
export type RoutingStatusSpelling = 'spaces' | 'underscores';

/**
 * LiveChat has no `bot` user type: user types are `agent` and `customer`
 * (https://platform.text.com/docs/management/webhooks#user_added_to_chat),
 * and bots chat like agents
 * (https://platform.text.com/docs/management/configuration-api#bots).
 */
const userType = (kind: UserKind) => (kind === 'customer' ? 'customer' : 'agent');

/** A webhook about one thread of a chat: its payload starts with `chat_id` and `thread_id`. */
const threadWebhook = (
  action: string,
  chat: Chat,
  thread: Thread,
  fields: JsonObject,
  source: WebhookSource,
): WebhookInput => ({
  organizationId: chat.organizationId,
  action,
  payload: { chat_id: chat.id, thread_id: thread.id, ...fields },
  chat,
  source,
});

/** `incoming_chat`: a new chat, or a new thread of an inactive one. */
export const incomingChat = (
  store: Store,
  chat: Chat,
  thread: Thread,
  source: WebhookSource,
): WebhookInput => ({
  organizationId: chat.organizationId,
  action: 'incoming_chat',
  // Apps get what a bot would read, in the registration's version.
  payload: (version) =>
    incomingChatPayload(store, chat, thread, { version, deletedEvents: 'stripped' }),
  chat,
  source,
});

const authorTypeOf = (chat: Chat, authorId: JsonValue | undefined) => {
  if (typeof authorId !== 'string') {
    return undefined;
  }
  const kind = chat.members.find((member) => member.id === authorId)?.kind;
  return kind === undefined ? undefined : userType(kind);
};

export const incomingEvent = (
  chat: Chat,
  thread: Thread,
  event: ChatEvent,
  source: WebhookSource,
): WebhookInput => ({
  ...threadWebhook('incoming_event', chat, thread, { event }, source),
  authorType: authorTypeOf(chat, event.author_id),
});

export const chatDeactivated = (
  chat: Chat,
  thread: Thread,
  userId: string | undefined,
  source: WebhookSource,
): WebhookInput =>
  // `user_id` is absent when the system closed the thread
  // (https://platform.text.com/docs/management/webhooks#chat_deactivated).
  threadWebhook(
    'chat_deactivated',
    chat,
    thread,
    userId === undefined ? {} : { user_id: userId },
    source,
  );

export const eventDeleted = (
  chat: Chat,
  thread: Thread,
  event: ChatEvent,
  source: WebhookSource,
): WebhookInput => threadWebhook('event_deleted', chat, thread, { event_id: event.id }, source);

export const threadTagged = (
  action: 'thread_tagged' | 'thread_untagged',
  chat: Chat,
  thread: Thread,
  tag: string,
  source: WebhookSource,
): WebhookInput => threadWebhook(action, chat, thread, { tag }, source);

/**
 * Only the changed properties, like LiveChat
 * (https://platform.text.com/docs/management/webhooks#thread_properties_updated).
 */
export const threadPropertiesChanged = (
  action: 'thread_properties_updated' | 'thread_properties_deleted',
  chat: Chat,
  thread: Thread,
  properties: Record<string, JsonObject> | Record<string, string[]>,
  source: WebhookSource,
): WebhookInput =>
  threadWebhook(action, chat, thread, { properties: cloneJson(properties) }, source);

/** The fields of `user_added_to_chat` and `user_removed_from_chat` after the user. */
const membershipFields = (kind: UserKind, requesterId: string | undefined): JsonObject => ({
  user_type: userType(kind),
  reason: 'manual',
  ...(requesterId === undefined ? {} : { requester_id: requesterId }),
});

export const userAdded = (
  store: Store,
  chat: Chat,
  member: ChatMember,
  kind: UserKind,
  requesterId: string | undefined,
  source: WebhookSource,
): WebhookInput => {
  const thread = latestThread(chat);
  return {
    organizationId: chat.organizationId,
    action: 'user_added_to_chat',
    payload: (version) => ({
      chat_id: chat.id,
      thread_id: thread.id,
      user: serializeUser(store, chat, member, { version, deletedEvents: 'stripped' }),
      ...membershipFields(kind, requesterId),
    }),
    chat,
    source,
  };
};

export const userRemoved = (
  chat: Chat,
  member: ChatMember,
  requesterId: string | undefined,
  source: WebhookSource,
): WebhookInput =>
  threadWebhook(
    'user_removed_from_chat',
    chat,
    latestThread(chat),
    { user_id: member.id, ...membershipFields(member.kind, requesterId) },
    source,
  );

/**
 * `routing_status_set`. Filters are evaluated after the change: a bot going offline silences
 * its own announcement on `bot` webhooks when it was the client's last online bot.
 */
export const routingStatusSet = (
  organizationId: string,
  agentId: string,
  status: RoutingStatus,
  spelling: RoutingStatusSpelling,
  source: WebhookSource,
): WebhookInput => ({
  organizationId,
  action: 'routing_status_set',
  payload: {
    agent_id: agentId,
    status: spelling === 'spaces' ? status.replaceAll('_', ' ') : status,
  },
  agentId,
  source,
});
