import { knownUsersFrom } from '../shared/classify.js';
import type { CustomIdKind } from '../shared/custom-id.js';
import {
  ALREADY_SENT,
  type CommonSkipReason,
  commonSkip,
  type OutgoingText,
  type Skip,
  unsentCustomId,
} from '../shared/decision.js';
import type { ChatSnapshot } from '../shared/snapshot.js';
import { configuredKeyword, keywordPattern } from './keywords.js';
import { type CannedResponsesSettings, normaliseKeyword } from './settings.js';

// Fire-time decisions: each reads a fresh get_chat snapshot, so webhook order doesn't matter.

/** The whisper of a tag's suggestions (keyed by the tag). */
export const TAG_SUGGESTIONS_ID = {
  name: 'tag',
  prefix: 'nudge-tag-',
} as const satisfies CustomIdKind;
/** The whisper of a keyword's suggestions (keyed by the normalised keyword). */
export const KEYWORD_SUGGESTIONS_ID = {
  name: 'keyword',
  prefix: 'nudge-kw-',
} as const satisfies CustomIdKind;

/** A readable whisper: a heading line, then the suggestions numbered one per line. */
const formatSuggestions = (heading: string, suggestions: readonly string[]): string =>
  [heading, ...suggestions.map((suggestion, index) => `${index + 1}. ${suggestion}`)].join('\n');

type SuggestionSkipReason =
  | CommonSkipReason
  | 'tag removed'
  | 'keyword not configured'
  | 'keyword no longer in message'
  | 'message deleted'
  | 'not a customer message'
  | 'no suggestions configured';
type SuggestionDecision = (OutgoingText & { act: true }) | Skip<SuggestionSkipReason>;

type DecideTagSuggestionsInput = {
  chat: ChatSnapshot;
  organizationId: string;
  threadId: string;
  tag: string;
  settings: CannedResponsesSettings;
};

/** Whether to whisper the tag's suggestions: the thread must be active and still carry the tag. */
export const decideTagSuggestions = ({
  chat,
  organizationId,
  threadId,
  tag,
  settings,
}: DecideTagSuggestionsInput): SuggestionDecision => {
  const skip = commonSkip(settings.enabled, chat, threadId);
  if (skip !== undefined) {
    return skip;
  }
  if (!(chat.thread.tags ?? []).includes(tag)) {
    return { act: false, reason: 'tag removed' };
  }
  const suggestions = Object.hasOwn(settings.byTag, tag) ? (settings.byTag[tag] ?? []) : [];
  if (suggestions.length === 0) {
    return { act: false, reason: 'no suggestions configured' };
  }
  const customId = unsentCustomId(TAG_SUGGESTIONS_ID, chat, { organizationId, threadId, key: tag });
  if (customId === undefined) {
    return ALREADY_SENT;
  }
  return {
    act: true,
    text: formatSuggestions(`Suggested replies for the tag "${tag}":`, suggestions),
    customId,
    visibility: 'agents',
  };
};

type DecideKeywordSuggestionsInput = {
  chat: ChatSnapshot;
  organizationId: string;
  threadId: string;
  /** The customer message that mentioned the keyword. */
  eventId: string;
  keyword: string;
  settings: CannedResponsesSettings;
};

/**
 * Whether to whisper a keyword's suggestions: once per keyword per thread, while the keyword is
 * still configured. If the message is in the snapshot and was not a customer's, or was edited
 * so the keyword is gone, no.
 */
export const decideKeywordSuggestions = ({
  chat,
  organizationId,
  threadId,
  eventId,
  keyword,
  settings,
}: DecideKeywordSuggestionsInput): SuggestionDecision => {
  const skip = commonSkip(settings.enabled, chat, threadId);
  if (skip !== undefined) {
    return skip;
  }
  const configured = configuredKeyword(settings.byKeyword, keyword);
  if (configured === undefined) {
    return { act: false, reason: 'keyword not configured' };
  }
  const suggestions = settings.byKeyword[configured] ?? [];
  if (suggestions.length === 0) {
    return { act: false, reason: 'no suggestions configured' };
  }
  const message = chat.thread.events.find((event) => event.id === eventId);
  // Route guesses `customer` for authors it doesn't know yet (webhooks out of order); the
  // snapshot knows. As for idle replies, an author not among the chat's users is an agent.
  if (
    message !== undefined &&
    knownUsersFrom(chat.users).get(String(message.author_id)) !== 'customer'
  ) {
    return { act: false, reason: 'not a customer message' };
  }
  // Deleted (v3.6): the customer took it back, and a bot no longer reads its text.
  if (message?.deleted === true) {
    return { act: false, reason: 'message deleted' };
  }
  if (
    message?.type === 'message' &&
    typeof message.text === 'string' &&
    !keywordPattern(configured).test(message.text)
  ) {
    return { act: false, reason: 'keyword no longer in message' };
  }
  const customId = unsentCustomId(KEYWORD_SUGGESTIONS_ID, chat, {
    organizationId,
    threadId,
    key: normaliseKeyword(configured),
  });
  if (customId === undefined) {
    return ALREADY_SENT;
  }
  return {
    act: true,
    text: formatSuggestions(
      `Suggested replies — the customer mentioned "${configured}":`,
      suggestions,
    ),
    customId,
    visibility: 'agents',
  };
};
