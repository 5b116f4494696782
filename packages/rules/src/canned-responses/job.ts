import { z } from 'zod';
import { defineJob } from '../rule.js';
import { ChatJobData } from '../shared/chat-job.js';
import { decideKeywordSuggestions, decideTagSuggestions } from './decide.js';
import type { CannedResponsesSettings } from './settings.js';

const TagSuggestionsJob = z.object({ ...ChatJobData, tag: z.string().min(1) });
type TagSuggestionsJob = z.output<typeof TagSuggestionsJob>;

const KeywordSuggestionsJob = z.object({
  ...ChatJobData,
  eventId: z.string().min(1),
  keyword: z.string().min(1),
});
type KeywordSuggestionsJob = z.output<typeof KeywordSuggestionsJob>;

/** `tag-suggestions`: whisper the tag's suggested replies to the agents. */
export const tagSuggestionsJob = defineJob<CannedResponsesSettings, TagSuggestionsJob>(
  TagSuggestionsJob,
  ({ organizationId, chatId, threadId, tag }, ctx) =>
    ctx.actOnce({ chatId, threadId }, (chat) =>
      decideTagSuggestions({ chat, organizationId, threadId, tag, settings: ctx.settings }),
    ),
);

/** `keyword-suggestions`: whisper a keyword's suggestions, once per thread. */
export const keywordSuggestionsJob = defineJob<CannedResponsesSettings, KeywordSuggestionsJob>(
  KeywordSuggestionsJob,
  ({ organizationId, chatId, threadId, eventId, keyword }, ctx) =>
    ctx.actOnce({ chatId, threadId }, (chat) =>
      decideKeywordSuggestions({
        chat,
        organizationId,
        threadId,
        eventId,
        keyword,
        settings: ctx.settings,
      }),
    ),
);
