import { defineRule } from '../rule.js';
import { KEYWORD_SUGGESTIONS_ID, TAG_SUGGESTIONS_ID } from './decide.js';
import { keywordSuggestionsJob, tagSuggestionsJob } from './job.js';
import { cannedResponsesRequest, routeCannedResponses } from './route.js';
import {
  CannedResponsesOverride,
  CannedResponsesSettings,
  mergeCannedResponses,
} from './settings.js';

/** Canned responses: a tag or a keyword → the bot whispers suggested replies to the agents. */
export const cannedResponses = defineRule({
  key: 'cannedResponses',
  queue: 'canned-responses',
  settings: CannedResponsesSettings,
  override: CannedResponsesOverride,
  merge: mergeCannedResponses,
  // Tags, and keywords in customer messages (the first one arrives inside incoming_chat; an
  // edited message may add one); user_added_to_chat tells agents' messages from customers'.
  webhooks: [
    'thread_tagged',
    'incoming_chat',
    'incoming_event',
    'event_updated',
    'user_added_to_chat',
  ],
  customIds: [TAG_SUGGESTIONS_ID, KEYWORD_SUGGESTIONS_ID],
  route: routeCannedResponses,
  requestFor: cannedResponsesRequest,
  jobs: { 'tag-suggestions': tagSuggestionsJob, 'keyword-suggestions': keywordSuggestionsJob },
});
