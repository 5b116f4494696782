import { requireThread } from './chat-lookups.js';
import { WIDGET_CLIENT_ID } from './chat-state.js';
import type { Chats } from './chats.js';
import { notFound, validationError } from './errors.js';
import type { Clock } from './ids.js';
import type { JsonObject } from './json.js';
import { type Chat, type Customer, latestThread, type Store, type Thread } from './store.js';
import { optionalString, requireString } from './validate.js';
import type { WebhookSource } from './webhooks.js';

// What scenario steps share: the sandbox's state, who they act as, and reading their inputs.

export type ScenarioContext = { store: Store; clock: Clock; chats: Chats };

// Scenario actions come from LiveChat's own apps: the widget for customers, the agent app for
// agents (other clients, for `source_type`); rating system messages come from the system.
const AGENT_APP_CLIENT_ID = 'bb9e5b2f1ab480e4a715977b7b1b4279';
export const CUSTOMER: WebhookSource = { kind: 'client', clientId: WIDGET_CLIENT_ID };
export const AGENT_APP: WebhookSource = { kind: 'client', clientId: AGENT_APP_CLIENT_ID };
export const SYSTEM: WebhookSource = { kind: 'system' };

// Inputs may come from HTTP (`/_sandbox/scenario/<method>`), so they are checked at runtime.
export const asBody = (input: unknown): JsonObject => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw validationError('scenario input must be an object');
  }
  return input as JsonObject;
};

/** `organizationId`, by default the first seeded organization. */
export const organizationOf = (store: Store, body: JsonObject): string => {
  const organizationId = optionalString(body, 'organizationId') ?? firstOrganization(store);
  if (!store.organizations.has(organizationId)) {
    throw notFound(`Organization not found: ${organizationId}`);
  }
  return organizationId;
};

const firstOrganization = (store: Store): string => {
  const first = store.organizations.keys().next();
  if (first.done) {
    throw new Error('the seed has no organization');
  }
  return first.value;
};

/** A step's input, checked to be an object, and the chat its `chatId` names (any organization). */
export const readChatInput = (store: Store, input: unknown): { body: JsonObject; chat: Chat } => {
  const body = asBody(input);
  const chatId = requireString(body, 'chatId');
  const chat = store.chats.get(chatId);
  if (!chat) {
    throw notFound(`Chat not found: ${chatId}`);
  }
  return { body, chat };
};

/** The thread `threadId` of the chat, by default its latest. */
export const threadOf = (chat: Chat, body: JsonObject): Thread => {
  const threadId = optionalString(body, 'threadId');
  return threadId === undefined ? latestThread(chat) : requireThread(chat, threadId);
};

export const customerOf = (store: Store, chat: Chat): Customer => {
  const member = chat.members.find((candidate) => candidate.kind === 'customer');
  const customer = member ? store.customers.get(member.id) : undefined;
  if (!customer) {
    throw new Error(`chat ${chat.id} has no customer`);
  }
  return customer;
};
