import { z } from 'zod';
import { defineJob } from '../rule.js';
import { ChatJobData } from '../shared/chat-job.js';
import { decideRatingReaction } from './decide.js';
import type { RatingReactionsSettings } from './settings.js';

const RatingReactionJob = z.object({
  ...ChatJobData,
  score: z.union([z.literal(0), z.literal(1)]),
  comment: z.string().optional(),
});
type RatingReactionJob = z.output<typeof RatingReactionJob>;

/** `react`: whisper the agents what to do about the customer's rating. */
export const reactJob = defineJob<RatingReactionsSettings, RatingReactionJob>(
  RatingReactionJob,
  ({ organizationId, chatId, threadId, score, comment }, ctx) =>
    ctx.actOnce({ chatId, threadId }, (chat) =>
      decideRatingReaction({
        chat,
        organizationId,
        threadId,
        score,
        comment,
        settings: ctx.settings,
      }),
    ),
);
