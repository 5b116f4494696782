import { afterAll, beforeAll, describe, it } from 'vitest';
import {
  botEventsIn,
  chatEventsWithCustomId,
  createdAtOf,
  elapse,
  eventIdOfRun,
  jobsOfChat,
  only,
  outcomeOf,
  PREFIX,
  routedTo,
  waitForBotEventsIn,
  waitForFinishedJob,
  waitForRouted,
  waitUntilSettled,
} from './e2e-helpers.js';
import type { Stack } from './stack.js';

// The three rules end to end, LiveChat delivering webhooks straight to ingest in its own order,
// on whatever Redis the stack runs on (one server, or a Redis Cluster). Every test plays its own
// chats, so they run concurrently against one stack.

const AFTER_SECONDS = 5;
const IDLE_TEXT = 'E2E: thanks for waiting';
const TAG_TEXT =
  'Suggested replies for the tag "refund":\n1. Refunds take 3–5 days.\n2. Your order number?';
const KEYWORD_TEXT =
  'Suggested replies — the customer mentioned "where is my order":\n1. Track it at https://example.com/track';
const GOOD_TEXT = 'E2E good: ask for a review at https://example.com/review';
const BAD_TEXT = 'E2E bad: ask what went wrong';

/**
 * Declares the rule scenarios (idle reply, canned responses, rating reactions, each acting
 * exactly once) against the stack `start` resolves with, started before them and stopped after
 * them. Returns the running stack, for more assertions in the calling file.
 */
export const describeRuleScenarios = (start: () => Promise<Stack>): (() => Stack) => {
  let stack: Stack;
  let agentId: string;
  beforeAll(async () => {
    stack = await start();
    await stack.setBotStatus('accepting_chats');
    agentId = stack.sandbox.credentials.agentId;
  }, 30_000);
  afterAll(() => stack?.stop());

  /** A customer opens a chat (with an agent in it) and asks something: the idle timer starts. */
  const waitingChat = (agentIds: string[] = []) =>
    stack.sandbox.scenario.openChat({
      message: 'Hello, anyone there?',
      agentIds: [agentId, ...agentIds],
    });

  describe.concurrent('idle reply', () => {
    it('nudges a waiting customer exactly once, visibly, not before afterSeconds', async ({
      expect,
    }) => {
      const { chatId, eventIds } = waitingChat();
      const [nudge] = await waitForBotEventsIn(stack, chatId, PREFIX.idle);
      expect(nudge).toMatchObject({ visibility: 'all', text: IDLE_TEXT, botId: stack.botId });
      const askedAt = createdAtOf(stack, chatId, eventIds[0] ?? '');
      expect(nudge?.at).toBeGreaterThanOrEqual(askedAt + AFTER_SECONDS * 1000);

      await waitUntilSettled(stack, ['livechat-events', 'idle-reply'], chatId);
      expect(botEventsIn(stack, chatId)).toHaveLength(1);
      expect(chatEventsWithCustomId(stack, chatId, PREFIX.idle)).toHaveLength(1);
      const job = only(await jobsOfChat(stack, 'idle-reply', chatId, ['completed']), 'idle job');
      expect(outcomeOf(job)).toMatchObject({ outcome: 'sent', botId: stack.botId });
    });

    it('does not nudge when an agent answered (control chat is nudged)', async ({ expect }) => {
      const control = waitingChat();
      const answered = waitingChat();
      // The agent answers once the chat is routed, so its users are known and the reply reads as
      // an agent's (a reply routed first reads as unknown and is caught at fire time instead).
      await waitForRouted(stack, answered.chatId, 1);
      stack.sandbox.scenario.agentMessage({
        chatId: answered.chatId,
        agentId,
        text: 'Hi, how can I help?',
      });

      // The agent's webhook cancelled the timer.
      await waitForRouted(stack, answered.chatId, 1, routedTo('cancel-idle-reply'));

      // The control chat's nudge proves afterSeconds passed with the rule running.
      await waitForBotEventsIn(stack, control.chatId, PREFIX.idle);
      await waitUntilSettled(stack, ['livechat-events', 'idle-reply'], answered.chatId);
      expect(botEventsIn(stack, answered.chatId)).toEqual([]);
      expect(chatEventsWithCustomId(stack, answered.chatId)).toEqual([]);
      for (const job of await jobsOfChat(stack, 'idle-reply', answered.chatId)) {
        expect(outcomeOf(job)).toEqual({ outcome: 'skipped', reason: 'agent answered' });
      }
    });

    it('does not nudge into a closed chat (control chat is nudged)', async ({ expect }) => {
      const control = waitingChat();
      const closed = waitingChat();
      stack.sandbox.scenario.close({ chatId: closed.chatId, agentId });
      await waitForRouted(stack, closed.chatId, 1, routedTo('cancel-idle-reply'));

      await waitForBotEventsIn(stack, control.chatId, PREFIX.idle);
      await waitUntilSettled(stack, ['livechat-events', 'idle-reply'], closed.chatId);
      expect(botEventsIn(stack, closed.chatId)).toEqual([]);
      expect(chatEventsWithCustomId(stack, closed.chatId)).toEqual([]);
      for (const job of await jobsOfChat(stack, 'idle-reply', closed.chatId)) {
        expect(outcomeOf(job)).toEqual({ outcome: 'skipped', reason: 'thread inactive' });
      }
    });

    it('restarts the timer on a new customer message: one nudge, afterSeconds after the last', async ({
      expect,
    }) => {
      const { chatId } = waitingChat();
      await elapse(2_500); // the customer writes again before the nudge is due
      const { eventId } = stack.sandbox.scenario.customerMessage({ chatId, text: 'Hello??' });
      const lastAt = createdAtOf(stack, chatId, eventId);

      const [nudge] = await waitForBotEventsIn(stack, chatId, PREFIX.idle);
      expect(nudge?.at).toBeGreaterThanOrEqual(lastAt + AFTER_SECONDS * 1000);
      await waitUntilSettled(stack, ['livechat-events', 'idle-reply'], chatId);
      expect(botEventsIn(stack, chatId, PREFIX.idle)).toHaveLength(1);
      expect(chatEventsWithCustomId(stack, chatId, PREFIX.idle)).toHaveLength(1);
    });

    it('stops at maxPerThread (1): a customer waiting again is not nudged twice', async ({
      expect,
    }) => {
      const { chatId } = waitingChat();
      await waitForBotEventsIn(stack, chatId, PREFIX.idle);
      const { eventId } = stack.sandbox.scenario.customerMessage({
        chatId,
        text: 'Still waiting…',
      });

      const job = await waitForFinishedJob(
        stack,
        'idle-reply',
        chatId,
        (candidate) => candidate.data.eventId === eventId,
      );
      expect(outcomeOf(job)).toEqual({ outcome: 'skipped', reason: 'max per thread' });
      await waitUntilSettled(stack, ['livechat-events', 'idle-reply'], chatId);
      expect(botEventsIn(stack, chatId, PREFIX.idle)).toHaveLength(1);
      expect(chatEventsWithCustomId(stack, chatId, PREFIX.idle)).toHaveLength(1);
    });

    it("does not take the bot's own message for an agent's answer", async ({ expect }) => {
      const { chatId } = waitingChat([stack.botId]);
      stack.sandbox.scenario.agentMessage({
        chatId,
        agentId: stack.botId,
        text: 'Bot: one moment',
      });

      const [nudge] = await waitForBotEventsIn(stack, chatId, PREFIX.idle);
      expect(nudge).toMatchObject({ visibility: 'all', text: IDLE_TEXT });
      await waitUntilSettled(stack, ['livechat-events', 'idle-reply'], chatId);
      expect(chatEventsWithCustomId(stack, chatId, PREFIX.idle)).toHaveLength(1);
    });

    it('nudges the customer in a chat the bot joined to whisper to the agents', async ({
      expect,
    }) => {
      // The keyword whisper adds the bot visible to agents only; LiveChat refuses `all` events
      // from such a user, so the nudge must make the bot visible first.
      const { chatId } = stack.sandbox.scenario.openChat({
        message: 'Where is my order?',
        agentIds: [agentId],
      });
      await waitForBotEventsIn(stack, chatId, PREFIX.keyword);

      const job = await waitForFinishedJob(stack, 'idle-reply', chatId);
      expect(job.failedReason ?? '').toBe('');
      expect(outcomeOf(job).outcome).toBe('sent');
      const [nudge] = await waitForBotEventsIn(stack, chatId, PREFIX.idle);
      expect(nudge).toMatchObject({ visibility: 'all', text: IDLE_TEXT, botId: stack.botId });
      expect(chatEventsWithCustomId(stack, chatId, PREFIX.idle)).toHaveLength(1);
    });
  });

  describe.concurrent('canned responses', () => {
    it('whispers the tag suggestions once', async ({ expect }) => {
      const { chatId } = stack.sandbox.scenario.openChat({ agentIds: [agentId] });
      stack.sandbox.scenario.tag({ chatId, tag: 'refund' });

      const [whisper] = await waitForBotEventsIn(stack, chatId, PREFIX.tag);
      expect(whisper).toMatchObject({ visibility: 'agents', text: TAG_TEXT, botId: stack.botId });
      await waitUntilSettled(stack, ['livechat-events', 'canned-responses'], chatId);
      expect(botEventsIn(stack, chatId)).toHaveLength(1);
      expect(chatEventsWithCustomId(stack, chatId)).toHaveLength(1);
    });

    it('does not whisper into an inactive thread', async ({ expect }) => {
      const { chatId, threadId } = stack.sandbox.scenario.openChat({ agentIds: [agentId] });
      stack.sandbox.scenario.close({ chatId, agentId });
      stack.sandbox.scenario.tag({ chatId, threadId, tag: 'refund' });

      const job = await waitForFinishedJob(stack, 'canned-responses', chatId);
      expect(outcomeOf(job)).toEqual({ outcome: 'skipped', reason: 'thread inactive' });
      expect(botEventsIn(stack, chatId)).toEqual([]);
      expect(chatEventsWithCustomId(stack, chatId)).toEqual([]);
    });

    it('whispers a keyword suggestion once per thread, however often it is mentioned', async ({
      expect,
    }) => {
      const { chatId } = stack.sandbox.scenario.openChat({ message: 'Hi! Where is my order?' });
      const [whisper] = await waitForBotEventsIn(stack, chatId, PREFIX.keyword);
      expect(whisper).toMatchObject({ visibility: 'agents', text: KEYWORD_TEXT });

      const again = stack.sandbox.scenario.customerMessage({
        chatId,
        text: 'where is my order, seriously',
      });
      const second = await waitForFinishedJob(
        stack,
        'canned-responses',
        chatId,
        (job) => eventIdOfRun(job) === again.eventId,
      );
      expect(outcomeOf(second)).toEqual({ outcome: 'skipped', reason: 'already sent' });
      // Both messages were routed, each asking for the keyword's suggestions, and all ran.
      await waitForRouted(stack, chatId, 2, routedTo('suggest-for-keyword'));
      await waitUntilSettled(stack, ['livechat-events', 'canned-responses'], chatId);
      expect(botEventsIn(stack, chatId, PREFIX.keyword)).toHaveLength(1);
      expect(chatEventsWithCustomId(stack, chatId, PREFIX.keyword)).toHaveLength(1);
    });
  });

  describe.concurrent('rating reactions', () => {
    it('whispers the review ask once for a good rating, though both signals arrive', async ({
      expect,
    }) => {
      const { chatId } = stack.sandbox.scenario.openChat({ agentIds: [agentId] });
      stack.sandbox.scenario.rate({ chatId, score: 1 });

      const [whisper] = await waitForBotEventsIn(stack, chatId, PREFIX.rating);
      expect(whisper).toMatchObject({ visibility: 'agents', text: GOOD_TEXT });
      // thread_properties_updated and the rating.chat_rated system message each asked to react.
      await waitForRouted(stack, chatId, 2, routedTo('react-to-rating'));
      await waitUntilSettled(stack, ['livechat-events', 'rating-reactions'], chatId);
      expect(botEventsIn(stack, chatId)).toHaveLength(1);
      expect(chatEventsWithCustomId(stack, chatId)).toHaveLength(1);
    });

    it("whispers the bad-rating ask with the customer's comment", async ({ expect }) => {
      const { chatId } = stack.sandbox.scenario.openChat({ agentIds: [agentId] });
      stack.sandbox.scenario.rate({ chatId, score: 0, comment: 'Took ages' });

      const [whisper] = await waitForBotEventsIn(stack, chatId, PREFIX.rating);
      expect(whisper).toMatchObject({
        visibility: 'agents',
        text: `${BAD_TEXT}\nTheir comment: "Took ages"`,
      });
      await waitUntilSettled(stack, ['livechat-events', 'rating-reactions'], chatId);
      expect(chatEventsWithCustomId(stack, chatId)).toHaveLength(1);
    });

    it('reacts again when the customer changes the score', async ({ expect }) => {
      const { chatId } = stack.sandbox.scenario.openChat({ agentIds: [agentId] });
      stack.sandbox.scenario.rate({ chatId, score: 1 });
      await waitForBotEventsIn(stack, chatId, PREFIX.rating);
      await waitUntilSettled(stack, ['livechat-events', 'rating-reactions'], chatId);
      stack.sandbox.scenario.rate({ chatId, score: 0 });

      const whispers = await waitForBotEventsIn(stack, chatId, PREFIX.rating, 2);
      expect(whispers.map((event) => event.text)).toEqual([GOOD_TEXT, BAD_TEXT]);
      await waitUntilSettled(stack, ['livechat-events', 'rating-reactions'], chatId);
      expect(chatEventsWithCustomId(stack, chatId)).toHaveLength(2);
    });
  });

  return () => stack;
};
