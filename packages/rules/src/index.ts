// The rules: pure decisions and routing, one folder per rule, listed in registry.ts. The
// worker runs them (Redis, BullMQ, LiveChat) through `RuleJobContext`.

export { normaliseKeyword } from './canned-responses/settings.js';
export type { CoreIntent } from './core-route.js';
export { customIdFor, isOurCustomId } from './custom-ids.js';
export { RULE_SET, RULES } from './registry.js';
export { type RouteInput, type RouteIntent, routeWebhook } from './route.js';
export {
  type AnyRule,
  type ChatRef,
  defineJob,
  defineRule,
  type IdParts,
  type InlineOutcome,
  type JobOutcome,
  type JobRequest,
  type Rule,
  type RuleJob,
  type RuleJobContext,
} from './rule.js';
export {
  ALWAYS_NEEDED,
  createRuleSet,
  type OverridesOf,
  type RoutePlan,
  type RuleSet,
  type SettingsOf,
} from './rule-set.js';
export {
  mergeRuleSettings,
  PartialRuleSettings,
  RuleSettings,
  type RuleSettingsInput,
} from './settings.js';
// For writing a rule: the pieces every rule's folder is built from.
export { ChatJobData } from './shared/chat-job.js';
export { customerVisibleText } from './shared/classify.js';
export { type CustomIdKind, customIdOf } from './shared/custom-id.js';
export {
  type Act,
  commonSkip,
  type Decision,
  hasCustomId,
  messagesOf,
  type OutgoingText,
  type Skip,
} from './shared/decision.js';
export type { ChatSnapshot } from './shared/snapshot.js';
export { isCustomerLike, type RoutedWebhook } from './shared/webhook.js';
export { webhookActionsFor } from './webhooks.js';
