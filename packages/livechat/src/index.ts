export {
  type CreateLivechatClientOptions,
  createLivechatClient,
  type LivechatApiVersion,
  type LivechatAuth,
  type LivechatCallObservation,
  type LivechatClient,
  type LivechatIssuerAuth,
  type LivechatLogger,
  type LivechatSkippedEvent,
} from './client/client.js';
export {
  LivechatError,
  type LivechatErrorDetails,
  type LivechatErrorKind,
  LivechatRateLimitedError,
  LivechatRetryableError,
  LivechatUnrecoverableError,
} from './client/errors.js';
export { createRegionStore, type LivechatRegionStore } from './client/region.js';
export type { Visibility, WebhookFilters } from './client/requests.js';
export { Bot, BotSummary, Chat, RegisteredWebhook } from './client/schemas.js';
export { type BotTokenCache, CachedBotToken } from './client/token-cache.js';
export { chatIdOfEnvelope, organizationOf, WebhookEnvelope } from './webhooks/envelope.js';
export { ChatEvent } from './webhooks/events.js';
export {
  isWebhookAction,
  parseWebhookPayload,
  RoutingStatus,
  WEBHOOK_ACTIONS,
  WEBHOOK_PAYLOADS,
  type WebhookAction,
  type WebhookPayload,
} from './webhooks/payloads.js';
