import { hashedId } from '@nudge/runtime';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import {
  botEventsIn,
  capturedWebhook,
  chatEventsWithCustomId,
  createdAtOf,
  elapse,
  eventIdOfEnvelope,
  eventIdOfRun,
  finishedRunsOfChat,
  forwardOk,
  jobsOfChat,
  only,
  outcomeOf,
  PREFIX,
  removeFinishedRun,
  routedTo,
  waitForBotEventsIn,
  waitForFinishedJob,
  waitForRouted,
  waitUntilSettled,
} from './e2e-helpers.js';
import { type Stack, startStack } from './stack.js';

// The network between LiveChat and ingest misbehaving: webhooks captured by the relay and
// forwarded by the test late, out of order, or more than once. Decisions read the chat when
// they fire, so the order webhooks arrive in must not change what the customer and agents see.

const AFTER_SECONDS = 5;

let stack: Stack;
let agentId: string;
beforeAll(async () => {
  stack = await startStack({ sharedRedisUrl: inject('redisUrl'), delivery: 'relay' });
  await stack.setBotStatus('accepting_chats');
  agentId = stack.sandbox.credentials.agentId;
}, 30_000);
afterAll(() => stack?.stop());

const messageWebhook = (chatId: string, eventId: string) =>
  capturedWebhook(
    stack,
    'incoming_event',
    chatId,
    (envelope) => eventIdOfEnvelope(envelope) === eventId,
  );

/** A chat with no messages yet, its incoming_chat already forwarded (users known to Nudge). */
const openQuietChat = async () => {
  const opened = stack.sandbox.scenario.openChat({ agentIds: [agentId] });
  await forwardOk(stack, await capturedWebhook(stack, 'incoming_chat', opened.chatId));
  return opened;
};

describe.concurrent('out-of-order webhooks: idle reply', () => {
  it('chat_deactivated before the customer message: no nudge into the closed chat', async ({
    expect,
  }) => {
    const { chatId } = await openQuietChat();
    const { eventId } = stack.sandbox.scenario.customerMessage({ chatId, text: 'Hello?' });
    stack.sandbox.scenario.close({ chatId, agentId });

    await forwardOk(stack, await capturedWebhook(stack, 'chat_deactivated', chatId));
    // Routed before the message arrives (routed together, its cancel may take the new timer).
    await waitForRouted(stack, chatId, 1, routedTo('cancel-idle-reply'));
    await forwardOk(stack, await messageWebhook(chatId, eventId));

    const job = await waitForFinishedJob(stack, 'idle-reply', chatId);
    expect(job.data.eventId).toBe(eventId);
    expect(outcomeOf(job)).toEqual({ outcome: 'skipped', reason: 'thread inactive' });
    expect(botEventsIn(stack, chatId)).toEqual([]);
    expect(chatEventsWithCustomId(stack, chatId)).toEqual([]);
  });

  it('two customer messages delivered newest first: exactly one nudge, after the newest', async ({
    expect,
  }) => {
    const { chatId } = await openQuietChat();
    const first = stack.sandbox.scenario.customerMessage({ chatId, text: 'Hello?' });
    await elapse(1_000); // the customer writes again a second later
    const second = stack.sandbox.scenario.customerMessage({ chatId, text: 'Anyone?' });

    await forwardOk(stack, await messageWebhook(chatId, second.eventId));
    await forwardOk(stack, await messageWebhook(chatId, first.eventId));

    const [nudge] = await waitForBotEventsIn(stack, chatId, PREFIX.idle);
    expect(nudge).toMatchObject({ visibility: 'all', botId: stack.botId });
    expect(nudge?.at).toBeGreaterThanOrEqual(
      createdAtOf(stack, chatId, second.eventId) + AFTER_SECONDS * 1000,
    );
    await waitUntilSettled(stack, ['livechat-events', 'idle-reply'], chatId);
    expect(botEventsIn(stack, chatId, PREFIX.idle)).toHaveLength(1);
    expect(chatEventsWithCustomId(stack, chatId, PREFIX.idle)).toHaveLength(1);
    // The nudge answered the newest message's timer.
    const sent = (await jobsOfChat(stack, 'idle-reply', chatId, ['completed'])).filter(
      (job) => outcomeOf(job).outcome === 'sent',
    );
    expect(sent.map((job) => job.data.eventId)).toEqual([second.eventId]);
  });

  it('the agent answer delivered before the customer message it answered: no nudge', async ({
    expect,
  }) => {
    const { chatId } = await openQuietChat();
    const question = stack.sandbox.scenario.customerMessage({ chatId, text: 'Can you help?' });
    const answer = stack.sandbox.scenario.agentMessage({ chatId, agentId, text: 'Sure!' });

    await forwardOk(stack, await messageWebhook(chatId, answer.eventId));
    await waitForRouted(stack, chatId, 1, routedTo('cancel-idle-reply'));
    await forwardOk(stack, await messageWebhook(chatId, question.eventId));

    const job = await waitForFinishedJob(stack, 'idle-reply', chatId);
    expect(job.data.eventId).toBe(question.eventId);
    expect(outcomeOf(job)).toEqual({ outcome: 'skipped', reason: 'agent answered' });
    expect(botEventsIn(stack, chatId)).toEqual([]);
    expect(chatEventsWithCustomId(stack, chatId)).toEqual([]);
  });

  it("an agent's answer delivered after the customer's next message: that message is nudged", async ({
    expect,
  }) => {
    const { chatId } = await openQuietChat();
    const question = stack.sandbox.scenario.customerMessage({ chatId, text: 'Can you help?' });
    const answer = stack.sandbox.scenario.agentMessage({ chatId, agentId, text: 'Sure!' });
    const next = stack.sandbox.scenario.customerMessage({ chatId, text: 'So how do I…?' });

    await forwardOk(stack, await messageWebhook(chatId, question.eventId));
    await forwardOk(stack, await messageWebhook(chatId, next.eventId));
    await waitForRouted(stack, chatId, 2, routedTo('schedule-idle-reply'));
    // The answer's cancel comes last: it must not take the timer of the message after it.
    await forwardOk(stack, await messageWebhook(chatId, answer.eventId));
    await waitForRouted(stack, chatId, 1, routedTo('cancel-idle-reply'));

    const [nudge] = await waitForBotEventsIn(stack, chatId, PREFIX.idle);
    expect(nudge).toMatchObject({ visibility: 'all', botId: stack.botId });
    await waitUntilSettled(stack, ['livechat-events', 'idle-reply'], chatId);
    const sent = (await jobsOfChat(stack, 'idle-reply', chatId, ['completed'])).filter(
      (job) => outcomeOf(job).outcome === 'sent',
    );
    expect(sent.map((job) => job.data.eventId)).toEqual([next.eventId]);
    expect(chatEventsWithCustomId(stack, chatId, PREFIX.idle)).toHaveLength(1);
  });
});

describe.concurrent('late webhooks: canned responses and ratings', () => {
  it('a tag removed before its job runs: no whisper', async ({ expect }) => {
    const { chatId } = await openQuietChat();
    stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
    stack.sandbox.scenario.untag({ chatId, tag: 'refund' });
    await capturedWebhook(stack, 'thread_untagged', chatId);

    await forwardOk(stack, await capturedWebhook(stack, 'thread_tagged', chatId));
    const job = await waitForFinishedJob(stack, 'canned-responses', chatId);
    expect(outcomeOf(job)).toEqual({ outcome: 'skipped', reason: 'tag removed' });
    expect(botEventsIn(stack, chatId)).toEqual([]);
    expect(chatEventsWithCustomId(stack, chatId)).toEqual([]);
  });

  it("an agent's message with a keyword, delivered before the chat's users are known: no whisper", async ({
    expect,
  }) => {
    // The agent's webhook comes first: route can't tell the author from a customer yet.
    const { chatId } = stack.sandbox.scenario.openChat({ agentIds: [agentId] });
    const said = stack.sandbox.scenario.agentMessage({
      chatId,
      agentId,
      text: 'Let me check where is my order tracking.',
    });
    const asked = stack.sandbox.scenario.customerMessage({ chatId, text: 'Where is my order?' });
    await forwardOk(stack, await messageWebhook(chatId, said.eventId));
    const early = await waitForFinishedJob(stack, 'canned-responses', chatId);
    expect(eventIdOfRun(early)).toBe(said.eventId);
    expect(outcomeOf(early)).toEqual({ outcome: 'skipped', reason: 'not a customer message' });
    expect(botEventsIn(stack, chatId)).toEqual([]);

    // The customer's own mention, in the same thread, still gets its whisper.
    await forwardOk(stack, await capturedWebhook(stack, 'incoming_chat', chatId));
    await forwardOk(stack, await messageWebhook(chatId, asked.eventId));
    const [whisper] = await waitForBotEventsIn(stack, chatId, PREFIX.keyword);
    expect(whisper?.visibility).toBe('agents');
  });

  it('a rating cancelled before its job runs: no whisper', async ({ expect }) => {
    const { chatId } = await openQuietChat();
    stack.sandbox.scenario.rate({ chatId, score: 1 });
    stack.sandbox.scenario.cancelRating({ chatId });
    await capturedWebhook(stack, 'thread_properties_deleted', chatId);

    await forwardOk(stack, await capturedWebhook(stack, 'thread_properties_updated', chatId));
    const job = await waitForFinishedJob(stack, 'rating-reactions', chatId);
    expect(outcomeOf(job)).toEqual({ outcome: 'skipped', reason: 'rating cancelled' });
    expect(botEventsIn(stack, chatId)).toEqual([]);
    expect(chatEventsWithCustomId(stack, chatId)).toEqual([]);
  });

  it('the second rating signal after the first job is gone: still one whisper', async ({
    expect,
  }) => {
    const { chatId } = await openQuietChat();
    const { eventIds } = stack.sandbox.scenario.rate({ chatId, score: 0 });

    await forwardOk(stack, await capturedWebhook(stack, 'thread_properties_updated', chatId));
    await waitForBotEventsIn(stack, chatId, PREFIX.rating);
    const first = await waitForFinishedJob(stack, 'rating-reactions', chatId);
    expect(outcomeOf(first).outcome).toBe('sent');
    // Retention removed the finished job (or, run by the route step, the route job recording
    // it); the system message's webhook comes only now.
    await removeFinishedRun(stack, first);
    expect(await finishedRunsOfChat(stack, 'rating-reactions', chatId)).toEqual([]);
    await forwardOk(stack, await messageWebhook(chatId, eventIds[0] ?? ''));

    const second = await waitForFinishedJob(stack, 'rating-reactions', chatId);
    expect(outcomeOf(second)).toEqual({ outcome: 'skipped', reason: 'already sent' });
    expect(botEventsIn(stack, chatId, PREFIX.rating)).toHaveLength(1);
    expect(chatEventsWithCustomId(stack, chatId, PREFIX.rating)).toHaveLength(1);
  });
});

describe.concurrent('duplicate and malformed webhooks', () => {
  it('the same webhook 3× at once, and again after it was handled: one whisper', async ({
    expect,
  }) => {
    const { chatId, threadId } = await openQuietChat();
    stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
    const tagged = await capturedWebhook(stack, 'thread_tagged', chatId);

    const statuses = await Promise.all([1, 2, 3].map(() => stack.relay.forward(tagged)));
    expect(statuses).toEqual([200, 200, 200]);
    await waitForBotEventsIn(stack, chatId, PREFIX.tag);
    const isTagged = (job: Job) => job.name === 'thread_tagged';
    const route = only(await waitForRouted(stack, chatId, 1, isTagged), 'stored copy');
    // The stored copy's route step sent the whisper itself, as the rule's job would have.
    const [whisper] = chatEventsWithCustomId(stack, chatId, PREFIX.tag);
    const tagJobId = hashedId('tag', stack.organizationId, chatId, threadId, 'refund');
    expect(outcomeOf(route)).toEqual({
      outcome: 'routed',
      intents: ['suggest-for-tag'],
      acted: [
        {
          queue: 'canned-responses',
          jobId: tagJobId,
          result: { outcome: 'sent', botId: stack.botId, eventIds: [whisper?.id] },
        },
      ],
    });

    // Again after it completed: the stored job is not run again.
    await waitUntilSettled(stack, ['livechat-events', 'canned-responses'], chatId);
    // One run of the rule: that one.
    const runs = await finishedRunsOfChat(stack, 'canned-responses', chatId);
    expect(only(runs, 'run of the tag rule').id).toBe(tagJobId);
    await forwardOk(stack, tagged);
    const retained = only(await waitForRouted(stack, chatId, 1, isTagged), 'stored copy');
    expect(retained.finishedOn).toBe(route.finishedOn);
    // And after retention removed the finished job: the dedupe claim outlives the job.
    await route.remove();
    await forwardOk(stack, tagged);
    const late = only(await waitForRouted(stack, chatId, 1, isTagged), 'stored copy');
    expect(late.id).toBe(route.id);
    expect(outcomeOf(late)).toEqual({
      outcome: 'skipped',
      reason: 'duplicate delivery of an event already handled',
    });
    await waitUntilSettled(stack, ['livechat-events', 'canned-responses'], chatId);
    expect(botEventsIn(stack, chatId)).toHaveLength(1);
    expect(chatEventsWithCustomId(stack, chatId)).toHaveLength(1);
    // No run of the rule but that one: the late copy acted on nothing (its outcome above), and
    // the rule's queue never had a job of the chat.
    expect(await jobsOfChat(stack, 'canned-responses', chatId)).toEqual([]);
  });

  it('a payload that fails its schema fails the route job visibly, without retries', async ({
    expect,
  }) => {
    const { chatId } = await openQuietChat();
    stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
    const tagged = await capturedWebhook(stack, 'thread_tagged', chatId);
    const drifted = {
      ...tagged,
      payload: { ...(tagged.payload as Record<string, unknown>), tag: 42 },
    };

    await forwardOk(stack, drifted);
    const job = await waitForFinishedJob(
      stack,
      'livechat-events',
      chatId,
      (candidate) => candidate.name === 'thread_tagged',
    );
    expect(await job.getState()).toBe('failed');
    expect(job.attemptsMade).toBe(1);
    expect(job.failedReason).toMatch(/^payload does not match the thread_tagged schema: tag: /);
    expect(await jobsOfChat(stack, 'canned-responses', chatId)).toEqual([]);
    expect(botEventsIn(stack, chatId)).toEqual([]);
  });
});
