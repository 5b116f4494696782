import { defineRule } from '../rule.js';
import { RATING_REACTION_ID } from './decide.js';
import { reactJob } from './job.js';
import { ratingReactionsRequest, routeRatingReactions } from './route.js';
import {
  mergeRatingReactions,
  RatingReactionsOverride,
  RatingReactionsSettings,
} from './settings.js';

/** Rating reaction: the customer rates the chat → the bot whispers the agents what to do next. */
export const ratingReactions = defineRule({
  key: 'ratingReactions',
  queue: 'rating-reactions',
  settings: RatingReactionsSettings,
  override: RatingReactionsOverride,
  merge: mergeRatingReactions,
  // The rating thread property, and the rating system messages.
  webhooks: ['thread_properties_updated', 'incoming_event'],
  customIds: [RATING_REACTION_ID],
  route: routeRatingReactions,
  requestFor: ratingReactionsRequest,
  jobs: { react: reactJob },
});
