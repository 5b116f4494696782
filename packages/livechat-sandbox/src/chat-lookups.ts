import { notFound } from './errors.js';
import type { Bot, Chat, ChatMember, Store, Thread } from './store.js';

// Finding chats, threads and users in the store, as one organization may: another
// organization's data does not exist for it.

export type UserKind = ChatMember['kind'];

/** Finds a customer, agent or bot of the organization by ID. */
export const findUserKind = (
  store: Store,
  organizationId: string,
  userId: string,
): UserKind | undefined => {
  if (store.customers.get(userId)?.organizationId === organizationId) {
    return 'customer';
  }
  if (store.agents.get(userId)?.organizationId === organizationId) {
    return 'agent';
  }
  if (store.bots.get(userId)?.organizationId === organizationId) {
    return 'bot';
  }
  return undefined;
};

/** Whether `bot` may reach `chat`: a bot token's `chats--access` covers its groups' chats. */
export const botHasAccess = (bot: Bot, chat: Chat): boolean =>
  bot.groups.some((group) => chat.access.group_ids.includes(group.id));

export const requireChat = (store: Store, organizationId: string, chatId: string): Chat => {
  const chat = store.chats.get(chatId);
  // Another organization's chat does not exist for this requester.
  if (!chat || chat.organizationId !== organizationId) {
    throw notFound(`Chat not found: ${chatId}`);
  }
  return chat;
};

export const requireThread = (chat: Chat, threadId: string): Thread => {
  const thread = chat.threads.find((candidate) => candidate.id === threadId);
  if (!thread) {
    throw notFound(`Thread not found: ${threadId}`);
  }
  return thread;
};
