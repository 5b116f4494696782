import { findUserKind, type UserKind } from './chat-lookups.js';
import { routedBot } from './chat-routing.js';
import { ApiError, notFound } from './errors.js';
import { type Clock, createCustomerId, createShortId } from './ids.js';
import { cloneJson, type JsonObject } from './json.js';
import {
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

// Changes to chats and users in the store, without their webhooks (chats.ts announces them).

/**
 * Chats started by customers carry the chat widget's client ID in `source.client_id`
 * (used by the `only_my_chats` filter). A made-up value: it must differ from the apps' IDs.
 */
export const WIDGET_CLIENT_ID = '0805e283233042b37f460ed8fbf22160';

/** The fields of a new event; `id`, `created_at` and `visibility` are filled in. */
export type EventDraft = JsonObject & { type: string; visibility?: Visibility };

const uniqueShortId = (taken: (id: string) => boolean): string => {
  for (;;) {
    const id = createShortId();
    if (!taken(id)) {
      return id;
    }
  }
};

/** Returns the customer with `id` if the organization has one, else a new customer. */
export const createCustomer = (
  store: Store,
  clock: Clock,
  organizationId: string,
  { id, name, email }: { id?: string; name?: string; email?: string },
): Customer => {
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
};

/** The next event ID of a thread: `<thread ID>_<n>`. */
export const nextEventId = (thread: Thread): string => {
  thread.eventCounter += 1;
  return `${thread.id}_${thread.eventCounter}`;
};

/** Appends an event made from `draft` to the thread. */
export const appendEvent = (clock: Clock, thread: Thread, draft: EventDraft): ChatEvent => {
  const id = nextEventId(thread);
  const { type, visibility, custom_id, author_id, properties, ...fields } = draft;
  const event: JsonObject = {
    id,
    ...(custom_id === undefined ? {} : { custom_id }),
    created_at: clock.timestamp(),
    type,
    ...fields,
    ...(author_id === undefined ? {} : { author_id }),
    visibility: visibility ?? 'all',
    ...(properties === undefined ? {} : { properties }),
  };
  thread.events.push(event as ChatEvent);
  return event as ChatEvent;
};

const appendThread = (
  store: Store,
  clock: Clock,
  chat: Chat,
  initialEvents: EventDraft[],
  sourceClientId: string,
): Thread => {
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
    appendEvent(clock, thread, draft);
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

export type NewChat = {
  organizationId: string;
  customer: Customer;
  /** Agents or bots in the chat from the start; undefined: LiveChat's routing picks (bots). */
  memberIds: string[] | undefined;
  groupId: number;
  sourceClientId: string;
  initialEvents: EventDraft[];
};

/** A new chat with its first thread; the customer authors the initial events. */
export const insertChat = (
  store: Store,
  clock: Clock,
  { organizationId, customer, memberIds, groupId, sourceClientId, initialEvents }: NewChat,
): { chat: Chat; thread: Thread } => {
  const members: ChatMember[] = [
    { id: customer.id, kind: 'customer', present: true, visibility: 'all' },
  ];
  const routed = memberIds === undefined ? routedBot(store, organizationId, [groupId]) : undefined;
  for (const id of memberIds ?? (routed ? [routed.id] : [])) {
    const kind = findUserKind(store, organizationId, id);
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
  const thread = appendThread(
    store,
    clock,
    chat,
    initialEvents.map((draft) => ({ author_id: customer.id, ...draft })),
    sourceClientId,
  );
  return { chat, thread };
};

/** Makes the user a present member of the chat (again, if it left). */
const joinChat = (
  chat: Chat,
  userId: string,
  kind: UserKind,
  visibility: Visibility,
): ChatMember => {
  const existing = chat.members.find((member) => member.id === userId);
  if (existing) {
    existing.present = true;
    existing.visibility = visibility;
    return existing;
  }
  const member: ChatMember = { id: userId, kind, present: true, visibility };
  chat.members.push(member);
  return member;
};

/**
 * A new thread in an inactive chat. Agents and bots still present stay (as if routed back to
 * them); with none, routing picks a bot.
 */
export const reopenChat = (
  store: Store,
  clock: Clock,
  chat: Chat,
  initialEvents: EventDraft[],
): Thread => {
  if (latestThread(chat).active) {
    throw new ApiError('validation', `Chat ${chat.id} already has an active thread`);
  }
  const staffed = chat.members.some((member) => member.kind !== 'customer' && member.present);
  const routed = staffed ? undefined : routedBot(store, chat.organizationId, chat.access.group_ids);
  if (routed) {
    joinChat(chat, routed.id, 'bot', 'all');
  }
  const sourceClientId = latestThread(chat).properties.source?.client_id;
  return appendThread(
    store,
    clock,
    chat,
    initialEvents,
    typeof sourceClientId === 'string' ? sourceClientId : WIDGET_CLIENT_ID,
  );
};

/** Ends the chat's active thread. */
export const deactivateThread = (chat: Chat): Thread => {
  const thread = latestThread(chat);
  if (!thread.active) {
    throw new ApiError('chat_inactive', `Chat ${chat.id} is not active`);
  }
  thread.active = false;
  return thread;
};

/** Returns false when the tag was already there (nothing changes). */
export const addTag = (thread: Thread, tag: string): boolean => {
  if (thread.tags.includes(tag)) {
    return false;
  }
  thread.tags.push(tag);
  return true;
};

/** Returns false when the tag was not there (nothing changes). */
export const removeTag = (thread: Thread, tag: string): boolean => {
  const index = thread.tags.indexOf(tag);
  if (index === -1) {
    return false;
  }
  thread.tags.splice(index, 1);
  return true;
};

export const mergeThreadProperties = (
  thread: Thread,
  properties: Record<string, JsonObject>,
): void => {
  for (const [namespace, values] of Object.entries(properties)) {
    thread.properties[namespace] = { ...thread.properties[namespace], ...cloneJson(values) };
  }
};

/** Deletes the named properties; a namespace left empty goes too. */
export const removeThreadProperties = (
  thread: Thread,
  properties: Record<string, string[]>,
): void => {
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
};

/** Puts the user in the chat (again, if it left) and in its latest thread's users. */
export const putMember = (
  chat: Chat,
  userId: string,
  kind: UserKind,
  visibility: Visibility,
): ChatMember => {
  const member = joinChat(chat, userId, kind, visibility);
  const thread = latestThread(chat);
  if (!thread.userIds.includes(userId)) {
    thread.userIds.push(userId);
  }
  return member;
};

/** Sets an agent's or bot's routing status; returns false when it already had it. */
export const changeRoutingStatus = (
  store: Store,
  organizationId: string,
  agentId: string,
  status: RoutingStatus,
): boolean => {
  const subject = store.bots.get(agentId) ?? store.agents.get(agentId);
  if (!subject || subject.organizationId !== organizationId) {
    throw notFound(`Agent not found: ${agentId}`);
  }
  if (subject.routingStatus === status) {
    return false;
  }
  subject.routingStatus = status;
  return true;
};
