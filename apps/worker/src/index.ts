export { actOnce, type BotMessage, type Decision, SendInProgressError } from './act-once.js';
export { type BotStatus, type BotStatusGate, createBotStatusGate } from './bot-status.js';
export type { JobOutcome, WorkerContext } from './context.js';
export { HANDLERS } from './handlers.js';
export { createLivechatClients, type LivechatClients } from './livechat-clients.js';
export { createProcessor } from './processor.js';
export {
  createSkippedEventReporter,
  EVENTS_SKIPPED_METRIC,
  type SkippedEventReporter,
} from './skipped-events.js';
