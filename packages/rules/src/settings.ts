import type { z } from 'zod';
import { RULE_SET } from './registry.js';
import type { SettingsOf } from './rule-set.js';

/** All rule settings, by rule key; `{}` parses to every default. */
export const RuleSettings = RULE_SET.settings;
export type RuleSettings = SettingsOf<typeof RULE_SET.rules>;
/** What the rules file may contain for `defaults:` (every field optional). */
export type RuleSettingsInput = z.input<typeof RuleSettings>;

/**
 * A per-organization override of the defaults (deep partial). Strict and refinement-free at
 * the top level so the config schema can `.extend()` it with the organization's bot.
 */
export const PartialRuleSettings = RULE_SET.overrides;
export type PartialRuleSettings = z.output<typeof PartialRuleSettings>;

/**
 * The settings for one organization: `defaults` with `override` applied, each rule's way
 * (scalars replaced, maps merged per key, `null` removes an optional default). The result is
 * validated again (throws a ZodError, e.g. when `good` uses `{reviewUrl}` and the override
 * removed it).
 */
export const mergeRuleSettings = RULE_SET.merge;
