import type { WebhookAction } from '@nudge/livechat';
import { z } from 'zod';
import { type CoreIntent, routeCore } from './core-route.js';
import type { AnyRule, JobRequest, Rule } from './rule.js';
import { type ParsedWebhook, type RouteContext, routedWebhook } from './shared/webhook.js';

// A set of rules (the registry's, or a test's with one more) and everything derived from it:
// the rules-file schemas, the merge of defaults and overrides, routing, and the webhooks
// setup registers. Nothing outside a rule's folder names a rule.

type SettingsShape<R extends readonly AnyRule[]> = {
  [K in R[number] as K['key']]: z.ZodPrefault<K['settings']>;
};
type OverridesShape<R extends readonly AnyRule[]> = {
  [K in R[number] as K['key']]: z.ZodOptional<K['override']>;
};

/** Every rule's settings of a set, by rule key. */
export type SettingsOf<R extends readonly AnyRule[]> = z.output<z.ZodObject<SettingsShape<R>>>;
/** A per-organization override of a set's settings. */
export type OverridesOf<R extends readonly AnyRule[]> = z.output<z.ZodObject<OverridesShape<R>>>;

/** The intents of a set's rules. */
export type IntentOf<R extends readonly AnyRule[]> = R[number] extends infer Each
  ? Each extends Rule<string, z.ZodType, z.ZodType, infer Intent>
    ? Intent
    : never
  : never;

export type RouteInputOf<R extends readonly AnyRule[]> = RouteContext &
  ParsedWebhook & { settings: SettingsOf<R> };

/** What the route step does about one webhook. */
export type RoutePlan<R extends readonly AnyRule[]> = {
  /** Every intent, core first, then each rule's in registry order. */
  intents: (CoreIntent | IntentOf<R>)[];
  /** The intents Nudge keeps for itself (who is who in a chat, bot statuses). */
  core: CoreIntent[];
  /** The jobs the rules' intents become, each for its rule's queue. */
  jobs: { rule: R[number]; request: JobRequest }[];
};

export type RuleSet<R extends readonly AnyRule[]> = {
  rules: R;
  /** `defaults:` in the rules file; `{}` parses to every default. */
  settings: z.ZodObject<SettingsShape<R>, z.core.$strict>;
  /** An organization's override (deep partial); strict, so the rules file can `.extend()` it. */
  overrides: z.ZodObject<OverridesShape<R>, z.core.$strict>;
  /** The settings for one organization: `defaults` with `override` applied, validated again. */
  merge(defaults: SettingsOf<R>, override: OverridesOf<R> | undefined): SettingsOf<R>;
  plan(input: RouteInputOf<R>): RoutePlan<R>;
  /** The webhook actions the enabled rules of these settings need, in a stable order. */
  webhooksFor(settings: readonly SettingsOf<R>[]): WebhookAction[];
};

/** Every setup needs these: the bot status gate reads routing_status_set. */
export const ALWAYS_NEEDED: readonly WebhookAction[] = ['routing_status_set'];

const byKey = <T>(rules: readonly AnyRule[], value: (rule: AnyRule) => T) =>
  Object.fromEntries(rules.map((rule) => [rule.key, value(rule)]));

const settingOf = (settings: object, rule: AnyRule): unknown =>
  (settings as Record<string, unknown>)[rule.key];

/** Derives the schemas, merge, routing and webhooks of a set of rules. */
export const createRuleSet = <const R extends readonly AnyRule[]>(rules: R): RuleSet<R> => {
  // The shapes are built from the list at run time; their types come from the list's type.
  const settings = z.strictObject(
    byKey(rules, (rule) => rule.settings.prefault({})),
  ) as unknown as RuleSet<R>['settings'];
  const overrides = z.strictObject(
    byKey(rules, (rule) => rule.override.optional()),
  ) as unknown as RuleSet<R>['overrides'];
  return {
    rules,
    settings,
    overrides,
    merge: (defaults, override) =>
      settings.parse(
        byKey(rules, (rule) =>
          rule.merge(settingOf(defaults, rule), override && settingOf(override, rule)),
        ),
      ) as SettingsOf<R>,
    plan: (input) => {
      const webhook = routedWebhook(input);
      const core = routeCore(input);
      const intents: (CoreIntent | IntentOf<R>)[] = [...core];
      const jobs: RoutePlan<R>['jobs'] = [];
      for (const rule of rules) {
        for (const intent of rule.route(webhook, settingOf(input.settings, rule))) {
          intents.push(intent as IntentOf<R>);
          jobs.push({ rule, request: rule.requestFor(intent, input.organizationId) });
        }
      }
      return { intents, core, jobs };
    },
    webhooksFor: (all) => {
      const needed = new Set<WebhookAction>(ALWAYS_NEEDED);
      for (const organization of all) {
        for (const rule of rules) {
          if ((settingOf(organization, rule) as { enabled?: boolean }).enabled !== false) {
            for (const action of rule.webhooks) {
              needed.add(action);
            }
          }
        }
      }
      return [...needed].sort();
    },
  };
};
