import { isWithinBusinessHours } from '../shared/business-hours.js';
import {
  classifyAuthor,
  isAnswerEvent,
  isWaitingEvent,
  knownUsersFrom,
} from '../shared/classify.js';
import { type CustomIdKind, customIdOf, customIdPattern } from '../shared/custom-id.js';
import {
  ALREADY_SENT,
  type CommonSkipReason,
  commonSkip,
  type OutgoingText,
  type Skip,
  unsentCustomId,
} from '../shared/decision.js';
import { type ChatSnapshot, parseTimestamp } from '../shared/snapshot.js';
import type { IdleReplySettings } from './settings.js';

// Fire-time decision: reads a fresh get_chat snapshot, so webhook order doesn't matter. It
// never sends anything; `act: true` says what to send (as the bot, with `customId`).

/** The nudge to the customer (keyed by the customer event that started the timer). */
export const IDLE_REPLY_ID = {
  name: 'idle-reply',
  prefix: 'nudge-idle-',
} as const satisfies CustomIdKind;
/** The optional note to the agents sent with it. */
export const IDLE_WHISPER_ID = {
  name: 'idle-whisper',
  prefix: 'nudge-idlew-',
} as const satisfies CustomIdKind;
const IDLE_REPLY_PATTERN = customIdPattern(IDLE_REPLY_ID);

/**
 * How far ahead of the customer's message's `created_at` + `afterSeconds` a timer may fire
 * and still act (clocks and timer ticks differ a little).
 */
export const IDLE_CLOCK_TOLERANCE_MS = 2_000;

type IdleSkipReason =
  | CommonSkipReason
  | 'event not found'
  | 'not a customer message'
  | 'message deleted'
  | 'superseded'
  | 'agent answered'
  | 'max per thread'
  | 'too early'
  | 'outside business hours';

type IdleReplyDecision =
  | (OutgoingText & { act: true; whisper?: OutgoingText })
  | (Skip<Exclude<IdleSkipReason, 'too early' | 'superseded'>> & { retryAfterMs?: undefined })
  /** Fired before `afterSeconds` had passed by the message's clock: try again after this. */
  | (Skip<'too early'> & { retryAfterMs: number })
  /**
   * Another waiting customer message owns the timer, due `retryAfterMs` from now (0 when
   * already due): a newer one (whether or not its own webhook has arrived yet), or — when this
   * one was deleted — the latest one still waiting.
   */
  | (Skip<'superseded'> & {
      supersededBy: string;
      /** Its `created_at` (ms), when it has one. */
      supersededAt: number | undefined;
      retryAfterMs: number;
    });

type DecideIdleReplyInput = {
  chat: ChatSnapshot;
  organizationId: string;
  threadId: string;
  /** The customer event that started the timer. */
  eventId: string;
  settings: IdleReplySettings;
  botIds: ReadonlySet<string>;
  /** ms since epoch. */
  now: number;
};

/**
 * Whether the idle timer of `eventId` should nudge the customer now. Authors are classified by
 * the snapshot's users; an author who is neither one of our bots nor among the chat's users is
 * taken for a human agent (customers stay in a chat's users; agents leave on transfer), so an
 * unknown author's message counts as an answer and never as the waiting customer's.
 */
export const decideIdleReply = ({
  chat,
  organizationId,
  threadId,
  eventId,
  settings,
  botIds,
  now,
}: DecideIdleReplyInput): IdleReplyDecision => {
  const skip = commonSkip(settings.enabled, chat, threadId);
  if (skip !== undefined) {
    return skip;
  }
  const { events } = chat.thread;
  const knownUsers = knownUsersFrom(chat.users);
  const isHuman = (event: (typeof events)[number]) => {
    const kind = classifyAuthor({ event, botIds, knownUsers });
    return kind === 'unknown' ? 'agent' : kind;
  };
  const index = events.findIndex((event) => event.id === eventId);
  const trigger = events[index];
  if (trigger === undefined) {
    return { act: false, reason: 'event not found' };
  }
  const dueIn = (event: (typeof events)[number]) =>
    Math.max(0, (parseTimestamp(event.created_at) ?? now) + settings.afterSeconds * 1000 - now);
  if (trigger.deleted === true) {
    // The customer took the message back. Their timer moved to it from an earlier message they
    // may still be waiting on: hand it back to the latest one no human agent answered since.
    const index = events.findLastIndex(
      (event) => isHuman(event) === 'customer' && isWaitingEvent(event),
    );
    const waiting = events[index];
    const answered = events
      .slice(index + 1)
      .some((event) => isHuman(event) === 'agent' && isAnswerEvent(event));
    if (waiting === undefined || answered) {
      return { act: false, reason: 'message deleted' };
    }
    return {
      act: false,
      reason: 'superseded',
      supersededBy: waiting.id,
      supersededAt: parseTimestamp(waiting.created_at),
      retryAfterMs: dueIn(waiting),
    };
  }
  if (isHuman(trigger) !== 'customer' || !isWaitingEvent(trigger)) {
    return { act: false, reason: 'not a customer message' };
  }
  const later = events.slice(index + 1);
  // A newer customer message restarted the timer: the nudge is its to send.
  const newest = later.findLast((event) => isHuman(event) === 'customer' && isWaitingEvent(event));
  if (newest !== undefined) {
    return {
      act: false,
      reason: 'superseded',
      supersededBy: newest.id,
      supersededAt: parseTimestamp(newest.created_at),
      retryAfterMs: dueIn(newest),
    };
  }
  // Our bots' events and system messages are not answers.
  if (later.some((event) => isHuman(event) === 'agent' && isAnswerEvent(event))) {
    return { act: false, reason: 'agent answered' };
  }
  const customId = unsentCustomId(IDLE_REPLY_ID, chat, { organizationId, threadId, key: eventId });
  if (customId === undefined) {
    return ALREADY_SENT;
  }
  const sent = events.filter((event) => IDLE_REPLY_PATTERN.test(event.custom_id ?? '')).length;
  if (sent >= settings.maxPerThread) {
    return { act: false, reason: 'max per thread' };
  }
  const createdAt = parseTimestamp(trigger.created_at);
  const dueAt = createdAt === undefined ? undefined : createdAt + settings.afterSeconds * 1000;
  if (dueAt !== undefined && now < dueAt - IDLE_CLOCK_TOLERANCE_MS) {
    return { act: false, reason: 'too early', retryAfterMs: dueAt - now };
  }
  if (settings.businessHours !== undefined && !isWithinBusinessHours(settings.businessHours, now)) {
    return { act: false, reason: 'outside business hours' };
  }
  return {
    act: true,
    text: settings.message,
    customId,
    visibility: 'all',
    ...(settings.whisper === undefined
      ? {}
      : {
          whisper: {
            text: settings.whisper,
            customId: customIdOf(IDLE_WHISPER_ID, {
              organizationId,
              chatId: chat.id,
              threadId,
              key: eventId,
            }),
            visibility: 'agents' as const,
          },
        }),
  };
};
