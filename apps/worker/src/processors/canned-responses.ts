import { KeywordSuggestionsJob, TagSuggestionsJob } from '@nudge/queues';
import { decideKeywordSuggestions, decideTagSuggestions } from '@nudge/rules';
import type { Job } from 'bullmq';
import { actOnce, singleMessage } from '../act-once.js';
import type { JobOutcome, WorkerContext } from '../context.js';
import { runRuleJob } from './job-data.js';

/** `canned-responses` / `tag-suggestions`: whisper the tag's suggested replies to the agents. */
export const suggestForTag = (job: Job, ctx: WorkerContext): Promise<JobOutcome> =>
  runRuleJob(
    job,
    ctx,
    TagSuggestionsJob,
    ({ organizationId, chatId, threadId, tag }, organization) =>
      actOnce({
        ctx,
        organization,
        chatId,
        threadId,
        decide: ({ chat }) =>
          singleMessage(
            decideTagSuggestions({
              chat,
              organizationId,
              threadId,
              tag,
              settings: organization.rules.cannedResponses,
            }),
          ),
      }),
  );

/** `canned-responses` / `keyword-suggestions`: whisper a keyword's suggestions, once per thread. */
export const suggestForKeyword = (job: Job, ctx: WorkerContext): Promise<JobOutcome> =>
  runRuleJob(
    job,
    ctx,
    KeywordSuggestionsJob,
    ({ organizationId, chatId, threadId, eventId, keyword }, organization) =>
      actOnce({
        ctx,
        organization,
        chatId,
        threadId,
        decide: ({ chat }) =>
          singleMessage(
            decideKeywordSuggestions({
              chat,
              organizationId,
              threadId,
              eventId,
              keyword,
              settings: organization.rules.cannedResponses,
            }),
          ),
      }),
  );
