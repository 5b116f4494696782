import { customIdFor } from '@nudge/rules';
import type { LogLine } from '@nudge/testing';
import { afterAll, beforeAll, describe, inject, it } from 'vitest';
import {
  botEventsIn,
  capturedWebhook,
  elapse,
  forwardOk,
  outcomeOf,
  PREFIX,
  routedTo,
  waitForBotEventsIn,
  waitForFinishedJob,
  waitForRouted,
} from './e2e-helpers.js';
import { type Stack, startStack } from './stack.js';

// LiveChat as its docs describe it, end to end: what a bot reads (deleted events, users who
// left) and events our schemas don't know, none of which may stop a rule.

/** The first log line of any worker matching `where`. */
const workerLine = (stack: Stack, where: (line: LogLine) => boolean): Promise<LogLine> =>
  Promise.any(stack.workers.map((worker) => worker.waitForLine(where)));

/** add_user_to_chat calls about `chatId`: [status, request]. */
const joinsOf = (stack: Stack, chatId: string) =>
  stack.sandbox.journal
    .calls()
    .filter(
      (call) =>
        call.action === 'add_user_to_chat' &&
        (call.request as { chat_id?: string }).chat_id === chatId,
    )
    .map((call) => [call.status, call.request]);

const skippedLine =
  (action: string, chatId: string) =>
  (line: LogLine): boolean =>
    line.msg === 'LiveChat event skipped: it does not match our schema' &&
    line.action === action &&
    line.chatId === chatId;

describe('webhooks straight to ingest', () => {
  let stack: Stack;
  let agentId: string;
  beforeAll(async () => {
    stack = await startStack({ sharedRedisUrl: inject('redisUrl') });
    await stack.setBotStatus('accepting_chats');
    agentId = stack.sandbox.credentials.agentId;
  }, 30_000);
  afterAll(() => stack?.stop());

  describe.concurrent('deleted events (v3.6)', () => {
    it('a customer message deleted before its nudge leaves nobody waiting', async ({ expect }) => {
      const { chatId, eventIds } = stack.sandbox.scenario.openChat({
        message: 'Hello?',
        agentIds: [agentId],
      });
      stack.sandbox.scenario.deleteEvent({ chatId, eventId: eventIds[0] ?? '' });
      // The bot reads the deleted event (no text) and decides; the chat is not unreadable.
      const job = await waitForFinishedJob(stack, 'idle-reply', chatId);
      expect(outcomeOf(job)).toEqual({ outcome: 'skipped', reason: 'message deleted' });
      expect(botEventsIn(stack, chatId)).toEqual([]);
    });

    it('deleting the newer message hands the nudge back to the one still waiting', async ({
      expect,
    }) => {
      const { organizationId } = stack;
      const opened = stack.sandbox.scenario.openChat({ message: 'Hello?', agentIds: [agentId] });
      const { chatId, threadId } = opened;
      await elapse(1_000); // the customer writes again, then takes it back
      const second = stack.sandbox.scenario.customerMessage({ chatId, text: 'Anyone?' });
      await waitForRouted(stack, chatId, 1, routedTo('schedule-idle-reply'));
      stack.sandbox.scenario.deleteEvent({ chatId, eventId: second.eventId });

      const [nudge] = await waitForBotEventsIn(stack, chatId, PREFIX.idle);
      expect(nudge?.customId).toBe(
        customIdFor({
          rule: 'idle-reply',
          organizationId,
          chatId,
          threadId,
          key: opened.eventIds[0] ?? '',
        }),
      );
    });
  });

  it('the bot (supervisor, as nudge setup makes it) is never routed chats; it joins to act', async ({
    expect,
  }) => {
    // No agentIds: LiveChat's routing decides, and it skips supervisor bots.
    const { chatId } = stack.sandbox.scenario.openChat({ message: 'Hello?' });
    const users = (stack.sandbox.scenario.getChat({ chatId }) as { users: { id: string }[] }).users;
    expect(users.map((user) => user.id)).not.toContain(stack.botId);
    await waitForBotEventsIn(stack, chatId, PREFIX.idle);
    expect(joinsOf(stack, chatId)).toEqual([
      [200, expect.objectContaining({ user_id: stack.botId, visibility: 'all' })],
    ]);
  });

  it('a bot that left the chat (present: false) is added again before it talks', async ({
    expect,
  }) => {
    const { chatId } = stack.sandbox.scenario.openChat({
      message: 'Hello?',
      agentIds: [agentId, stack.botId],
    });
    stack.sandbox.scenario.removeUser({ chatId, userId: stack.botId });
    const [nudge] = await waitForBotEventsIn(stack, chatId, PREFIX.idle);
    expect(nudge?.botId).toBe(stack.botId);
    expect(joinsOf(stack, chatId)).toEqual([
      [200, expect.objectContaining({ user_id: stack.botId, visibility: 'all' })],
    ]);
  });

  it('an event our schemas cannot read is skipped and logged; the rule still acts', async ({
    expect,
  }) => {
    const { chatId, eventIds } = stack.sandbox.scenario.openChat({
      message: 'Hello?',
      agentIds: [agentId],
    });
    // A `file` without its `url`: what drift in LiveChat's events would look like.
    const odd = stack.sandbox.scenario.injectEvent({
      chatId,
      event: { type: 'file', author_id: agentId, visibility: 'agents' },
    });
    await waitForBotEventsIn(stack, chatId, PREFIX.idle);
    const line = await workerLine(stack, skippedLine('get_chat', chatId));
    expect(line).toMatchObject({
      level: 40,
      eventId: odd.eventId,
      eventType: 'file',
      reason: 'schema_mismatch',
    });
    expect(eventIds).toHaveLength(1);
  });
});

describe('webhooks through the relay', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ sharedRedisUrl: inject('redisUrl'), delivery: 'relay' });
  }, 30_000);
  afterAll(() => stack?.stop());

  it('incoming_chat with an event our schemas cannot read is still routed', async ({ expect }) => {
    const { chatId, eventIds } = stack.sandbox.scenario.openChat({ message: 'Hello?' });
    const envelope = structuredClone(await capturedWebhook(stack, 'incoming_chat', chatId));
    const { chat } = envelope.payload as { chat: { thread: { events: unknown[] } } };
    chat.thread.events.push({ id: 'ODD_1', type: 'message', visibility: 'all' });
    await forwardOk(stack, envelope);

    const [routed] = await waitForRouted(stack, chatId, 1);
    expect(outcomeOf(routed ?? ({} as never))).toMatchObject({
      outcome: 'routed',
      intents: ['remember-users', 'schedule-idle-reply'],
    });
    const line = await workerLine(stack, skippedLine('incoming_chat', chatId));
    expect(line).toMatchObject({ eventId: 'ODD_1', reason: 'schema_mismatch' });
    expect(eventIds).toHaveLength(1);
  });
});
