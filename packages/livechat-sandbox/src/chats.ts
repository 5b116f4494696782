import type { UserKind } from './chat-lookups.js';
import {
  addTag,
  appendEvent,
  changeRoutingStatus,
  deactivateThread,
  type EventDraft,
  insertChat,
  mergeThreadProperties,
  type NewChat,
  putMember,
  removeTag,
  removeThreadProperties,
  reopenChat,
} from './chat-state.js';
import {
  chatDeactivated,
  eventDeleted,
  incomingChat,
  incomingEvent,
  type RoutingStatusSpelling,
  routingStatusSet,
  threadPropertiesChanged,
  threadTagged,
  userAdded,
  userRemoved,
} from './chat-webhooks.js';
import type { Clock } from './ids.js';
import type { JsonObject } from './json.js';
import type {
  Chat,
  ChatEvent,
  ChatMember,
  RoutingStatus,
  Store,
  Thread,
  Visibility,
} from './store.js';
import type { Dispatcher, WebhookSource } from './webhooks.js';

/** Chat changes that LiveChat announces: each changes the store, then sends its webhooks. */
export type Chats = {
  /** Opens a chat with its first thread and announces it (`incoming_chat`). */
  createChat: (input: NewChat & { source: WebhookSource }) => { chat: Chat; thread: Thread };
  /**
   * Starts a new thread in an inactive chat and announces it (`incoming_chat`); routed to a
   * bot when no agent or bot is present any more.
   */
  startThread: (chat: Chat, initialEvents: EventDraft[], source: WebhookSource) => Thread;
  /** Appends an event to a thread and announces it (`incoming_event`). */
  addEvent: (chat: Chat, thread: Thread, draft: EventDraft, source: WebhookSource) => ChatEvent;
  deactivate: (chat: Chat, userId: string | undefined, source: WebhookSource) => Thread;
  /** Marks an event deleted and announces it (`event_deleted`, a v3.6 webhook). */
  deleteEvent: (chat: Chat, thread: Thread, event: ChatEvent, source: WebhookSource) => void;
  /** Returns false when the tag was already there (nothing happens). */
  tag: (chat: Chat, thread: Thread, tag: string, source: WebhookSource) => boolean;
  /** Returns false when the tag was not there (nothing happens). */
  untag: (chat: Chat, thread: Thread, tag: string, source: WebhookSource) => boolean;
  updateThreadProperties: (
    chat: Chat,
    thread: Thread,
    properties: Record<string, JsonObject>,
    source: WebhookSource,
  ) => void;
  deleteThreadProperties: (
    chat: Chat,
    thread: Thread,
    properties: Record<string, string[]>,
    source: WebhookSource,
  ) => void;
  addMember: (
    chat: Chat,
    userId: string,
    kind: UserKind,
    visibility: Visibility,
    requesterId: string | undefined,
    source: WebhookSource,
  ) => void;
  /**
   * The user leaves: it stays in the chat's users with `present: false` and can send nothing
   * until added again (`user_removed_from_chat`).
   */
  removeMember: (
    chat: Chat,
    member: ChatMember,
    requesterId: string | undefined,
    source: WebhookSource,
  ) => void;
  /**
   * Sets an agent's or bot's routing status; announces changes (`routing_status_set`): whether
   * LiveChat repeats unchanged statuses is unconfirmed.
   */
  setRoutingStatus: (
    organizationId: string,
    agentId: string,
    status: RoutingStatus,
    source: WebhookSource,
  ) => void;
};

/** Chat changes and their webhooks, shared by the API handlers and the scenario API. */
export const createChats = ({
  store,
  clock,
  dispatcher,
  routingStatusSpelling,
}: {
  store: Store;
  clock: Clock;
  dispatcher: Dispatcher;
  routingStatusSpelling: RoutingStatusSpelling;
}): Chats => ({
  createChat: ({ source, ...input }) => {
    const { chat, thread } = insertChat(store, clock, input);
    dispatcher.emit(incomingChat(store, chat, thread, source));
    return { chat, thread };
  },
  startThread: (chat, initialEvents, source) => {
    const thread = reopenChat(store, clock, chat, initialEvents);
    dispatcher.emit(incomingChat(store, chat, thread, source));
    return thread;
  },
  addEvent: (chat, thread, draft, source) => {
    const event = appendEvent(clock, thread, draft);
    dispatcher.emit(incomingEvent(chat, thread, event, source));
    return event;
  },
  deactivate: (chat, userId, source) => {
    const thread = deactivateThread(chat);
    dispatcher.emit(chatDeactivated(chat, thread, userId, source));
    return thread;
  },
  deleteEvent: (chat, thread, event, source) => {
    event.deleted = true;
    dispatcher.emit(eventDeleted(chat, thread, event, source));
  },
  tag: (chat, thread, tag, source) => {
    const changed = addTag(thread, tag);
    if (changed) {
      dispatcher.emit(threadTagged('thread_tagged', chat, thread, tag, source));
    }
    return changed;
  },
  untag: (chat, thread, tag, source) => {
    const changed = removeTag(thread, tag);
    if (changed) {
      dispatcher.emit(threadTagged('thread_untagged', chat, thread, tag, source));
    }
    return changed;
  },
  updateThreadProperties: (chat, thread, properties, source) => {
    mergeThreadProperties(thread, properties);
    dispatcher.emit(
      threadPropertiesChanged('thread_properties_updated', chat, thread, properties, source),
    );
  },
  deleteThreadProperties: (chat, thread, properties, source) => {
    removeThreadProperties(thread, properties);
    dispatcher.emit(
      threadPropertiesChanged('thread_properties_deleted', chat, thread, properties, source),
    );
  },
  addMember: (chat, userId, kind, visibility, requesterId, source) => {
    const member = putMember(chat, userId, kind, visibility);
    dispatcher.emit(userAdded(store, chat, member, kind, requesterId, source));
  },
  removeMember: (chat, member, requesterId, source) => {
    member.present = false;
    dispatcher.emit(userRemoved(chat, member, requesterId, source));
  },
  setRoutingStatus: (organizationId, agentId, status, source) => {
    if (changeRoutingStatus(store, organizationId, agentId, status)) {
      const spelling = routingStatusSpelling;
      dispatcher.emit(routingStatusSet(organizationId, agentId, status, spelling, source));
    }
  },
});
