import type { CoreIntent } from './core-route.js';
import { RULE_SET } from './registry.js';
import type { IntentOf, RouteInputOf } from './rule-set.js';

/** One parsed webhook with what routing needs to know (the registry's rules). */
export type RouteInput = RouteInputOf<typeof RULE_SET.rules>;
/** What the route step should do for one webhook. */
export type RouteIntent = CoreIntent | IntentOf<typeof RULE_SET.rules>;

/**
 * The route step's decision for one webhook: which rule jobs to schedule or cancel and what
 * to remember. Pure; events by our own bots yield nothing, disabled rules yield nothing.
 */
export const routeWebhook = (input: RouteInput): RouteIntent[] => RULE_SET.plan(input).intents;
