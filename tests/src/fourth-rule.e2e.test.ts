import { loadConfig, loadRulesFile, workerEnvFor } from '@nudge/config';
import {
  ChatJobData,
  commonSkip,
  createRuleSet,
  customerVisibleText,
  customIdOf,
  defineJob,
  defineRule,
  hasCustomId,
  isCustomerLike,
  type JobRequest,
  type RoutedWebhook,
  RULES,
} from '@nudge/rules';
import { hashedId } from '@nudge/runtime';
import { createLogger } from '@nudge/telemetry';
import { type RunningWorker, startWorker } from '@nudge/worker';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import {
  botEventsIn,
  chatEventsWithCustomId,
  isInlineRun,
  outcomeOf,
  routedTo,
  waitForBotEventsIn,
  waitForFinishedJob,
  waitForRouted,
  waitUntilSettled,
} from './e2e-helpers.js';
import { type Stack, startStack } from './stack.js';

// A fourth rule, written the way CODE_STYLE.md's "Add a rule" says and registered from this
// test alone: a customer who writes in a thread is welcomed once. The worker runs in this
// process with the registry's rules plus this one; everything else is the real stack (the
// sandbox delivering webhooks to ingest, Redis, the sandbox's Agent Chat API).

// ── the rule's folder, in one file ─────────────────────────────────────────────────────────
const WelcomeSettings = z.strictObject({
  enabled: z.boolean().default(true),
  text: z.string().trim().min(1).default('Welcome!'),
});
type WelcomeSettings = z.output<typeof WelcomeSettings>;
const WelcomeOverride = z.strictObject({
  enabled: z.boolean().optional(),
  text: z.string().trim().min(1).optional(),
});
type WelcomeIntent = { kind: 'welcome-customer'; chatId: string; threadId: string };
const WELCOME_ID = { name: 'welcome', prefix: 'nudge-welcome-' } as const;
const WelcomeJob = z.object(ChatJobData);
type WelcomeJob = z.output<typeof WelcomeJob>;

// Pure: a customer's message in a thread → welcome that thread.
const routeWelcome = (webhook: RoutedWebhook, settings: WelcomeSettings): WelcomeIntent[] => {
  const { thread } = webhook;
  const wrote = thread?.events.some(
    ({ event, kind }) => isCustomerLike(kind) && customerVisibleText(event) !== undefined,
  );
  return settings.enabled && thread !== undefined && wrote
    ? [{ kind: 'welcome-customer', chatId: thread.chatId, threadId: thread.threadId }]
    : [];
};
const welcomeRequest = (intent: WelcomeIntent, organizationId: string): JobRequest => ({
  op: 'add',
  name: 'greet',
  data: { organizationId, chatId: intent.chatId, threadId: intent.threadId },
  id: ['welcome', organizationId, intent.chatId, intent.threadId],
});
// I/O only through the context: read the chat, decide (pure), send once.
const greetJob = defineJob<WelcomeSettings, WelcomeJob>(
  WelcomeJob,
  ({ organizationId, chatId, threadId }, ctx) =>
    ctx.actOnce({ chatId, threadId }, (chat) => {
      const skip = commonSkip(ctx.settings.enabled, chat, threadId);
      const customId = customIdOf(WELCOME_ID, { organizationId, chatId, threadId, key: '' });
      if (skip !== undefined) {
        return skip;
      }
      return hasCustomId(chat.thread, customId)
        ? { act: false, reason: 'already sent' }
        : { act: true, text: ctx.settings.text, customId, visibility: 'all' };
    }),
);
const welcome = defineRule({
  key: 'welcome',
  queue: 'welcome',
  settings: WelcomeSettings,
  override: WelcomeOverride,
  merge: (defaults, override) => ({ ...defaults, ...override }),
  webhooks: ['incoming_chat', 'incoming_event'],
  customIds: [WELCOME_ID],
  route: routeWelcome,
  requestFor: welcomeRequest,
  jobs: { greet: greetJob },
});
// ── the registry line ─────────────────────────────────────────────────────────────────────
const RULE_SET = createRuleSet([...RULES, welcome]);

const WELCOME_TEXT = 'E2E: welcome, a human will be right with you';

let stack: Stack;
let worker: RunningWorker;
beforeAll(async () => {
  // No worker processes: they run the registry's rules, whose rules file has no `welcome`.
  stack = await startStack({
    sharedRedisUrl: inject('redisUrl'),
    workers: 0,
    rules: { welcome: { text: WELCOME_TEXT } },
  });
  const env = stack.workerEnv;
  const config = loadConfig(workerEnvFor(RULE_SET.rules), env);
  const rules = await loadRulesFile(config.NUDGE_CONFIG, env, { ruleSet: RULE_SET });
  worker = await startWorker({
    config,
    rules,
    ruleSet: RULE_SET,
    log: createLogger({ service: 'worker', level: 'warn' }),
  });
  await worker.ready;
  await stack.setBotStatus('accepting_chats');
}, 30_000);
afterAll(async () => {
  await worker?.drain();
  for (const step of worker?.release ?? []) {
    await step.run();
  }
  await stack?.stop();
});

describe('a fourth rule registered from a test', () => {
  it('is routed from a real webhook to its own queue and acts once per thread', async () => {
    const { chatId, threadId } = stack.sandbox.scenario.openChat({ message: 'Hi there' });
    const [welcomed] = await waitForBotEventsIn(stack, chatId, WELCOME_ID.prefix);
    expect(welcomed).toMatchObject({ visibility: 'all', text: WELCOME_TEXT, botId: stack.botId });

    // The route step asked for it next to the registry's rules' intents.
    const [routed] = await waitForRouted(stack, chatId, 1, routedTo('welcome-customer'));
    expect(routed && outcomeOf(routed).intents).toContain('schedule-idle-reply');
    // Its greet job, due at once, was run by the route step itself (WORKER_ACT_INLINE): the
    // run carries the id the job would have had in the rule's own queue.
    const job = await waitForFinishedJob(stack, 'welcome', chatId);
    expect(isInlineRun(job)).toBe(true);
    expect(job.id).toBe(hashedId('welcome', stack.organizationId, chatId, threadId));
    expect(outcomeOf(job)).toMatchObject({ outcome: 'sent', botId: stack.botId });

    // The customer writes again in the same thread: routed again, welcomed no second time.
    const again = stack.sandbox.scenario.customerMessage({ chatId, text: 'Still there?' });
    expect(again.threadId).toBe(threadId);
    await waitForRouted(stack, chatId, 2, routedTo('welcome-customer'));
    await waitUntilSettled(stack, ['livechat-events', 'welcome'], chatId);
    expect(botEventsIn(stack, chatId, WELCOME_ID.prefix)).toHaveLength(1);
    // What LiveChat holds: one welcome, in the customer's thread.
    const [held] = chatEventsWithCustomId(stack, chatId, WELCOME_ID.prefix);
    expect(chatEventsWithCustomId(stack, chatId, WELCOME_ID.prefix)).toHaveLength(1);
    expect(held?.text).toBe(WELCOME_TEXT);

    // When the route step can't act (LiveChat fails its call), the greet job goes to the
    // rule's own queue, with the same id, and is run there: still one welcome. (First the
    // first chat's idle timer has its turn, so the refused send is the greeting's.)
    await waitUntilSettled(stack, ['idle-reply'], chatId);
    stack.sandbox.faults.add({
      action: 'send_event',
      mode: 'error',
      errorType: 'internal',
      times: 1,
    });
    const other = stack.sandbox.scenario.openChat({ message: 'Hello?' });
    const queued = await waitForFinishedJob(stack, 'welcome', other.chatId);
    expect(isInlineRun(queued)).toBe(false);
    expect(queued.name).toBe('greet');
    expect(queued.id).toBe(hashedId('welcome', stack.organizationId, other.chatId, other.threadId));
    expect(outcomeOf(queued)).toMatchObject({ outcome: 'sent', botId: stack.botId });
    await waitUntilSettled(stack, ['livechat-events', 'welcome'], other.chatId);
    expect(botEventsIn(stack, other.chatId, WELCOME_ID.prefix)).toHaveLength(1);
    expect(chatEventsWithCustomId(stack, other.chatId, WELCOME_ID.prefix)).toHaveLength(1);
  });
});
