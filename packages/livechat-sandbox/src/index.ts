export { ApiError } from './errors.js';
export {
  type CallEntry,
  type SentMessage,
  sentMessagesOf,
  type WebhookEntry,
} from './journal.js';
export { createSandbox, type Sandbox, type SandboxOptions } from './sandbox.js';
export { createScenarioClient } from './scenario-client.js';
export {
  ALL_SCOPES,
  createDefaultSeed,
  DEFAULT_AGENT_ID,
  DEFAULT_CLIENT_ID,
  DEFAULT_ORGANIZATION_ID,
  type SandboxSeed,
} from './store.js';
