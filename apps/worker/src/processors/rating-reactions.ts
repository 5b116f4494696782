import { RatingReactionJob } from '@nudge/queues';
import { decideRatingReaction } from '@nudge/rules';
import type { Job } from 'bullmq';
import { actOnce, singleMessage } from '../act-once.js';
import type { JobOutcome, WorkerContext } from '../context.js';
import { runRuleJob } from './job-data.js';

/** `rating-reactions` / `react`: whisper the agents what to do about the customer's rating. */
export const reactToRating = (job: Job, ctx: WorkerContext): Promise<JobOutcome> =>
  runRuleJob(
    job,
    ctx,
    RatingReactionJob,
    ({ organizationId, chatId, threadId, score, comment }, organization) =>
      actOnce({
        ctx,
        organization,
        chatId,
        threadId,
        decide: ({ chat }) =>
          singleMessage(
            decideRatingReaction({
              chat,
              organizationId,
              threadId,
              score,
              comment,
              settings: organization.rules.ratingReactions,
            }),
          ),
      }),
  );
