import { ApiError, notFound } from './errors.js';
import { type Clock, createCustomerId, createShortId } from './ids.js';
import { cloneJson, type JsonObject, type JsonValue } from './json.js';
import {
  type ApiVersion,
  type Bot,
  type Chat,
  type ChatEvent,
  type ChatMember,
  type Customer,
  latestThread,
  type RoutingStatus,
  type Store,
  type Thread,
  type Visibility,
} from './store.js';
import type { Dispatcher, WebhookSource } from './webhooks.js';

/**
 * Chats started by customers carry the chat widget's client ID in `source.client_id`
 * (used by the `only_my_chats` filter). A made-up value: it must differ from the apps' IDs.
 */
export const WIDGET_CLIENT_ID = '0805e283233042b37f460ed8fbf22160';

/** How `routing_status_set` webhooks spell statuses: documented with spaces (§2.6). */
export type RoutingStatusSpelling = 'spaces' | 'underscores';

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

/** Bot group priorities routing assigns chats to, best first (`supervisor` never). */
const ROUTED_PRIORITIES = ['first', 'normal', 'last'];

/** The fields of a new event; `id`, `created_at` and `visibility` are filled in. */
export type EventDraft = JsonObject & { type: string; visibility?: Visibility };

export type UserKind = ChatMember['kind'];

export type Chats = {
  readonly store: Store;
  readonly clock: Clock;
  /** Finds a customer, agent or bot of the organization by ID. */
  findUserKind: (organizationId: string, userId: string) => UserKind | undefined;
  /** Whether `bot` may reach `chat`: a bot token's `chats--access` covers its groups' chats. */
  botHasAccess: (bot: Bot, chat: Chat) => boolean;
  getChat: (organizationId: string, chatId: string) => Chat;
  getThread: (chat: Chat, threadId: string) => Thread;
  serializeUser: (chat: Chat, member: ChatMember, viewer: Viewer) => JsonObject;
  serializeThread: (chat: Chat, thread: Thread, viewer: Viewer) => JsonObject;
  /** The get_chat shape: the chat with one `thread`. */
  serializeChat: (chat: Chat, thread: Thread, viewer: Viewer) => JsonObject;
  createCustomer: (
    organizationId: string,
    fields: { id?: string; name?: string; email?: string },
  ) => Customer;
  /** Opens a chat with its first thread and announces it (`incoming_chat`). */
  createChat: (input: {
    organizationId: string;
    customer: Customer;
    /** Agents or bots in the chat from the start; undefined: LiveChat's routing picks (bots). */
    memberIds: string[] | undefined;
    groupId: number;
    sourceClientId: string;
    initialEvents: EventDraft[];
    source: WebhookSource;
  }) => { chat: Chat; thread: Thread };
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
  /** Sets an agent's or bot's routing status; announces changes (`routing_status_set`). */
  setRoutingStatus: (
    organizationId: string,
    agentId: string,
    status: RoutingStatus,
    source: WebhookSource,
  ) => void;
};

/** Chat state changes and their webhooks, shared by the API handlers and the scenario API. */
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
}): Chats => {
  const uniqueShortId = (taken: (id: string) => boolean): string => {
    for (;;) {
      const id = createShortId();
      if (!taken(id)) {
        return id;
      }
    }
  };

  const findUserKind = (organizationId: string, userId: string): UserKind | undefined => {
    if (store.customers.get(userId)?.organizationId === organizationId) {
      return 'customer';
    }
    if (store.agents.get(userId)?.organizationId === organizationId) {
      return 'agent';
    }
    if (store.bots.get(userId)?.organizationId === organizationId) {
      return 'bot';
    }
    return undefined;
  };

  const botHasAccess = (bot: Bot, chat: Chat): boolean =>
    bot.groups.some((group) => chat.access.group_ids.includes(group.id));

  /** Chats the bot is present in whose latest thread is active: what counts against its limit. */
  const activeChatsOf = (botId: string): number => {
    let count = 0;
    for (const chat of store.chats.values()) {
      if (
        latestThread(chat).active &&
        chat.members.some((member) => member.id === botId && member.present)
      ) {
        count += 1;
      }
    }
    return count;
  };

  /**
   * LiveChat's routing, simulated for bots only: a deliberate simplification, because a bot
   * being routed chats it was never meant to take is what Nudge must avoid (its bots are
   * `supervisor`). The chat goes to an `accepting_chats` bot of one of its groups with priority
   * `first`, `normal` or `last` — `supervisor` bots "will not get any chats assigned
   * automatically" — and a free slot (`max_chats_count`): `first` before `normal` before
   * `last`, ties to the bot with the fewest active chats. Human agents are never routed here
   * (scenarios put them in with `agentIds`).
   */
  const routedBot = (organizationId: string, groupIds: readonly number[]): Bot | undefined => {
    const candidates: Array<{ bot: Bot; rank: number; load: number }> = [];
    for (const bot of store.bots.values()) {
      if (bot.organizationId !== organizationId || bot.routingStatus !== 'accepting_chats') {
        continue;
      }
      const ranks = bot.groups
        .filter((group) => groupIds.includes(group.id))
        .map((group) => ROUTED_PRIORITIES.indexOf(group.priority))
        .filter((rank) => rank !== -1);
      const load = activeChatsOf(bot.id);
      if (ranks.length > 0 && load < bot.maxChatsCount) {
        candidates.push({ bot, rank: Math.min(...ranks), load });
      }
    }
    candidates.sort((a, b) => a.rank - b.rank || a.load - b.load);
    return candidates[0]?.bot;
  };

  const authorTypeOf = (
    chat: Chat,
    authorId: JsonValue | undefined,
  ): 'customer' | 'agent' | undefined => {
    if (typeof authorId !== 'string') {
      return undefined;
    }
    const kind = chat.members.find((member) => member.id === authorId)?.kind;
    if (kind === undefined) {
      return undefined;
    }
    // Bots are agents in chats: LiveChat has no `bot` user type (§2.9).
    return kind === 'customer' ? 'customer' : 'agent';
  };

  const serializeUser = (chat: Chat, member: ChatMember, viewer: Viewer): JsonObject => {
    if (member.kind === 'customer') {
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
    }
    if (member.kind === 'agent') {
      const agent = store.agents.get(member.id);
      return {
        id: member.id,
        type: 'agent',
        name: agent?.name ?? member.id,
        email: member.id,
        present: member.present,
        ...(agent ? { avatar: agent.avatar } : {}),
        visibility: member.visibility,
      };
    }
    const bot = store.bots.get(member.id);
    return {
      id: member.id,
      type: 'agent',
      name: bot?.name ?? member.id,
      present: member.present,
      ...(bot?.avatar === undefined ? {} : { avatar: bot.avatar }),
      visibility: member.visibility,
    };
  };

  const serializeThread = (chat: Chat, thread: Thread, viewer: Viewer): JsonObject => {
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
      // Present only when the thread is tagged, like LiveChat's samples (§2.3).
      ...(thread.tags.length > 0 ? { tags: [...thread.tags] } : {}),
      ...(previous ? { previous_thread_id: previous.id } : {}),
      ...(next ? { next_thread_id: next.id } : {}),
    };
  };

  const serializeChat = (chat: Chat, thread: Thread, viewer: Viewer): JsonObject => ({
    id: chat.id,
    thread: serializeThread(chat, thread, viewer),
    users: chat.members.map((member) => serializeUser(chat, member, viewer)),
    properties: cloneJson(chat.properties),
    access: cloneJson(chat.access),
    is_followed: false,
  });

  /** The incoming_chat payload: the chat with its new `thread` (§2.1). */
  const incomingChatPayload = (chat: Chat, thread: Thread, viewer: Viewer): JsonObject => {
    const { next_thread_id: _next, ...threadFields } = serializeThread(chat, thread, viewer);
    return {
      chat: {
        id: chat.id,
        users: chat.members.map((member) => serializeUser(chat, member, viewer)),
        thread: threadFields,
        properties: cloneJson(chat.properties),
        access: cloneJson(chat.access),
      },
    };
  };

  const buildEvent = (thread: Thread, draft: EventDraft): ChatEvent => {
    thread.eventCounter += 1;
    const { type, visibility, custom_id, author_id, properties, ...fields } = draft;
    const event: JsonObject = {
      id: `${thread.id}_${thread.eventCounter}`,
      ...(custom_id === undefined ? {} : { custom_id }),
      created_at: clock.timestamp(),
      type,
      ...fields,
      ...(author_id === undefined ? {} : { author_id }),
      visibility: visibility ?? 'all',
      ...(properties === undefined ? {} : { properties }),
    };
    return event as ChatEvent;
  };

  const newThread = (chat: Chat, initialEvents: EventDraft[], sourceClientId: string): Thread => {
    const thread: Thread = {
      id: uniqueShortId((id) => store.threadOwners.has(id)),
      active: true,
      createdAt: clock.timestamp(),
      userIds: chat.members.filter((member) => member.present).map((member) => member.id),
      events: [],
      properties: {
        routing: { continuous: false, idle: false, unassigned: false },
        source: { client_id: sourceClientId },
      },
      access: { group_ids: [...chat.access.group_ids] },
      tags: [],
      eventCounter: 0,
    };
    store.threadOwners.set(thread.id, chat.id);
    for (const draft of initialEvents) {
      thread.events.push(buildEvent(thread, draft));
    }
    chat.threads.push(thread);
    for (const member of chat.members) {
      if (member.kind === 'customer') {
        const customer = store.customers.get(member.id);
        if (customer) {
          customer.threadsCount += 1;
        }
      }
    }
    return thread;
  };

  const announceChat = (chat: Chat, thread: Thread, source: WebhookSource) => {
    dispatcher.emit({
      organizationId: chat.organizationId,
      action: 'incoming_chat',
      // Apps get what a bot would read, in the registration's version.
      payload: (version) =>
        incomingChatPayload(chat, thread, { version, deletedEvents: 'stripped' }),
      chat,
      source,
    });
  };

  const chats: Chats = {
    store,
    clock,
    findUserKind,
    botHasAccess,
    getChat: (organizationId, chatId) => {
      const chat = store.chats.get(chatId);
      // Another organization's chat does not exist for this requester.
      if (!chat || chat.organizationId !== organizationId) {
        throw notFound(`Chat not found: ${chatId}`);
      }
      return chat;
    },
    getThread: (chat, threadId) => {
      const thread = chat.threads.find((candidate) => candidate.id === threadId);
      if (!thread) {
        throw notFound(`Thread not found: ${threadId}`);
      }
      return thread;
    },
    serializeUser,
    serializeThread,
    serializeChat,
    createCustomer: (organizationId, { id, name, email }) => {
      const existing = id === undefined ? undefined : store.customers.get(id);
      if (existing) {
        if (existing.organizationId !== organizationId) {
          throw notFound(`Customer not found: ${id}`);
        }
        return existing;
      }
      const customer: Customer = {
        id: id ?? createCustomerId(),
        organizationId,
        name: name ?? 'Customer',
        email,
        createdAt: clock.timestamp(),
        chatsCount: 0,
        threadsCount: 0,
      };
      store.customers.set(customer.id, customer);
      return customer;
    },
    createChat: ({
      organizationId,
      customer,
      memberIds,
      groupId,
      sourceClientId,
      initialEvents,
      source,
    }) => {
      const members: ChatMember[] = [
        { id: customer.id, kind: 'customer', present: true, visibility: 'all' },
      ];
      const routed = memberIds === undefined ? routedBot(organizationId, [groupId]) : undefined;
      for (const id of memberIds ?? (routed ? [routed.id] : [])) {
        const kind = findUserKind(organizationId, id);
        if (kind === undefined || kind === 'customer') {
          throw notFound(`Agent or bot not found: ${id}`);
        }
        if (!members.some((member) => member.id === id)) {
          members.push({ id, kind, present: true, visibility: 'all' });
        }
      }
      const chat: Chat = {
        id: uniqueShortId((id) => store.chats.has(id)),
        organizationId,
        createdAt: clock.timestamp(),
        members,
        threads: [],
        properties: { routing: { continuous: false, pinned: false } },
        access: { group_ids: [groupId] },
      };
      customer.chatsCount += 1;
      store.chats.set(chat.id, chat);
      const thread = newThread(
        chat,
        initialEvents.map((draft) => ({ author_id: customer.id, ...draft })),
        sourceClientId,
      );
      announceChat(chat, thread, source);
      return { chat, thread };
    },
    startThread: (chat, initialEvents, source) => {
      if (latestThread(chat).active) {
        throw new ApiError('validation', `Chat ${chat.id} already has an active thread`);
      }
      // Agents and bots still present stay (as if routed back to them); with none, routing.
      const staffed = chat.members.some((member) => member.kind !== 'customer' && member.present);
      const routed = staffed ? undefined : routedBot(chat.organizationId, chat.access.group_ids);
      if (routed) {
        const member = chat.members.find((candidate) => candidate.id === routed.id);
        if (member) {
          member.present = true;
          member.visibility = 'all';
        } else {
          chat.members.push({ id: routed.id, kind: 'bot', present: true, visibility: 'all' });
        }
      }
      const sourceClientId = latestThread(chat).properties.source?.client_id;
      const thread = newThread(
        chat,
        initialEvents,
        typeof sourceClientId === 'string' ? sourceClientId : WIDGET_CLIENT_ID,
      );
      announceChat(chat, thread, source);
      return thread;
    },
    addEvent: (chat, thread, draft, source) => {
      const event = buildEvent(thread, draft);
      thread.events.push(event);
      dispatcher.emit({
        organizationId: chat.organizationId,
        action: 'incoming_event',
        payload: { chat_id: chat.id, thread_id: thread.id, event },
        chat,
        authorType: authorTypeOf(chat, event.author_id),
        source,
      });
      return event;
    },
    deactivate: (chat, userId, source) => {
      const thread = latestThread(chat);
      if (!thread.active) {
        throw new ApiError('chat_inactive', `Chat ${chat.id} is not active`);
      }
      thread.active = false;
      dispatcher.emit({
        organizationId: chat.organizationId,
        action: 'chat_deactivated',
        // `user_id` is absent when the system closed the thread (§2.4).
        payload: {
          chat_id: chat.id,
          thread_id: thread.id,
          ...(userId === undefined ? {} : { user_id: userId }),
        },
        chat,
        source,
      });
      return thread;
    },
    deleteEvent: (chat, thread, event, source) => {
      event.deleted = true;
      dispatcher.emit({
        organizationId: chat.organizationId,
        action: 'event_deleted',
        payload: { chat_id: chat.id, thread_id: thread.id, event_id: event.id },
        chat,
        source,
      });
    },
    tag: (chat, thread, tag, source) => {
      if (thread.tags.includes(tag)) {
        return false;
      }
      thread.tags.push(tag);
      dispatcher.emit({
        organizationId: chat.organizationId,
        action: 'thread_tagged',
        payload: { chat_id: chat.id, thread_id: thread.id, tag },
        chat,
        source,
      });
      return true;
    },
    untag: (chat, thread, tag, source) => {
      const index = thread.tags.indexOf(tag);
      if (index === -1) {
        return false;
      }
      thread.tags.splice(index, 1);
      dispatcher.emit({
        organizationId: chat.organizationId,
        action: 'thread_untagged',
        payload: { chat_id: chat.id, thread_id: thread.id, tag },
        chat,
        source,
      });
      return true;
    },
    updateThreadProperties: (chat, thread, properties, source) => {
      for (const [namespace, values] of Object.entries(properties)) {
        thread.properties[namespace] = { ...thread.properties[namespace], ...cloneJson(values) };
      }
      dispatcher.emit({
        organizationId: chat.organizationId,
        action: 'thread_properties_updated',
        // Only the changed properties, like LiveChat (§2.6).
        payload: { chat_id: chat.id, thread_id: thread.id, properties: cloneJson(properties) },
        chat,
        source,
      });
    },
    deleteThreadProperties: (chat, thread, properties, source) => {
      for (const [namespace, names] of Object.entries(properties)) {
        const current = thread.properties[namespace];
        if (!current) {
          continue;
        }
        for (const name of names) {
          delete current[name];
        }
        if (Object.keys(current).length === 0) {
          delete thread.properties[namespace];
        }
      }
      dispatcher.emit({
        organizationId: chat.organizationId,
        action: 'thread_properties_deleted',
        payload: { chat_id: chat.id, thread_id: thread.id, properties: cloneJson(properties) },
        chat,
        source,
      });
    },
    addMember: (chat, userId, kind, visibility, requesterId, source) => {
      const existing = chat.members.find((member) => member.id === userId);
      if (existing) {
        existing.present = true;
        existing.visibility = visibility;
      } else {
        chat.members.push({ id: userId, kind, present: true, visibility });
      }
      const thread = latestThread(chat);
      if (!thread.userIds.includes(userId)) {
        thread.userIds.push(userId);
      }
      const member = chat.members.find((candidate) => candidate.id === userId);
      if (!member) {
        return;
      }
      dispatcher.emit({
        organizationId: chat.organizationId,
        action: 'user_added_to_chat',
        payload: (version) => ({
          chat_id: chat.id,
          thread_id: thread.id,
          user: serializeUser(chat, member, { version, deletedEvents: 'stripped' }),
          user_type: kind === 'customer' ? 'customer' : 'agent',
          reason: 'manual',
          ...(requesterId === undefined ? {} : { requester_id: requesterId }),
        }),
        chat,
        source,
      });
    },
    removeMember: (chat, member, requesterId, source) => {
      member.present = false;
      dispatcher.emit({
        organizationId: chat.organizationId,
        action: 'user_removed_from_chat',
        payload: {
          chat_id: chat.id,
          thread_id: latestThread(chat).id,
          user_id: member.id,
          user_type: member.kind === 'customer' ? 'customer' : 'agent',
          reason: 'manual',
          ...(requesterId === undefined ? {} : { requester_id: requesterId }),
        },
        chat,
        source,
      });
    },
    setRoutingStatus: (organizationId, agentId, status, source) => {
      const subject = store.bots.get(agentId) ?? store.agents.get(agentId);
      if (!subject || subject.organizationId !== organizationId) {
        throw notFound(`Agent not found: ${agentId}`);
      }
      if (subject.routingStatus === status) {
        // Announced on change only (unconfirmed whether LiveChat repeats unchanged statuses).
        return;
      }
      subject.routingStatus = status;
      // Evaluated after the change: a bot going offline silences its own announcement
      // on `bot` webhooks when it was the client's last online bot.
      dispatcher.emit({
        organizationId,
        action: 'routing_status_set',
        payload: {
          agent_id: agentId,
          status: routingStatusSpelling === 'spaces' ? status.replaceAll('_', ' ') : status,
        },
        agentId,
        source,
      });
    },
  };
  return chats;
};
