import type { JobRequest } from '../rule.js';
import type { RoutedWebhook } from '../shared/webhook.js';
import { parseRatingScore, type RatingScore, ratingFromSystemMessage } from './rating.js';
import type { RatingReactionsSettings } from './settings.js';

export type ReactToRatingIntent = {
  kind: 'react-to-rating';
  chatId: string;
  threadId: string;
  score: RatingScore;
  comment?: string;
};

const react = (
  chatId: string,
  threadId: string,
  score: RatingScore,
  comment: string | undefined,
): ReactToRatingIntent => ({
  kind: 'react-to-rating',
  chatId,
  threadId,
  score,
  ...(comment === undefined ? {} : { comment }),
});

/**
 * A score, from the `rating` thread property or a rating system message. A comment alone
 * (`chat_commented`, a comment-only property update) has no score to react to: the reaction
 * to the score reads the comment from the thread at fire time; `chat_rating_canceled` cancels
 * nothing already sent.
 */
export const routeRatingReactions = (
  webhook: RoutedWebhook,
  settings: RatingReactionsSettings,
): ReactToRatingIntent[] => {
  if (!settings.enabled) {
    return [];
  }
  if (webhook.action === 'thread_properties_updated') {
    const { payload } = webhook;
    const rating = Object.hasOwn(payload.properties, 'rating')
      ? payload.properties.rating
      : undefined;
    const score = parseRatingScore(rating?.score);
    if (score === undefined) {
      return [];
    }
    const comment = typeof rating?.comment === 'string' ? rating.comment.trim() : '';
    return [react(payload.chat_id, payload.thread_id, score, comment === '' ? undefined : comment)];
  }
  if (webhook.action !== 'incoming_event' || webhook.thread === undefined) {
    return [];
  }
  const { chatId, threadId, events } = webhook.thread;
  return events.flatMap(({ event, kind }) => {
    const rating =
      kind === 'system' && event.type === 'system_message'
        ? ratingFromSystemMessage(event)
        : undefined;
    return rating?.kind === 'rated' ? [react(chatId, threadId, rating.score, rating.comment)] : [];
  });
};

/** One reaction per (chat, thread, score). */
export const ratingReactionsRequest = (
  { chatId, threadId, score, comment }: ReactToRatingIntent,
  organizationId: string,
): JobRequest => ({
  op: 'add',
  name: 'react',
  data: { organizationId, chatId, threadId, score, ...(comment === undefined ? {} : { comment }) },
  id: ['rating', organizationId, chatId, threadId, String(score)],
});
