import { FIXTURE_BOT_ID, FIXTURE_CUSTOMER_ID } from '@nudge/livechat/testing';

// The chats of a bench are made up, and everything the fake LiveChat has to answer about one is
// in its id: its kind, and for a waiting customer the time of their message. The load
// generator and the fake share this module, so they need no other channel.

/** A chat whose thread carries the tag `refund` (the tag → whisper rule). */
export const tagChatId = (label: string, n: number): string => `T-${label}-${n}`;

/** A chat where the customer wrote at `createdAtMs` and waits (the idle-reply rule). */
export const idleChatId = (label: string, n: number, createdAtMs: number): string =>
  `I-${createdAtMs}-${label}-${n}`;

export const threadIdOf = (chatId: string): string => `${chatId}_t`;
export const customerEventIdOf = (chatId: string): string => `${threadIdOf(chatId)}_1`;

/** When the customer of an idle chat wrote (ms), or undefined for another kind of chat. */
export const createdAtOf = (chatId: string): number | undefined => {
  const match = /^I-(\d+)-/.exec(chatId);
  return match ? Number(match[1]) : undefined;
};

/** What get_chat answers for `chatId`: an active thread, the customer and the bot present. */
export const chatSnapshot = (chatId: string, threadId: string = threadIdOf(chatId)) => {
  const createdAt = createdAtOf(chatId);
  return {
    id: chatId,
    users: [
      { id: FIXTURE_CUSTOMER_ID, type: 'customer', name: 'Jane', present: true },
      // Present and visible to all: neither pipeline has to add the bot before it talks.
      { id: FIXTURE_BOT_ID, type: 'agent', name: 'Bench Bot', present: true, visibility: 'all' },
    ],
    thread: {
      id: threadId,
      active: true,
      user_ids: [FIXTURE_CUSTOMER_ID, FIXTURE_BOT_ID],
      tags: createdAt === undefined ? ['refund'] : [],
      properties: {},
      events:
        createdAt === undefined
          ? []
          : [
              {
                id: customerEventIdOf(chatId),
                type: 'message',
                text: 'Hello? Anyone there?',
                author_id: FIXTURE_CUSTOMER_ID,
                created_at: new Date(createdAt).toISOString(),
                visibility: 'all',
              },
            ],
    },
    properties: {},
  };
};

/** A monotonic clock in ms shared by every process of the machine (CLOCK_MONOTONIC). */
export const monotonicMs = (): number => Number(process.hrtime.bigint()) / 1e6;
