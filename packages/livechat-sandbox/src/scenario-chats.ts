import { findUserKind } from './chat-lookups.js';
import { createCustomer, WIDGET_CLIENT_ID } from './chat-state.js';
import { FULL_VIEW, serializeThread, serializeUsers } from './chat-views.js';
import { ApiError, notFound, validationError } from './errors.js';
import type { JsonObject } from './json.js';
import {
  AGENT_APP,
  asBody,
  CUSTOMER,
  customerOf,
  organizationOf,
  readChatInput,
  type ScenarioContext,
  SYSTEM,
} from './scenario-context.js';
import { latestThread, VISIBILITIES, type Visibility } from './store.js';
import {
  optionalEnum,
  optionalInteger,
  optionalObject,
  optionalString,
  optionalStringArray,
  requireString,
} from './validate.js';

// Scenario steps of a conversation: a customer opens a chat and writes, agents and bots write,
// leave and close it.

export type OpenChatInput = {
  /** Defaults to the first seeded organization. */
  organizationId?: string;
  /** An existing customer's `id`, or the name/e-mail of a new one. */
  customer?: { id?: string; name?: string; email?: string };
  /**
   * Agents or bots in the chat from the start (LiveChat routed it to them). Without it, the
   * sandbox routes the chat like LiveChat would to a bot (accepting chats, not `supervisor`).
   */
  agentIds?: string[];
  groupId?: number;
  /** The customer's first message; it arrives inside `incoming_chat`, like a pre-chat start. */
  message?: string;
  /** `source.client_id` of the thread (`only_my_chats`); the chat widget by default. */
  sourceClientId?: string;
};
export type OpenChatResult = {
  chatId: string;
  threadId: string;
  customerId: string;
  eventIds: string[];
};
export type CustomerMessageInput = { chatId: string; text: string; customId?: string };
export type CustomerMessageResult = {
  chatId: string;
  threadId: string;
  eventId: string;
  /** True when the chat was inactive: the message started a new thread (`incoming_chat`). */
  newThread: boolean;
};
export type AgentMessageInput = {
  chatId: string;
  /** An agent or bot in the chat. */
  agentId: string;
  text: string;
  visibility?: Visibility;
};
export type EventResult = { chatId: string; threadId: string; eventId: string };
export type CloseInput = {
  chatId: string /** Omit for a system close (no `user_id`). */;
  agentId?: string;
};
export type ThreadResult = { chatId: string; threadId: string };
export type RemoveUserInput = { chatId: string; userId: string };
export type ChatSnapshot = JsonObject;

export const openChat = (
  { store, clock, chats }: ScenarioContext,
  input: OpenChatInput,
): OpenChatResult => {
  const body = asBody(input);
  const organizationId = organizationOf(store, body);
  const customerFields = optionalObject(body, 'customer') ?? {};
  const customer = createCustomer(store, clock, organizationId, {
    id: optionalString(customerFields, 'id', 'customer.id'),
    name: optionalString(customerFields, 'name', 'customer.name'),
    email: optionalString(customerFields, 'email', 'customer.email'),
  });
  const message = optionalString(body, 'message');
  const { chat, thread } = chats.createChat({
    organizationId,
    customer,
    // Without `agentIds`, LiveChat's routing decides (simulated for bots, chat-routing.ts).
    memberIds: optionalStringArray(body, 'agentIds'),
    groupId: optionalInteger(body, 'groupId', 'groupId', { min: 0 }) ?? 0,
    sourceClientId: optionalString(body, 'sourceClientId') ?? WIDGET_CLIENT_ID,
    initialEvents: message === undefined ? [] : [{ type: 'message', text: message }],
    source: CUSTOMER,
  });
  return {
    chatId: chat.id,
    threadId: thread.id,
    customerId: customer.id,
    eventIds: thread.events.map((event) => event.id),
  };
};

export const customerMessage = (
  { store, chats }: ScenarioContext,
  input: CustomerMessageInput,
): CustomerMessageResult => {
  const { body, chat } = readChatInput(store, input);
  const text = requireString(body, 'text');
  const customId = optionalString(body, 'customId');
  const customer = customerOf(store, chat);
  const draft = {
    type: 'message',
    text,
    author_id: customer.id,
    ...(customId === undefined ? {} : { custom_id: customId }),
  };
  const current = latestThread(chat);
  if (!current.active) {
    // A message to an inactive chat starts a new thread → `incoming_chat`
    // (https://platform.text.com/docs/messaging#chats-and-threads,
    // https://platform.text.com/docs/management/webhooks#incoming_chat). The chat's agents and
    // bots stay in it (as if routed back to them).
    const thread = chats.startThread(chat, [draft], CUSTOMER);
    const event = thread.events.at(-1);
    return { chatId: chat.id, threadId: thread.id, eventId: event?.id ?? '', newThread: true };
  }
  const event = chats.addEvent(chat, current, draft, CUSTOMER);
  return { chatId: chat.id, threadId: current.id, eventId: event.id, newThread: false };
};

export const agentMessage = (
  { store, chats }: ScenarioContext,
  input: AgentMessageInput,
): EventResult => {
  const { body, chat } = readChatInput(store, input);
  const agentId = requireString(body, 'agentId');
  const text = requireString(body, 'text');
  const visibility = optionalEnum(body, 'visibility', VISIBILITIES) ?? 'all';
  const member = chat.members.find((candidate) => candidate.id === agentId && candidate.present);
  if (!member || member.kind === 'customer') {
    throw new ApiError('authorization', `${agentId} is not an agent in chat ${chat.id}`);
  }
  const thread = latestThread(chat);
  if (!thread.active) {
    throw new ApiError('chat_inactive', `Chat ${chat.id} is not active`);
  }
  const draft = { type: 'message', text, author_id: agentId, visibility };
  const event = chats.addEvent(chat, thread, draft, AGENT_APP);
  return { chatId: chat.id, threadId: thread.id, eventId: event.id };
};

export const closeChat = ({ store, chats }: ScenarioContext, input: CloseInput): ThreadResult => {
  const { body, chat } = readChatInput(store, input);
  const agentId = optionalString(body, 'agentId');
  if (agentId !== undefined && findUserKind(store, chat.organizationId, agentId) === undefined) {
    throw notFound(`User not found: ${agentId}`);
  }
  const thread = chats.deactivate(chat, agentId, agentId === undefined ? SYSTEM : AGENT_APP);
  return { chatId: chat.id, threadId: thread.id };
};

export const removeUser = (
  { store, chats }: ScenarioContext,
  input: RemoveUserInput,
): { chatId: string; userId: string } => {
  const { body, chat } = readChatInput(store, input);
  const userId = requireString(body, 'userId');
  const member = chat.members.find((candidate) => candidate.id === userId && candidate.present);
  if (!member) {
    throw notFound(`User ${userId} is not in chat ${chat.id}`);
  }
  if (member.kind === 'customer') {
    throw validationError('The customer cannot be removed from the chat');
  }
  chats.removeMember(chat, member, undefined, AGENT_APP);
  return { chatId: chat.id, userId };
};

export const getChat = ({ store }: ScenarioContext, input: { chatId: string }): ChatSnapshot => {
  const { chat } = readChatInput(store, input);
  return {
    id: chat.id,
    organization_id: chat.organizationId,
    threads: chat.threads.map((thread) => serializeThread(chat, thread, FULL_VIEW)),
    users: serializeUsers(store, chat, FULL_VIEW),
    properties: structuredClone(chat.properties),
    access: structuredClone(chat.access),
  };
};
