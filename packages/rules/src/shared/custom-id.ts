import { hash } from 'node:crypto';

// Every event a rule sends carries a deterministic `custom_id`. Before sending, the worker
// looks for it in the thread (it reads get_chat anyway), so a retry, a stalled job or a
// duplicate webhook never sends the same bot message twice.

/** The per-rule prefixes; `idle-whisper` is the optional agent note sent with an idle nudge. */
export const CUSTOM_ID_PREFIXES = {
  'idle-reply': 'nudge-idle-',
  'idle-whisper': 'nudge-idlew-',
  tag: 'nudge-tag-',
  keyword: 'nudge-kw-',
  rating: 'nudge-rate-',
} as const;
export type CustomIdRule = keyof typeof CUSTOM_ID_PREFIXES;

const HEX_LENGTH = 24;

export type CustomIdInput = {
  rule: CustomIdRule;
  organizationId: string;
  chatId: string;
  threadId: string;
  /**
   * What must happen once per thread: idle — the customer event id; tag — the tag;
   * keyword — the normalised keyword; rating — the score.
   */
  key: string;
};

/** The deterministic `custom_id` of a rule's event, e.g. `nudge-idle-<24 hex>` (96 bits). */
export const customIdFor = ({
  rule,
  organizationId,
  chatId,
  threadId,
  key,
}: CustomIdInput): string => {
  // NUL-separated so no two different inputs join to the same string.
  const digest = hash(
    'sha256',
    [rule, organizationId, chatId, threadId, key].join('\u0000'),
    'hex',
  );
  return `${CUSTOM_ID_PREFIXES[rule]}${digest.slice(0, HEX_LENGTH)}`;
};

const PATTERNS = Object.fromEntries(
  Object.entries(CUSTOM_ID_PREFIXES).map(([rule, prefix]) => [
    rule,
    new RegExp(`^${prefix}[0-9a-f]{${HEX_LENGTH}}$`),
  ]),
) as Record<CustomIdRule, RegExp>;

/** True when `id` is a `custom_id` Nudge made (for `rule`, or for any rule). */
export const isOurCustomId = (id: unknown, rule?: CustomIdRule): boolean => {
  if (typeof id !== 'string') {
    return false;
  }
  if (rule !== undefined) {
    return PATTERNS[rule].test(id);
  }
  return Object.values(PATTERNS).some((pattern) => pattern.test(id));
};
