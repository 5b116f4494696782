import { digestOf } from '@nudge/runtime/ids';

// Every event a rule sends carries a deterministic `custom_id`. Before sending, the worker
// looks for it in the thread (it reads get_chat anyway), so a retry, a stalled job or a
// duplicate webhook never sends the same bot message twice.

/**
 * One kind of message a rule sends: `name` is hashed into its ids, `prefix` starts them.
 * BOTH ARE DATA IN LIVECHAT: changing either makes Nudge blind to messages already sent.
 */
export type CustomIdKind = { readonly name: string; readonly prefix: string };

const HEX_LENGTH = 24;

export type CustomIdParts = {
  organizationId: string;
  chatId: string;
  threadId: string;
  /** What must happen once per thread (e.g. the customer event id, the tag, the score). */
  key: string;
};

/** The deterministic `custom_id` of a message, e.g. `nudge-idle-<24 hex>` (96 bits). */
export const customIdOf = (
  kind: CustomIdKind,
  { organizationId, chatId, threadId, key }: CustomIdParts,
): string => {
  const digest = digestOf([kind.name, organizationId, chatId, threadId, key]);
  return `${kind.prefix}${digest.slice(0, HEX_LENGTH)}`;
};

/** Recognises the custom ids of one kind. */
export const customIdPattern = (kind: CustomIdKind): RegExp =>
  new RegExp(`^${kind.prefix}[0-9a-f]{${HEX_LENGTH}}$`);
