import { RULES } from './registry.js';
import { type CustomIdParts, customIdOf, customIdPattern } from './shared/custom-id.js';

// The custom ids of every rule's messages, by kind name (e.g. to find what a test expects).

type Kinds = (typeof RULES)[number]['customIds'][number];

const KINDS = new Map<CustomIdRule, Kinds>(
  RULES.flatMap((rule) => rule.customIds.map((kind) => [kind.name, kind] as const)),
);

/** Each kind's prefix, by name (`idle-reply`, `idle-whisper`, `tag`, `keyword`, `rating`). */
export type CustomIdRule = Kinds['name'];
export const CUSTOM_ID_PREFIXES = Object.fromEntries(
  [...KINDS.values()].map((kind) => [kind.name, kind.prefix]),
) as Readonly<Record<CustomIdRule, string>>;

type CustomIdInput = CustomIdParts & { rule: CustomIdRule };

const kindNamed = (name: CustomIdRule): Kinds => {
  const kind = KINDS.get(name);
  if (kind === undefined) {
    throw new Error(`no rule sends messages of kind ${name}`);
  }
  return kind;
};

/** The deterministic `custom_id` of a rule's message, e.g. `nudge-idle-<24 hex>`. */
export const customIdFor = ({ rule, ...parts }: CustomIdInput): string =>
  customIdOf(kindNamed(rule), parts);

const PATTERNS = new Map<string, RegExp>(
  [...KINDS.values()].map((kind) => [kind.name, customIdPattern(kind)]),
);

/** True when `id` is a `custom_id` Nudge made (for the kind `rule`, or for any). */
export const isOurCustomId = (id: unknown, rule?: CustomIdRule): boolean => {
  if (typeof id !== 'string') {
    return false;
  }
  if (rule !== undefined) {
    return PATTERNS.get(rule)?.test(id) ?? false;
  }
  return [...PATTERNS.values()].some((pattern) => pattern.test(id));
};
