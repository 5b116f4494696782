export { AGENT_ACTIONS } from './agent-api.js';
export { WIDGET_CLIENT_ID } from './chat-state.js';
export type { RoutingStatusSpelling } from './chat-webhooks.js';
export { CONFIGURATION_ACTIONS } from './configuration-api.js';
export type { SandboxCredentials } from './credentials.js';
export { ApiError, ERROR_STATUS, statusForErrorType } from './errors.js';
export type { Fault, FaultSpec, Faults } from './faults.js';
export {
  type CallEntry,
  type CallIdentity,
  type DeliveryEntry,
  type Journal,
  type JournalEntry,
  type SentMessage,
  sentMessagesOf,
  type WebhookEntry,
} from './journal.js';
export type { JsonObject, JsonValue } from './json.js';
export { createSandbox, type Sandbox, type SandboxOptions } from './sandbox.js';
export type { BotSummary, SandboxState, WebhookRegistration } from './sandbox-state.js';
export { SCENARIO_METHODS, type Scenario, type ScenarioMethod } from './scenario.js';
export type {
  BotStatusInput,
  CreateBotInput,
  RoutingStatusInput,
} from './scenario-agents.js';
export type {
  AgentMessageInput,
  ChatSnapshot,
  CloseInput,
  CustomerMessageInput,
  CustomerMessageResult,
  EventResult,
  OpenChatInput,
  OpenChatResult,
  RemoveUserInput,
  ThreadResult,
} from './scenario-chats.js';
export { createScenarioClient, type ScenarioClient } from './scenario-client.js';
export type { DeleteEventInput, InjectEventInput } from './scenario-events.js';
export type { RateInput, RatingResult, TagInput, TagResult } from './scenario-threads.js';
export {
  type AgentRole,
  ALL_SCOPES,
  BOT_TOKEN_SCOPES,
  createDefaultSeed,
  DEFAULT_ACCOUNT_ID,
  DEFAULT_AGENT_ID,
  DEFAULT_AGENT_TOKEN,
  DEFAULT_CLIENT_ID,
  DEFAULT_ORGANIZATION_ID,
  DEFAULT_PAT,
  type RoutingStatus,
  type SandboxSeed,
  type SeedAccount,
  type SeedBot,
  type SeedClientApp,
  type SeedOrganization,
} from './store.js';
export type { DeliveryTimings } from './webhooks.js';
