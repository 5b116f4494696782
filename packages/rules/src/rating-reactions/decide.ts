import type { CustomIdKind } from '../shared/custom-id.js';
import {
  ALREADY_SENT,
  type CommonSkipReason,
  commonSkip,
  type OutgoingText,
  type Skip,
  unsentCustomId,
} from '../shared/decision.js';
import type { ChatSnapshot } from '../shared/snapshot.js';
import {
  type RatingScore,
  type RatingSystemMessage,
  ratingFromProperties,
  ratingFromSystemMessage,
} from './rating.js';
import { type RatingReactionsSettings, REVIEW_URL_PLACEHOLDER } from './settings.js';

// Fire-time decision: reads a fresh get_chat snapshot, so webhook order doesn't matter.

/** The whisper reacting to a rating (keyed by the score). */
export const RATING_REACTION_ID = {
  name: 'rating',
  prefix: 'nudge-rate-',
} as const satisfies CustomIdKind;

type Thread = ChatSnapshot['thread'];

type RatingSkipReason = CommonSkipReason | 'rating changed' | 'rating cancelled';
type RatingReactionDecision = (OutgoingText & { act: true }) | Skip<RatingSkipReason>;

type DecideRatingReactionInput = {
  chat: ChatSnapshot;
  organizationId: string;
  threadId: string;
  score: RatingScore;
  comment?: string | undefined;
  settings: RatingReactionsSettings;
};

/** The `good` text with `reviewUrl` substituted for `{reviewUrl}`, or appended. */
const goodRatingText = (settings: RatingReactionsSettings): string => {
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
  const customId = unsentCustomId(RATING_REACTION_ID, chat, {
    organizationId,
    threadId,
    key: String(score),
  });
  if (customId === undefined) {
    return ALREADY_SENT;
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
