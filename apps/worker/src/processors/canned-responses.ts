import { KeywordSuggestionsJob, TagSuggestionsJob, UnrecoverableError } from '@nudge/queues';
import { decideKeywordSuggestions, decideTagSuggestions } from '@nudge/rules';
import type { Job } from 'bullmq';
import { actOnce } from '../act-once.js';
import { type JobOutcome, skipped, type WorkerContext } from '../context.js';
import { jobIdFor } from '../ids.js';

/** `canned-responses` / `tag-suggestions`: whisper the tag's suggested replies to the agents. */
export const suggestForTag = async (job: Job, ctx: WorkerContext): Promise<JobOutcome> => {
  const data = TagSuggestionsJob.safeParse(job.data);
  if (!data.success) {
    throw new UnrecoverableError(`invalid job data: ${data.error.message}`);
  }
  const { organizationId, chatId, threadId, tag } = data.data;
  const organization = ctx.rules.organizations.get(organizationId);
  if (!organization) {
    return skipped(`organization ${organizationId} is not in the rules file`);
  }
  return actOnce({
    ctx,
    organization,
    chatId,
    threadId,
    lockId: jobIdFor('tag', organizationId, chatId, threadId, tag),
    decide: ({ chat }) => {
      const decision = decideTagSuggestions({
        chat,
        organizationId,
        threadId,
        tag,
        settings: organization.rules.cannedResponses,
      });
      return decision.act ? { act: true, messages: [decision] } : decision;
    },
  });
};

/** `canned-responses` / `keyword-suggestions`: whisper a keyword's suggestions, once per thread. */
export const suggestForKeyword = async (job: Job, ctx: WorkerContext): Promise<JobOutcome> => {
  const data = KeywordSuggestionsJob.safeParse(job.data);
  if (!data.success) {
    throw new UnrecoverableError(`invalid job data: ${data.error.message}`);
  }
  const { organizationId, chatId, threadId, eventId, keyword } = data.data;
  const organization = ctx.rules.organizations.get(organizationId);
  if (!organization) {
    return skipped(`organization ${organizationId} is not in the rules file`);
  }
  return actOnce({
    ctx,
    organization,
    chatId,
    threadId,
    lockId: jobIdFor('keyword', organizationId, chatId, threadId, keyword),
    decide: ({ chat }) => {
      const decision = decideKeywordSuggestions({
        chat,
        organizationId,
        threadId,
        eventId,
        keyword,
        settings: organization.rules.cannedResponses,
      });
      return decision.act ? { act: true, messages: [decision] } : decision;
    },
  });
};
