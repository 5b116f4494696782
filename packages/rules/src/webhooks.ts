import type { WebhookAction } from '@nudge/livechat';
import { RULE_SET, RULES } from './registry.js';
import type { RuleSettings } from './settings.js';

export { ALWAYS_NEEDED } from './rule-set.js';

/** Which LiveChat webhooks each rule needs (its `webhooks`, read off its route). */
export const WEBHOOKS_BY_RULE = Object.fromEntries(
  RULES.map((rule) => [rule.key, rule.webhooks]),
) as { [K in keyof RuleSettings]: readonly WebhookAction[] };

/** The webhook actions the enabled rules of these settings need, in a stable order. */
export const webhookActionsFor = (settings: readonly RuleSettings[]): WebhookAction[] =>
  RULE_SET.webhooksFor(settings);
