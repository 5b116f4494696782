import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Stack, startStack } from './stack.js';

let stack: Stack;
beforeAll(async () => {
  stack = await startStack({ sharedRedisUrl: inject('redisUrl') });
  await stack.setBotStatus('accepting_chats');
}, 30_000);
afterAll(() => stack?.stop());

describe('smoke', () => {
  it('whispers tag suggestions', async () => {
    const { chatId } = stack.sandbox.scenario.openChat({ message: 'Hello' });
    stack.sandbox.scenario.tag({ chatId, tag: 'refund' });
    const [event] = await stack.waitForBotEvents(1, (e) => e.chatId === chatId);
    expect(event).toMatchObject({ visibility: 'agents', botId: stack.botId });
    expect(event?.text).toContain('Refunds take 3–5 days.');
  });
});
