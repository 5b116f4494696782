import { type CustomIdKind, customIdOf } from './custom-id.js';
import type { ChatSnapshot } from './snapshot.js';

/** An event to send: `all` = to the customer, `agents` = a whisper only agents see. */
export type OutgoingText = { text: string; customId: string; visibility: 'all' | 'agents' };
export type Skip<Reason extends string> = { act: false; reason: Reason };
/** Send a message, and optionally a whisper to the agents after it. */
export type Act = OutgoingText & { act: true; whisper?: OutgoingText };

/**
 * A fire-time decision, as every rule returns it and the act-once step consumes it: act (as
 * the bot, once per `customId`), or skip with the reason (shown as the job's outcome).
 */
export type Decision<Reason extends string = string> = Act | Skip<Reason>;

/** The messages a decision sends, in order. */
export const messagesOf = (decision: Act): OutgoingText[] => {
  const { text, customId, visibility, whisper } = decision;
  return [{ text, customId, visibility }, ...(whisper === undefined ? [] : [whisper])];
};

export type CommonSkipReason = 'disabled' | 'other thread' | 'thread inactive' | 'already sent';

type Thread = ChatSnapshot['thread'];

/** The skips every rule shares: disabled, the thread moved on or closed. */
export const commonSkip = (
  enabled: boolean,
  chat: ChatSnapshot,
  threadId: string,
): Skip<CommonSkipReason> | undefined => {
  if (!enabled) {
    return { act: false, reason: 'disabled' };
  }
  // get_chat without thread_id returns the latest thread: a new thread means this one is over.
  if (chat.thread.id !== threadId) {
    return { act: false, reason: 'other thread' };
  }
  // LiveChat only accepts events in active threads (`chat_inactive`).
  if (!chat.thread.active) {
    return { act: false, reason: 'thread inactive' };
  }
  return undefined;
};

export const hasCustomId = (thread: Thread, customId: string): boolean =>
  thread.events.some((event) => event.custom_id === customId);

export const ALREADY_SENT: Skip<'already sent'> = { act: false, reason: 'already sent' };

/** The custom id of a message of `kind` keyed `key` in the thread; undefined once it is there. */
export const unsentCustomId = (
  kind: CustomIdKind,
  chat: ChatSnapshot,
  { organizationId, threadId, key }: { organizationId: string; threadId: string; key: string },
): string | undefined => {
  const customId = customIdOf(kind, { organizationId, chatId: chat.id, threadId, key });
  return hasCustomId(chat.thread, customId) ? undefined : customId;
};
