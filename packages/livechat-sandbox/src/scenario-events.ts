import { nextEventId } from './chat-state.js';
import { ApiError, notFound, validationError } from './errors.js';
import type { JsonObject } from './json.js';
import type { EventResult } from './scenario-chats.js';
import { CUSTOMER, customerOf, readChatInput, type ScenarioContext } from './scenario-context.js';
import { type ChatEvent, latestThread } from './store.js';
import { requireObject, requireString } from './validate.js';

// Scenario steps that change events outside a conversation's flow: the customer deletes one,
// a test injects one the sandbox would never make.

export type DeleteEventInput = { chatId: string; eventId: string };
export type InjectEventInput = { chatId: string; event: JsonObject };

export const deleteEvent = (
  { store, chats }: ScenarioContext,
  input: DeleteEventInput,
): EventResult => {
  const { body, chat } = readChatInput(store, input);
  const eventId = requireString(body, 'eventId');
  const thread = chat.threads.find((candidate) =>
    candidate.events.some((event) => event.id === eventId),
  );
  const event = thread?.events.find((candidate) => candidate.id === eventId);
  if (!thread || !event) {
    throw notFound(`Event not found: ${eventId}`);
  }
  // The Customer Chat API is the customer's: they delete their own events, once.
  if (event.author_id !== customerOf(store, chat).id) {
    throw new ApiError('authorization', `Event ${eventId} is not the customer's`);
  }
  if (event.deleted === true) {
    throw validationError(`Event ${eventId} is already deleted`);
  }
  chats.deleteEvent(chat, thread, event, CUSTOMER);
  return { chatId: chat.id, threadId: thread.id, eventId };
};

export const injectEvent = (
  { store, clock }: ScenarioContext,
  input: InjectEventInput,
): EventResult => {
  const { body, chat } = readChatInput(store, input);
  const raw = requireObject(body, 'event');
  const thread = latestThread(chat);
  const event = {
    id: nextEventId(thread),
    created_at: clock.timestamp(),
    ...structuredClone(raw),
  } as ChatEvent;
  thread.events.push(event);
  return { chatId: chat.id, threadId: thread.id, eventId: String(event.id) };
};
