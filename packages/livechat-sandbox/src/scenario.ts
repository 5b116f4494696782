import { findUserKind, requireThread } from './chat-lookups.js';
import { createCustomer, nextEventId, WIDGET_CLIENT_ID } from './chat-state.js';
import { FULL_VIEW, serializeThread, serializeUsers } from './chat-views.js';
import type { Chats } from './chats.js';
import { ApiError, notFound, validationError } from './errors.js';
import { type Clock, createHexId } from './ids.js';
import type { JsonObject } from './json.js';
import {
  type Bot,
  type Chat,
  type ChatEvent,
  latestThread,
  ROUTING_STATUSES,
  type RoutingStatus,
  type Store,
  VISIBILITIES,
  type Visibility,
} from './store.js';
import {
  optionalEnum,
  optionalInteger,
  optionalObject,
  optionalString,
  optionalStringArray,
  requireEnum,
  requireObject,
  requireString,
} from './validate.js';
import type { WebhookSource } from './webhooks.js';

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
export type TagInput = { chatId: string; tag: string; threadId?: string };
export type TagResult = { chatId: string; threadId: string; changed: boolean };
export type RateInput = { chatId: string; score: 0 | 1; comment?: string };
export type RatingResult = { chatId: string; threadId: string; eventIds: string[] };
export type CloseInput = {
  chatId: string /** Omit for a system close (no `user_id`). */;
  agentId?: string;
};
export type ThreadResult = { chatId: string; threadId: string };
export type RoutingStatusInput = { agentId: string; status: RoutingStatus };
export type BotStatusInput = { botId: string; status: RoutingStatus };
export type CreateBotInput = {
  name: string;
  /** Defaults to the first seeded client app. */
  ownerClientId?: string;
  organizationId?: string;
  /** Defaults to `offline`, like a bot made with create_bot. */
  status?: RoutingStatus;
};
export type DeleteEventInput = { chatId: string; eventId: string };
export type RemoveUserInput = { chatId: string; userId: string };
export type InjectEventInput = { chatId: string; event: JsonObject };
export type ChatSnapshot = JsonObject;

/** Play customers and agents: every method changes the chat and sends the webhooks LiveChat would. */
export type Scenario = {
  openChat: (input?: OpenChatInput) => OpenChatResult;
  customerMessage: (input: CustomerMessageInput) => CustomerMessageResult;
  agentMessage: (input: AgentMessageInput) => EventResult;
  tag: (input: TagInput) => TagResult;
  untag: (input: TagInput) => TagResult;
  /** `score` 1 = good, 0 = bad: `thread_properties_updated` plus rating system messages. */
  rate: (input: RateInput) => RatingResult;
  cancelRating: (input: { chatId: string }) => RatingResult;
  close: (input: CloseInput) => ThreadResult;
  /**
   * The customer deletes one of their events (Customer Chat API v3.6 `delete_event`):
   * `event_deleted`; agents with the `normal` role and bots read a deleted event instead.
   */
  deleteEvent: (input: DeleteEventInput) => EventResult;
  /**
   * An agent or bot leaves the chat (from the agent app): it stays in the users with
   * `present: false` (`user_removed_from_chat`) and must be added again to send anything.
   */
  removeUser: (input: RemoveUserInput) => { chatId: string; userId: string };
  /**
   * Schema drift, for tests: appends `event` to the chat's latest thread exactly as given
   * (`id` and `created_at` filled in when absent), without a webhook. LiveChat adds event
   * types and fields over time; this is how a test shows a client one the sandbox never makes.
   */
  injectEvent: (input: InjectEventInput) => EventResult;
  setRoutingStatus: (input: RoutingStatusInput) => RoutingStatusInput;
  setBotStatus: (input: BotStatusInput) => BotStatusInput;
  createBot: (input: CreateBotInput) => { id: string; secret: string };
  /** The chat with all its threads. */
  getChat: (input: { chatId: string }) => ChatSnapshot;
};

export type ScenarioMethod = keyof Scenario;

export const SCENARIO_METHODS: readonly ScenarioMethod[] = [
  'openChat',
  'customerMessage',
  'agentMessage',
  'tag',
  'untag',
  'rate',
  'cancelRating',
  'close',
  'deleteEvent',
  'injectEvent',
  'removeUser',
  'setRoutingStatus',
  'setBotStatus',
  'createBot',
  'getChat',
];

// Scenario actions come from LiveChat's own apps: the widget for customers, the agent app for
// agents (other clients, for `source_type`); rating system messages come from the system.
const AGENT_APP_CLIENT_ID = 'bb9e5b2f1ab480e4a715977b7b1b4279';
const CUSTOMER: WebhookSource = { kind: 'client', clientId: WIDGET_CLIENT_ID };
const AGENT_APP: WebhookSource = { kind: 'client', clientId: AGENT_APP_CLIENT_ID };
const SYSTEM: WebhookSource = { kind: 'system' };

// Inputs may come from HTTP (`/_sandbox/scenario/<method>`), so they are checked at runtime.
const asBody = (input: unknown): JsonObject => {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw validationError('scenario input must be an object');
  }
  return input as JsonObject;
};

/** The scenario API over the sandbox's chats. */
export const createScenario = ({
  store,
  clock,
  chats,
}: {
  store: Store;
  clock: Clock;
  chats: Chats;
}): Scenario => {
  const defaultOrganization = () => {
    const first = store.organizations.keys().next();
    if (first.done) {
      throw new Error('the seed has no organization');
    }
    return first.value;
  };

  const chatOf = (body: JsonObject): Chat => {
    const chatId = requireString(body, 'chatId');
    const chat = store.chats.get(chatId);
    if (!chat) {
      throw notFound(`Chat not found: ${chatId}`);
    }
    return chat;
  };

  const customerOf = (chat: Chat) => {
    const member = chat.members.find((candidate) => candidate.kind === 'customer');
    const customer = member ? store.customers.get(member.id) : undefined;
    if (!customer) {
      throw new Error(`chat ${chat.id} has no customer`);
    }
    return customer;
  };

  const threadOf = (chat: Chat, body: JsonObject) => {
    const threadId = optionalString(body, 'threadId');
    return threadId === undefined ? latestThread(chat) : requireThread(chat, threadId);
  };

  const tagging = (input: TagInput, add: boolean): TagResult => {
    const body = asBody(input);
    const chat = chatOf(body);
    const thread = threadOf(chat, body);
    const tag = requireString(body, 'tag');
    const changed = add
      ? chats.tag(chat, thread, tag, AGENT_APP)
      : chats.untag(chat, thread, tag, AGENT_APP);
    return { chatId: chat.id, threadId: thread.id, changed };
  };

  const setStatus = (organizationId: string, agentId: string, status: RoutingStatus) => {
    if (status === 'offline' && !store.bots.has(agentId)) {
      throw validationError('`status` offline is allowed for bots only');
    }
    chats.setRoutingStatus(organizationId, agentId, status, AGENT_APP);
  };

  return {
    openChat: (input = {}) => {
      const body = asBody(input);
      const organizationId = optionalString(body, 'organizationId') ?? defaultOrganization();
      if (!store.organizations.has(organizationId)) {
        throw notFound(`Organization not found: ${organizationId}`);
      }
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
    },
    customerMessage: (input) => {
      const body = asBody(input);
      const chat = chatOf(body);
      const text = requireString(body, 'text');
      const customId = optionalString(body, 'customId');
      const customer = customerOf(chat);
      const draft = {
        type: 'message',
        text,
        author_id: customer.id,
        ...(customId === undefined ? {} : { custom_id: customId }),
      };
      const current = latestThread(chat);
      if (!current.active) {
        // A message to an inactive chat starts a new thread → `incoming_chat` (§2.4). The
        // chat's agents and bots stay in it (as if routed back to them).
        const thread = chats.startThread(chat, [draft], CUSTOMER);
        const event = thread.events.at(-1);
        return { chatId: chat.id, threadId: thread.id, eventId: event?.id ?? '', newThread: true };
      }
      const event = chats.addEvent(chat, current, draft, CUSTOMER);
      return { chatId: chat.id, threadId: current.id, eventId: event.id, newThread: false };
    },
    agentMessage: (input) => {
      const body = asBody(input);
      const chat = chatOf(body);
      const agentId = requireString(body, 'agentId');
      const text = requireString(body, 'text');
      const visibility = optionalEnum(body, 'visibility', VISIBILITIES) ?? 'all';
      const member = chat.members.find(
        (candidate) => candidate.id === agentId && candidate.present,
      );
      if (!member || member.kind === 'customer') {
        throw new ApiError('authorization', `${agentId} is not an agent in chat ${chat.id}`);
      }
      const thread = latestThread(chat);
      if (!thread.active) {
        throw new ApiError('chat_inactive', `Chat ${chat.id} is not active`);
      }
      const event = chats.addEvent(
        chat,
        thread,
        { type: 'message', text, author_id: agentId, visibility },
        AGENT_APP,
      );
      return { chatId: chat.id, threadId: thread.id, eventId: event.id };
    },
    tag: (input) => tagging(input, true),
    untag: (input) => tagging(input, false),
    rate: (input) => {
      const body = asBody(input);
      const chat = chatOf(body);
      const score = optionalInteger(body, 'score', 'score', { min: 0, max: 1 });
      if (score === undefined) {
        throw validationError('`score` is required');
      }
      const comment = optionalString(body, 'comment');
      const customer = customerOf(chat);
      // Customers rate the most recent thread, even after it was closed (§2.8).
      const thread = latestThread(chat);
      chats.updateThreadProperties(
        chat,
        thread,
        { rating: { score, ...(comment === undefined ? {} : { comment }) } },
        CUSTOMER,
      );
      const verdict = score === 1 ? 'good' : 'bad';
      // `text_vars` keys and the `good`/`bad` values are unconfirmed (§2.8, open question 1).
      const eventIds = [
        chats.addEvent(
          chat,
          thread,
          {
            type: 'system_message',
            text: `${customer.name} rated the chat as ${verdict}`,
            system_message_type: 'rating.chat_rated',
            text_vars: { customer: customer.name, score: verdict },
          },
          SYSTEM,
        ).id,
      ];
      if (comment !== undefined) {
        eventIds.push(
          chats.addEvent(
            chat,
            thread,
            {
              type: 'system_message',
              text: `${customer.name} left the following comment: ${comment}`,
              system_message_type: 'rating.chat_commented',
              text_vars: { customer: customer.name, comment },
            },
            SYSTEM,
          ).id,
        );
      }
      return { chatId: chat.id, threadId: thread.id, eventIds };
    },
    cancelRating: (input) => {
      const body = asBody(input);
      const chat = chatOf(body);
      const customer = customerOf(chat);
      const thread = latestThread(chat);
      if (!thread.properties.rating) {
        throw validationError(`Thread ${thread.id} is not rated`);
      }
      chats.deleteThreadProperties(chat, thread, { rating: ['score', 'comment'] }, CUSTOMER);
      const event = chats.addEvent(
        chat,
        thread,
        {
          type: 'system_message',
          text: `${customer.name} canceled the chat rating`,
          system_message_type: 'rating.chat_rating_canceled',
          text_vars: { customer: customer.name },
        },
        SYSTEM,
      );
      return { chatId: chat.id, threadId: thread.id, eventIds: [event.id] };
    },
    close: (input) => {
      const body = asBody(input);
      const chat = chatOf(body);
      const agentId = optionalString(body, 'agentId');
      if (
        agentId !== undefined &&
        findUserKind(store, chat.organizationId, agentId) === undefined
      ) {
        throw notFound(`User not found: ${agentId}`);
      }
      const thread = chats.deactivate(chat, agentId, agentId === undefined ? SYSTEM : AGENT_APP);
      return { chatId: chat.id, threadId: thread.id };
    },
    deleteEvent: (input) => {
      const body = asBody(input);
      const chat = chatOf(body);
      const eventId = requireString(body, 'eventId');
      const thread = chat.threads.find((candidate) =>
        candidate.events.some((event) => event.id === eventId),
      );
      const event = thread?.events.find((candidate) => candidate.id === eventId);
      if (!thread || !event) {
        throw notFound(`Event not found: ${eventId}`);
      }
      // The Customer Chat API is the customer's: they delete their own events, once.
      if (event.author_id !== customerOf(chat).id) {
        throw new ApiError('authorization', `Event ${eventId} is not the customer's`);
      }
      if (event.deleted === true) {
        throw validationError(`Event ${eventId} is already deleted`);
      }
      chats.deleteEvent(chat, thread, event, CUSTOMER);
      return { chatId: chat.id, threadId: thread.id, eventId };
    },
    removeUser: (input) => {
      const body = asBody(input);
      const chat = chatOf(body);
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
    },
    injectEvent: (input) => {
      const body = asBody(input);
      const chat = chatOf(body);
      const raw = requireObject(body, 'event');
      const thread = latestThread(chat);
      const event = {
        id: nextEventId(thread),
        created_at: clock.timestamp(),
        ...structuredClone(raw),
      } as ChatEvent;
      thread.events.push(event);
      return { chatId: chat.id, threadId: thread.id, eventId: String(event.id) };
    },
    setRoutingStatus: (input) => {
      const body = asBody(input);
      const agentId = requireString(body, 'agentId');
      const status = requireEnum(body, 'status', ROUTING_STATUSES);
      const subject = store.bots.get(agentId) ?? store.agents.get(agentId);
      if (!subject) {
        throw notFound(`Agent not found: ${agentId}`);
      }
      setStatus(subject.organizationId, agentId, status);
      return { agentId, status };
    },
    setBotStatus: (input) => {
      const body = asBody(input);
      const botId = requireString(body, 'botId');
      const status = requireEnum(body, 'status', ROUTING_STATUSES);
      const bot = store.bots.get(botId);
      if (!bot) {
        throw notFound(`Bot not found: ${botId}`);
      }
      setStatus(bot.organizationId, botId, status);
      return { botId, status };
    },
    createBot: (input) => {
      const body = asBody(input);
      const name = requireString(body, 'name');
      const ownerClientId =
        optionalString(body, 'ownerClientId') ?? store.clientApps.keys().next().value;
      if (ownerClientId === undefined || !store.clientApps.has(ownerClientId)) {
        throw validationError('`ownerClientId` must be a seeded client ID');
      }
      const organizationId = optionalString(body, 'organizationId') ?? defaultOrganization();
      if (!store.organizations.has(organizationId)) {
        throw notFound(`Organization not found: ${organizationId}`);
      }
      const status = optionalEnum(body, 'status', ROUTING_STATUSES) ?? 'offline';
      const bot: Bot = {
        id: createHexId(),
        secret: createHexId(),
        organizationId,
        ownerClientId,
        name,
        avatar: undefined,
        maxChatsCount: 6,
        defaultGroupPriority: 'normal',
        jobTitle: undefined,
        groups: [{ id: 0, priority: 'normal' }],
        workScheduler: undefined,
        timezone: undefined,
        type: 'chatbot',
        routingStatus: status,
        createdVia: 'token',
      };
      store.bots.set(bot.id, bot);
      return { id: bot.id, secret: bot.secret };
    },
    getChat: (input) => {
      const chat = chatOf(asBody(input));
      return {
        id: chat.id,
        organization_id: chat.organizationId,
        threads: chat.threads.map((thread) => serializeThread(chat, thread, FULL_VIEW)),
        users: serializeUsers(store, chat, FULL_VIEW),
        properties: structuredClone(chat.properties),
        access: structuredClone(chat.access),
      };
    },
  };
};
