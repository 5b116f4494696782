import type { EventDraft } from './chat-state.js';
import { validationError } from './errors.js';
import type { JsonObject } from './json.js';
import {
  AGENT_APP,
  CUSTOMER,
  customerOf,
  readChatInput,
  type ScenarioContext,
  SYSTEM,
  threadOf,
} from './scenario-context.js';
import { latestThread } from './store.js';
import { optionalInteger, optionalString, requireString } from './validate.js';

// Scenario steps on a thread: agents tag it, the customer rates it.

export type TagInput = { chatId: string; tag: string; threadId?: string };
export type TagResult = { chatId: string; threadId: string; changed: boolean };
export type RateInput = { chatId: string; score: 0 | 1; comment?: string };
export type RatingResult = { chatId: string; threadId: string; eventIds: string[] };

/** Tags (`add`) or untags a thread, from the agent app. */
export const tagThread = (
  { store, chats }: ScenarioContext,
  input: TagInput,
  add: boolean,
): TagResult => {
  const { body, chat } = readChatInput(store, input);
  const thread = threadOf(chat, body);
  const tag = requireString(body, 'tag');
  const changed = add
    ? chats.tag(chat, thread, tag, AGENT_APP)
    : chats.untag(chat, thread, tag, AGENT_APP);
  return { chatId: chat.id, threadId: thread.id, changed };
};

/** A rating system message, `rating.<type>`. */
const ratingMessage = (type: string, text: string, textVars: JsonObject): EventDraft => ({
  type: 'system_message',
  text,
  system_message_type: `rating.${type}`,
  text_vars: textVars,
});

export const rate = ({ store, chats }: ScenarioContext, input: RateInput): RatingResult => {
  const { body, chat } = readChatInput(store, input);
  const score = optionalInteger(body, 'score', 'score', { min: 0, max: 1 });
  if (score === undefined) {
    throw validationError('`score` is required');
  }
  const comment = optionalString(body, 'comment');
  const { name } = customerOf(store, chat);
  // Customers rate the most recent thread, even after it was closed (implied, not stated, by
  // https://platform.text.com/docs/extending-chat-widget/customer-sdk#ratechat).
  const thread = latestThread(chat);
  const rating = { score, ...(comment === undefined ? {} : { comment }) };
  chats.updateThreadProperties(chat, thread, { rating }, CUSTOMER);
  const verdict = score === 1 ? 'good' : 'bad';
  // `text_vars` keys and the `good`/`bad` values are unconfirmed: the docs give only the template
  // (https://platform.text.com/docs/messaging/references/system-activities#ratingchat_rated).
  const messages = [
    ratingMessage('chat_rated', `${name} rated the chat as ${verdict}`, {
      customer: name,
      score: verdict,
    }),
    ...(comment === undefined
      ? []
      : [
          ratingMessage('chat_commented', `${name} left the following comment: ${comment}`, {
            customer: name,
            comment,
          }),
        ]),
  ];
  const eventIds = messages.map((draft) => chats.addEvent(chat, thread, draft, SYSTEM).id);
  return { chatId: chat.id, threadId: thread.id, eventIds };
};

export const cancelRating = (
  { store, chats }: ScenarioContext,
  input: { chatId: string },
): RatingResult => {
  const { chat } = readChatInput(store, input);
  const { name } = customerOf(store, chat);
  const thread = latestThread(chat);
  if (!thread.properties.rating) {
    throw validationError(`Thread ${thread.id} is not rated`);
  }
  chats.deleteThreadProperties(chat, thread, { rating: ['score', 'comment'] }, CUSTOMER);
  const draft = ratingMessage('chat_rating_canceled', `${name} canceled the chat rating`, {
    customer: name,
  });
  const event = chats.addEvent(chat, thread, draft, SYSTEM);
  return { chatId: chat.id, threadId: thread.id, eventIds: [event.id] };
};
