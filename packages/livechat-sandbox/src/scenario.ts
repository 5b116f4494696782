import {
  type BotStatusInput,
  type CreateBotInput,
  createBot,
  type RoutingStatusInput,
  setBotStatus,
  setRoutingStatus,
} from './scenario-agents.js';
import {
  type AgentMessageInput,
  agentMessage,
  type ChatSnapshot,
  type CloseInput,
  type CustomerMessageInput,
  type CustomerMessageResult,
  closeChat,
  customerMessage,
  type EventResult,
  getChat,
  type OpenChatInput,
  type OpenChatResult,
  openChat,
  type RemoveUserInput,
  removeUser,
  type ThreadResult,
} from './scenario-chats.js';
import type { ScenarioContext } from './scenario-context.js';
import {
  type DeleteEventInput,
  deleteEvent,
  type InjectEventInput,
  injectEvent,
} from './scenario-events.js';
import {
  cancelRating,
  type RateInput,
  type RatingResult,
  rate,
  type TagInput,
  type TagResult,
  tagThread,
} from './scenario-threads.js';

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

/** The scenario API over the sandbox's chats. */
export const createScenario = (context: ScenarioContext): Scenario => ({
  openChat: (input = {}) => openChat(context, input),
  customerMessage: (input) => customerMessage(context, input),
  agentMessage: (input) => agentMessage(context, input),
  tag: (input) => tagThread(context, input, true),
  untag: (input) => tagThread(context, input, false),
  rate: (input) => rate(context, input),
  cancelRating: (input) => cancelRating(context, input),
  close: (input) => closeChat(context, input),
  deleteEvent: (input) => deleteEvent(context, input),
  removeUser: (input) => removeUser(context, input),
  injectEvent: (input) => injectEvent(context, input),
  setRoutingStatus: (input) => setRoutingStatus(context, input),
  setBotStatus: (input) => setBotStatus(context, input),
  createBot: (input) => createBot(context, input),
  getChat: (input) => getChat(context, input),
});
