import { cannedResponses } from './canned-responses/index.js';
import { idleReply } from './idle-reply/index.js';
import { ratingReactions } from './rating-reactions/index.js';
import { createRuleSet } from './rule-set.js';

/**
 * Every rule Nudge runs, one line each (see CODE_STYLE.md, "Add a rule"). The order is the
 * order of their intents for one webhook. The queue catalog, the route step, the worker's
 * start-up, the concurrency settings and the rules-file schema all read this list.
 */
export const RULES = [idleReply, cannedResponses, ratingReactions] as const;

/** The registry's rules with their schemas, merge, routing and webhooks. */
export const RULE_SET = createRuleSet(RULES);
