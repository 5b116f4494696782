import { isWithinBusinessHours } from './business-hours.js';
import { classifyAuthor, isAnswerEvent, isWaitingEvent, knownUsersFrom } from './classify.js';
import { customIdFor, isOurCustomId } from './custom-id.js';
import { configuredKeyword, keywordPattern } from './keywords.js';
import {
  type RatingScore,
  type RatingSystemMessage,
  ratingFromProperties,
  ratingFromSystemMessage,
} from './rating.js';
import {
  type CannedResponsesSettings,
  type IdleReplySettings,
  normaliseKeyword,
  type RatingReactionsSettings,
  REVIEW_URL_PLACEHOLDER,
} from './settings.js';
import { type ChatSnapshot, parseTimestamp } from './snapshot.js';

// Fire-time decisions: each reads a fresh get_chat snapshot, so webhook order doesn't matter.
// They never send anything; `act: true` says what to send (as the bot, with `customId`).

/** An event to send: `all` = to the customer, `agents` = a whisper only agents see. */
export type OutgoingText = { text: string; customId: string; visibility: 'all' | 'agents' };
export type Skip<Reason extends string> = { act: false; reason: Reason };

type CommonSkipReason = 'disabled' | 'other thread' | 'thread inactive' | 'already sent';

/**
 * How far ahead of the customer's message's `created_at` + `afterSeconds` a timer may fire
 * and still act (clocks and timer ticks differ a little).
 */
export const IDLE_CLOCK_TOLERANCE_MS = 2_000;

type Thread = ChatSnapshot['thread'];

const commonSkip = (
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

const hasCustomId = (thread: Thread, customId: string): boolean =>
  thread.events.some((event) => event.custom_id === customId);

export type IdleSkipReason =
  | CommonSkipReason
  | 'event not found'
  | 'not a customer message'
  | 'message deleted'
  | 'superseded'
  | 'agent answered'
  | 'max per thread'
  | 'too early'
  | 'outside business hours';

export type IdleReplyDecision =
  | (OutgoingText & { act: true; whisper?: OutgoingText })
  | (Skip<Exclude<IdleSkipReason, 'too early' | 'superseded'>> & { retryAfterMs?: undefined })
  /** Fired before `afterSeconds` had passed by the message's clock: try again after this. */
  | (Skip<'too early'> & { retryAfterMs: number })
  /**
   * Another waiting customer message owns the timer, due `retryAfterMs` from now (0 when
   * already due): a newer one (whether or not its own webhook has arrived yet), or — when this
   * one was deleted — the latest one still waiting.
   */
  | (Skip<'superseded'> & { supersededBy: string; retryAfterMs: number });

export type DecideIdleReplyInput = {
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
      retryAfterMs: dueIn(newest),
    };
  }
  // Our bots' events and system messages are not answers.
  if (later.some((event) => isHuman(event) === 'agent' && isAnswerEvent(event))) {
    return { act: false, reason: 'agent answered' };
  }
  const customId = customIdFor({
    rule: 'idle-reply',
    organizationId,
    chatId: chat.id,
    threadId,
    key: eventId,
  });
  if (hasCustomId(chat.thread, customId)) {
    return { act: false, reason: 'already sent' };
  }
  const sent = events.filter((event) => isOurCustomId(event.custom_id, 'idle-reply')).length;
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
            customId: customIdFor({
              rule: 'idle-whisper',
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

/** A readable whisper: a heading line, then the suggestions numbered one per line. */
export const formatSuggestions = (heading: string, suggestions: readonly string[]): string =>
  [heading, ...suggestions.map((suggestion, index) => `${index + 1}. ${suggestion}`)].join('\n');

export type SuggestionSkipReason =
  | CommonSkipReason
  | 'tag removed'
  | 'keyword not configured'
  | 'keyword no longer in message'
  | 'message deleted'
  | 'not a customer message'
  | 'no suggestions configured';
export type SuggestionDecision = (OutgoingText & { act: true }) | Skip<SuggestionSkipReason>;

export type DecideTagSuggestionsInput = {
  chat: ChatSnapshot;
  organizationId: string;
  threadId: string;
  tag: string;
  settings: CannedResponsesSettings;
};

/** Whether to whisper the tag's suggestions: the thread must be active and still carry the tag. */
export const decideTagSuggestions = ({
  chat,
  organizationId,
  threadId,
  tag,
  settings,
}: DecideTagSuggestionsInput): SuggestionDecision => {
  const skip = commonSkip(settings.enabled, chat, threadId);
  if (skip !== undefined) {
    return skip;
  }
  if (!(chat.thread.tags ?? []).includes(tag)) {
    return { act: false, reason: 'tag removed' };
  }
  const suggestions = Object.hasOwn(settings.byTag, tag) ? (settings.byTag[tag] ?? []) : [];
  if (suggestions.length === 0) {
    return { act: false, reason: 'no suggestions configured' };
  }
  const customId = customIdFor({
    rule: 'tag',
    organizationId,
    chatId: chat.id,
    threadId,
    key: tag,
  });
  if (hasCustomId(chat.thread, customId)) {
    return { act: false, reason: 'already sent' };
  }
  return {
    act: true,
    text: formatSuggestions(`Suggested replies for the tag "${tag}":`, suggestions),
    customId,
    visibility: 'agents',
  };
};

export type DecideKeywordSuggestionsInput = {
  chat: ChatSnapshot;
  organizationId: string;
  threadId: string;
  /** The customer message that mentioned the keyword. */
  eventId: string;
  keyword: string;
  settings: CannedResponsesSettings;
};

/**
 * Whether to whisper a keyword's suggestions: once per keyword per thread, while the keyword is
 * still configured. If the message is in the snapshot and was not a customer's, or was edited
 * so the keyword is gone, no.
 */
export const decideKeywordSuggestions = ({
  chat,
  organizationId,
  threadId,
  eventId,
  keyword,
  settings,
}: DecideKeywordSuggestionsInput): SuggestionDecision => {
  const skip = commonSkip(settings.enabled, chat, threadId);
  if (skip !== undefined) {
    return skip;
  }
  const configured = configuredKeyword(settings.byKeyword, keyword);
  if (configured === undefined) {
    return { act: false, reason: 'keyword not configured' };
  }
  const suggestions = settings.byKeyword[configured] ?? [];
  if (suggestions.length === 0) {
    return { act: false, reason: 'no suggestions configured' };
  }
  const message = chat.thread.events.find((event) => event.id === eventId);
  // Route guesses `customer` for authors it doesn't know yet (webhooks out of order); the
  // snapshot knows. As for idle replies, an author not among the chat's users is an agent.
  if (
    message !== undefined &&
    knownUsersFrom(chat.users).get(String(message.author_id)) !== 'customer'
  ) {
    return { act: false, reason: 'not a customer message' };
  }
  // Deleted (v3.6): the customer took it back, and a bot no longer reads its text.
  if (message?.deleted === true) {
    return { act: false, reason: 'message deleted' };
  }
  if (
    message?.type === 'message' &&
    typeof message.text === 'string' &&
    !keywordPattern(configured).test(message.text)
  ) {
    return { act: false, reason: 'keyword no longer in message' };
  }
  const customId = customIdFor({
    rule: 'keyword',
    organizationId,
    chatId: chat.id,
    threadId,
    key: normaliseKeyword(configured),
  });
  if (hasCustomId(chat.thread, customId)) {
    return { act: false, reason: 'already sent' };
  }
  return {
    act: true,
    text: formatSuggestions(
      `Suggested replies — the customer mentioned "${configured}":`,
      suggestions,
    ),
    customId,
    visibility: 'agents',
  };
};

export type RatingSkipReason = CommonSkipReason | 'rating changed' | 'rating cancelled';
export type RatingReactionDecision = (OutgoingText & { act: true }) | Skip<RatingSkipReason>;

export type DecideRatingReactionInput = {
  chat: ChatSnapshot;
  organizationId: string;
  threadId: string;
  score: RatingScore;
  comment?: string | undefined;
  settings: RatingReactionsSettings;
};

/** The `good` text with `reviewUrl` substituted for `{reviewUrl}`, or appended. */
export const goodRatingText = (settings: RatingReactionsSettings): string => {
  const { good, reviewUrl } = settings;
  if (reviewUrl === undefined) {
    return good;
  }
  return good.includes(REVIEW_URL_PLACEHOLDER)
    ? good.replaceAll(REVIEW_URL_PLACEHOLDER, reviewUrl)
    : `${good} ${reviewUrl}`;
};

const lastRatingMessage = (thread: Thread): RatingSystemMessage | undefined => {
  let last: RatingSystemMessage | undefined;
  for (const event of thread.events) {
    const rating = ratingFromSystemMessage(event);
    if (rating !== undefined && rating.kind !== 'commented') {
      last = rating;
    }
  }
  return last;
};

const lastRatingComment = (thread: Thread): string | undefined => {
  let comment: string | undefined;
  for (const event of thread.events) {
    const rating = ratingFromSystemMessage(event);
    if (rating?.kind === 'canceled') {
      comment = undefined;
    } else if (rating?.comment !== undefined) {
      comment = rating.comment;
    }
  }
  return comment;
};

/**
 * Whether to whisper the reaction to a rating of `score`. The thread's `rating.score` property
 * is the truth when present (a different score → `rating changed`). Without it (the system
 * message may come before the property), the thread's last rating system message decides; with
 * neither, act. The comment is the thread's current one, else the job's.
 */
export const decideRatingReaction = ({
  chat,
  organizationId,
  threadId,
  score,
  comment,
  settings,
}: DecideRatingReactionInput): RatingReactionDecision => {
  const skip = commonSkip(settings.enabled, chat, threadId);
  if (skip !== undefined) {
    return skip;
  }
  const property = ratingFromProperties(chat.thread.properties);
  if (property.score === undefined) {
    const last = lastRatingMessage(chat.thread);
    if (last?.kind === 'canceled') {
      return { act: false, reason: 'rating cancelled' };
    }
    if (last?.kind === 'rated' && last.score !== score) {
      return { act: false, reason: 'rating changed' };
    }
  } else if (property.score !== score) {
    return { act: false, reason: 'rating changed' };
  }
  const customId = customIdFor({
    rule: 'rating',
    organizationId,
    chatId: chat.id,
    threadId,
    key: String(score),
  });
  if (hasCustomId(chat.thread, customId)) {
    return { act: false, reason: 'already sent' };
  }
  const jobComment = comment?.trim() === '' ? undefined : comment?.trim();
  const currentComment = property.comment ?? lastRatingComment(chat.thread) ?? jobComment;
  const text = score === 1 ? goodRatingText(settings) : settings.bad;
  return {
    act: true,
    text: currentComment === undefined ? text : `${text}\nTheir comment: "${currentComment}"`,
    customId,
    visibility: 'agents',
  };
};
