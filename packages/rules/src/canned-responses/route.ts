import type { JobRequest } from '../rule.js';
import { customerVisibleText } from '../shared/classify.js';
import { type AuthoredEvent, isCustomerLike, type RoutedWebhook } from '../shared/webhook.js';
import { findKeywords } from './keywords.js';
import type { CannedResponsesSettings } from './settings.js';

type SuggestForTagIntent = {
  kind: 'suggest-for-tag';
  chatId: string;
  threadId: string;
  tag: string;
};
type SuggestForKeywordIntent = {
  kind: 'suggest-for-keyword';
  chatId: string;
  threadId: string;
  eventId: string;
  /** The keyword as spelled in the settings. */
  keyword: string;
};
export type CannedResponsesIntent = SuggestForTagIntent | SuggestForKeywordIntent;

const keywordIntents = (
  settings: CannedResponsesSettings,
  chatId: string,
  threadId: string,
  events: readonly AuthoredEvent[],
): SuggestForKeywordIntent[] => {
  const keywords = Object.keys(settings.byKeyword).filter(
    (keyword) => (settings.byKeyword[keyword]?.length ?? 0) > 0,
  );
  if (keywords.length === 0) {
    return [];
  }
  const intents = new Map<string, SuggestForKeywordIntent>();
  for (const { event, kind } of events) {
    const text = isCustomerLike(kind) ? customerVisibleText(event) : undefined;
    for (const keyword of text === undefined ? [] : findKeywords(text, keywords)) {
      // Once per keyword: the first message that mentions it.
      if (!intents.has(keyword)) {
        intents.set(keyword, {
          kind: 'suggest-for-keyword',
          chatId,
          threadId,
          eventId: event.id,
          keyword,
        });
      }
    }
  }
  return [...intents.values()];
};

/**
 * A tag with suggestions configured; keywords in customer messages (the first ones arrive
 * inside incoming_chat; an edit is not a new message, but it may add a keyword).
 */
export const routeCannedResponses = (
  webhook: RoutedWebhook,
  settings: CannedResponsesSettings,
): CannedResponsesIntent[] => {
  if (!settings.enabled) {
    return [];
  }
  if (webhook.action === 'thread_tagged') {
    const { chat_id: chatId, thread_id: threadId, tag } = webhook.payload;
    const configured = Object.hasOwn(settings.byTag, tag) && (settings.byTag[tag]?.length ?? 0) > 0;
    return configured ? [{ kind: 'suggest-for-tag', chatId, threadId, tag }] : [];
  }
  const { thread } = webhook;
  return thread === undefined
    ? []
    : keywordIntents(settings, thread.chatId, thread.threadId, thread.events);
};

export const cannedResponsesRequest = (
  intent: CannedResponsesIntent,
  organizationId: string,
): JobRequest => {
  const { chatId, threadId } = intent;
  if (intent.kind === 'suggest-for-tag') {
    const { tag } = intent;
    return {
      op: 'add',
      name: 'tag-suggestions',
      data: { organizationId, chatId, threadId, tag },
      id: ['tag', organizationId, chatId, threadId, tag],
    };
  }
  // One job per mentioning message (the custom_id keeps the whisper once per thread): a
  // mention skipped at fire time (an agent's message) must not block a later customer's.
  const { eventId, keyword } = intent;
  return {
    op: 'add',
    name: 'keyword-suggestions',
    data: { organizationId, chatId, threadId, eventId, keyword },
    id: ['keyword', organizationId, chatId, threadId, keyword, eventId],
  };
};
