import type { OrganizationRules } from '@nudge/config';
import type { Chat } from '@nudge/livechat';
import { type ChatSnapshot, type Decision, type JobOutcome, messagesOf } from '@nudge/rules';
import { REDIS_TTL_MS, releaseLock, setAndReleaseLock, tryLock } from '@nudge/runtime';
import type { WorkerContext } from './context.js';

type ActOnceOptions = {
  ctx: WorkerContext;
  organization: OrganizationRules;
  chatId: string;
  threadId: string;
  /** The rule's decision on the fresh chat. */
  decide: (chat: ChatSnapshot) => Decision;
  /** How long to wait for the chat's lock before giving up (default: two LiveChat timeouts). */
  lockWaitMs?: number;
};

export class SendInProgressError extends Error {
  constructor(chatId: string) {
    super(`another worker has been acting in chat ${chatId} for too long; retrying later`);
    this.name = 'SendInProgressError';
  }
}

const LOCK_POLL_MS = 25;

/**
 * Takes the chat's lock, waiting while another job holds it (the rules of one chat take turns),
 * up to `waitMs`; then gives up with `SendInProgressError` so the job retries later. Returns the
 * token that releases it.
 */
const lockChat = async (
  ctx: WorkerContext,
  key: string,
  chatId: string,
  ttlMs: number,
  waitMs: number,
): Promise<string> => {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const token = await tryLock(ctx.redis, key, ttlMs);
    if (token !== undefined) {
      return token;
    }
    if (Date.now() >= deadline) {
      throw new SendInProgressError(chatId);
    }
    await new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS));
  }
};

/**
 * The organization's bot present in the chat, else its first (default) bot. Users who left stay
 * in `chat.users` with `present: false`: they don't count.
 */
export const chooseBot = (
  organization: Pick<OrganizationRules, 'organizationId' | 'bots'>,
  chat: Pick<Chat, 'users'>,
): string => {
  const present = new Set(
    chat.users.filter((user) => user.present === true).map((user) => user.id),
  );
  const bot =
    organization.bots.find((candidate) => present.has(candidate.id)) ?? organization.bots[0];
  if (!bot) {
    throw new Error(`organization ${organization.organizationId} has no bot`);
  }
  return bot.id;
};

/**
 * Acts as the bot at most once per message `customId`, however often the job runs: a retry,
 * a stalled job re-run by another worker while the first still runs, a kill -9 right after
 * send_event, or a duplicate webhook. Under the chat's lock it re-reads the chat, skips every
 * message whose custom_id is already in the thread (or marked sent in Redis), joins the bot
 * if needed, sends the rest, and marks them sent.
 *
 * The lock is per chat, not per rule: the bot's membership is per chat, and a whisper joining
 * the bot visible to agents only must not land between a nudge's join and its send (LiveChat
 * refuses customer-visible events from such a member). It outlives the LiveChat calls it
 * covers; a worker that dies holding it only delays that chat until it expires.
 */
export const actOnce = async ({
  ctx,
  organization,
  chatId,
  threadId,
  decide,
  lockWaitMs = ctx.livechatTimeoutMs * 2,
}: ActOnceOptions): Promise<JobOutcome> => {
  const { redis, keys } = ctx;
  const lock = keys.chatLock(organization.organizationId, chatId);
  const token = await lockChat(ctx, lock, chatId, ctx.livechatTimeoutMs * 5, lockWaitMs);
  let released = false;
  try {
    const reader = ctx.livechat.asBot(organization, organization.bots[0]?.id ?? '');
    const chat = await reader.getChat({ chat_id: chatId, thread_id: threadId });
    const botId = chooseBot(organization, chat);
    const decision = decide(chat);
    const messages = decision.act ? messagesOf(decision) : [];
    // The bot's status and the messages' sent markers: one round trip.
    const { status, values: markers } = await ctx.botStatus.statusOf(
      organization.organizationId,
      botId,
      messages.map((message) => keys.sent(message.customId)),
    );
    if (status !== 'accepting_chats') {
      return { outcome: 'skipped', reason: `bot ${botId} is not accepting chats (${status})` };
    }
    if (!decision.act) {
      return { outcome: 'skipped', reason: decision.reason };
    }

    const inThread = new Set(chat.thread.events.map((event) => event.custom_id).filter(Boolean));
    const pending = messages.filter(
      (message, i) => !inThread.has(message.customId) && markers[i] === null,
    );
    if (pending.length === 0) {
      return { outcome: 'skipped', reason: 'already sent' };
    }

    const bot = ctx.livechat.asBot(organization, botId);
    // A bot that left stays in the users with `present: false`: not a member.
    const member = chat.users.find((user) => user.id === botId && user.present === true);
    const needsAll = pending.some((message) => message.visibility === 'all');
    // LiveChat only takes events from users present in the chat, and no `all` events from a
    // user added visible to agents alone. A bot that only whispers joins so (the customer never
    // sees it enter); it is added again, visibly, once it has to talk to the customer.
    if (member === undefined || (needsAll && member.visibility === 'agents')) {
      await bot.addUserToChat({
        chat_id: chatId,
        user_id: botId,
        user_type: 'agent',
        visibility: needsAll ? 'all' : 'agents',
        ignore_requester_presence: true,
      });
    }
    const eventIds: string[] = [];
    for (const [i, message] of pending.entries()) {
      const sent = await bot.sendEvent({
        chat_id: chatId,
        event: {
          type: 'message',
          text: message.text,
          visibility: message.visibility,
          custom_id: message.customId,
        },
      });
      eventIds.push(sent.event_id);
      const marker = { key: keys.sent(message.customId), value: sent.event_id };
      if (i < pending.length - 1) {
        await redis.set(marker.key, marker.value, 'PX', REDIS_TTL_MS.sent);
      } else {
        // The last marker and the lock's release: one round trip.
        await setAndReleaseLock(redis, lock, token, { ...marker, ttlMs: REDIS_TTL_MS.sent });
        released = true;
      }
    }
    return { outcome: 'sent', botId, eventIds };
  } finally {
    if (!released) {
      await releaseLock(redis, lock, token);
    }
  }
};
