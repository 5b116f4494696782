import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Stack, startStack } from './stack.js';

let stack: Stack;
beforeAll(async () => {
  // No worker yet: each test starts the ones it needs.
  stack = await startStack({ sharedRedisUrl: inject('redisUrl'), workers: 0 });
}, 30_000);
afterAll(() => stack?.stop());

describe('worker --queues', () => {
  it('runs only the queues it is given', async () => {
    const worker = await stack.startWorker({
      args: ['--queues', 'livechat-events,canned-responses'],
    });
    const ready = await worker.waitForLine((line) => line.msg === 'worker ready');
    expect(ready.queues).toEqual(['livechat-events', 'canned-responses']);
    await stack.setBotStatus('accepting_chats');

    const { chatId } = stack.sandbox.scenario.openChat({ message: 'Hello' });
    stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
    const [event] = await stack.waitForBotEvents(1, (e) => e.chatId === chatId);
    expect(event).toMatchObject({ visibility: 'agents', botId: stack.botId });
    expect(event?.text).toContain('Refunds take 3–5 days.');
    // The customer's message started an idle timer that no running worker serves.
    expect(await stack.queue('idle-reply').getJobCounts('delayed')).toEqual({ delayed: 1 });
  });

  it('refuses an unknown queue name, naming the known ones', async () => {
    await expect(stack.startWorker({ args: ['--queues', 'idle-reply,nope'] })).rejects.toThrow(
      /unknown queue\(s\) nope; known: livechat-events, idle-reply, canned-responses, rating-reactions/,
    );
  });
});
