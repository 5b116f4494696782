import { RatingReactionJob, UnrecoverableError } from '@nudge/queues';
import { decideRatingReaction } from '@nudge/rules';
import type { Job } from 'bullmq';
import { actOnce } from '../act-once.js';
import { type JobOutcome, skipped, type WorkerContext } from '../context.js';
import { jobIdFor } from '../ids.js';

/** `rating-reactions` / `react`: whisper the agents what to do about the customer's rating. */
export const reactToRating = async (job: Job, ctx: WorkerContext): Promise<JobOutcome> => {
  const data = RatingReactionJob.safeParse(job.data);
  if (!data.success) {
    throw new UnrecoverableError(`invalid job data: ${data.error.message}`);
  }
  const { organizationId, chatId, threadId, score, comment } = data.data;
  const organization = ctx.rules.organizations.get(organizationId);
  if (!organization) {
    return skipped(`organization ${organizationId} is not in the rules file`);
  }
  return actOnce({
    ctx,
    organization,
    chatId,
    threadId,
    lockId: jobIdFor('rating', organizationId, chatId, threadId, String(score)),
    decide: ({ chat }) => {
      const decision = decideRatingReaction({
        chat,
        organizationId,
        threadId,
        score,
        comment,
        settings: organization.rules.ratingReactions,
      });
      return decision.act ? { act: true, messages: [decision] } : decision;
    },
  });
};
