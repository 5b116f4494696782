import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { chatIdOfEnvelope } from '@nudge/livechat';
import { createScenarioClient, sentMessagesOf, type WebhookEntry } from '@nudge/livechat-sandbox';
import { QUEUE_NAMES } from '@nudge/queues';
import {
  createRedisKeys,
  createRedisLayout,
  parseStored,
  StoredRoutingStatus,
} from '@nudge/runtime';
import { Queue } from 'bullmq';
import { parse } from 'yaml';
import { z } from 'zod';
import { connectOnce } from './redis-probe.js';
import { readStackState, SANDBOX_RULES_FILE, type StackState } from './stack-state.js';

// `nudge demo` (npm run demo): plays the three rules against a running `npm start` in sandbox
// mode, as a customer and an agent would, and checks that the bot acted exactly once each —
// and not at all while it does not accept chats. Everything it reads is observable from
// outside: the sandbox's journal (what LiveChat received) and the queues' job outcomes.

type DemoOptions = {
  stateDir: string;
  out: (line: string) => void;
  /** How long to wait for each expected action beyond its rule's own delay. */
  timeoutMs?: number;
};

type Prefix = 'nudge-idle-' | 'nudge-tag-' | 'nudge-rate-';
const PREFIXES: Prefix[] = ['nudge-idle-', 'nudge-tag-', 'nudge-rate-'];

const chatOfWebhook = (entry: WebhookEntry): string | undefined =>
  chatIdOfEnvelope(entry.body as { payload?: unknown });

const seconds = (ms: number) => (ms >= 1_000 ? `${(ms / 1_000).toFixed(1)} s` : `${ms} ms`);
const quote = (text: string) => {
  const line = text.replace(/\s+/g, ' ');
  return JSON.stringify(line.length > 60 ? `${line.slice(0, 57)}…` : line);
};

type Settings = { tag: string | undefined };

/** The tag the demo plays: the first with suggestions in the rules the sandbox stack runs. */
const readSettings = async (rulesPath: string): Promise<Settings> => {
  try {
    const raw = parse(await readFile(rulesPath, 'utf8')) as {
      defaults?: { cannedResponses?: { byTag?: Record<string, unknown[]> } };
    };
    const byTag = raw.defaults?.cannedResponses?.byTag ?? {};
    return { tag: Object.keys(byTag).find((tag) => (byTag[tag]?.length ?? 0) > 0) };
  } catch {
    return { tag: undefined };
  }
};

const ChatJob = z.object({ chatId: z.string() });
const RoutedOutcome = z.object({
  acted: z.array(z.object({ queue: z.string(), result: z.unknown() })),
});
const SkippedOutcome = z.object({ outcome: z.literal('skipped'), reason: z.string().optional() });

/**
 * What the tag whisper's jobs did, as a finished job of `queueName` records it: its own
 * outcome when it is a canned-responses job, and those its route step ran itself (`acted`).
 */
const whisperOutcomesOf = (queueName: string, returnvalue: unknown): unknown[] => [
  ...(queueName === QUEUE_NAMES.cannedResponses ? [returnvalue] : []),
  ...(RoutedOutcome.safeParse(returnvalue).data?.acted ?? [])
    .filter((done) => done.queue === QUEUE_NAMES.cannedResponses)
    .map((done) => done.result),
];

export const runDemo = async ({
  stateDir,
  out,
  timeoutMs = 20_000,
}: DemoOptions): Promise<number> => {
  const found = await readStackState(stateDir);
  if ('problem' in found) {
    out(`✗ ${found.problem}`);
    return 1;
  }
  const state: StackState = found.state;
  const sandbox = createScenarioClient(state.sandboxUrl);
  const { agentId } = await sandbox.credentials();
  const { tag } = await readSettings(join(stateDir, SANDBOX_RULES_FILE));
  const redis = await connectOnce(state.redisUrl, { cluster: state.redisCluster });
  const layout = createRedisLayout(state.prefix, { cluster: state.redisCluster });
  const queues = Object.values(QUEUE_NAMES).map(
    (name) => new Queue(name, { connection: redis, prefix: layout.queuePrefix(name) }),
  );
  let failures = 0;
  const pass = (line: string) => out(`✓ ${line}`);
  const fail = (line: string) => {
    failures += 1;
    out(`✗ ${line}`);
  };

  const journal = () => sandbox.journal();
  const waitFor = async <T>(what: string, find: () => Promise<T | undefined>, ms = timeoutMs) => {
    const deadline = Date.now() + ms;
    for (;;) {
      const value = await find();
      if (value !== undefined) {
        return value;
      }
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${what}`);
      }
      await delay(100);
    }
  };
  const webhookAt = async (chatId: string, action: string) => {
    const entry = (await journal()).find(
      (candidate): candidate is WebhookEntry =>
        candidate.kind === 'webhook' &&
        candidate.action === action &&
        chatOfWebhook(candidate) === chatId,
    );
    return entry ? Date.parse(entry.time) : undefined;
  };
  const botStatusIs = async (status: string) => {
    const key = createRedisKeys(layout.keyPrefix).botStatus(state.organizationId, state.botId);
    await waitFor(`the workers to see the bot ${status}`, async () =>
      parseStored(StoredRoutingStatus, await redis.get(key)) === status ? true : undefined,
    );
  };
  const pendingJobsOf = async (chatIds: string[]) => {
    const jobs = (
      await Promise.all(
        queues.map((queue) => queue.getJobs(['active', 'waiting', 'delayed', 'prioritized'])),
      )
    ).flat();
    return jobs.filter((job) => {
      const text = JSON.stringify(job?.data ?? {});
      return chatIds.some((chatId) => text.includes(`"${chatId}"`));
    }).length;
  };

  try {
    out(`Nudge demo: the sandbox at ${state.sandboxUrl}, bot ${state.botId}`);
    // The bot must accept chats to act; a previous run may have been interrupted.
    await sandbox.setBotStatus({ botId: state.botId, status: 'accepting_chats' });
    await botStatusIs('accepting_chats');

    type Case = { name: string; chatId: string; prefix: Prefix; trigger: string; describe: string };
    const cases: Case[] = [];
    const idle = await sandbox.openChat({ message: 'Hello, anyone there?' });
    cases.push({
      name: 'idle reply',
      chatId: idle.chatId,
      prefix: 'nudge-idle-',
      trigger: 'incoming_chat',
      describe: `a customer wrote and nobody answered; after ${state.idleAfterSeconds} s the bot`,
    });
    if (tag) {
      const tagged = await sandbox.openChat({ agentIds: [agentId] });
      await sandbox.tag({ chatId: tagged.chatId, tag });
      cases.push({
        name: 'canned responses',
        chatId: tagged.chatId,
        prefix: 'nudge-tag-',
        trigger: 'thread_tagged',
        describe: `an agent tagged the chat "${tag}"; the bot`,
      });
    } else {
      fail('canned responses: the rules have no tag with suggestions (cannedResponses.byTag)');
    }
    const rated = await sandbox.openChat({ agentIds: [agentId] });
    await sandbox.rate({ chatId: rated.chatId, score: 1, comment: 'Quick and kind, thanks!' });
    cases.push({
      name: 'rating reaction',
      chatId: rated.chatId,
      prefix: 'nudge-rate-',
      trigger: 'thread_properties_updated',
      describe: 'the customer rated the chat good; the bot',
    });

    for (const demo of cases) {
      try {
        const sent = await waitFor(
          `the bot's ${demo.name} in chat ${demo.chatId}`,
          async () =>
            sentMessagesOf(await journal()).find(
              (event) => event.chatId === demo.chatId && event.customId.startsWith(demo.prefix),
            ),
          timeoutMs + state.idleAfterSeconds * 1_000,
        );
        const webhook = await webhookAt(demo.chatId, demo.trigger);
        const after =
          webhook === undefined ? '' : `, ${seconds(sent.at - webhook)} after the webhook`;
        const how =
          sent.visibility === 'agents' ? 'whispered to the agents' : 'wrote to the customer';
        out(
          `  ${demo.name} (chat ${demo.chatId}): ${demo.describe} ${how} ${quote(sent.text)}${after}`,
        );
      } catch (err) {
        fail(
          `${demo.name} (chat ${demo.chatId}): ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }

    // Not accepting chats: bot webhooks still flow, the rule job runs and is skipped.
    await sandbox.setBotStatus({ botId: state.botId, status: 'not_accepting_chats' });
    await botStatusIs('not_accepting_chats');
    const quiet = await sandbox.openChat({ agentIds: [agentId] });
    await sandbox.tag({ chatId: quiet.chatId, tag: tag ?? 'refund' });
    try {
      const reason = await waitFor(`the skipped job in chat ${quiet.chatId}`, async () => {
        const finished = await Promise.all(
          queues.map(async (queue) =>
            (await queue.getJobs(['completed', 'failed']))
              .filter((job) => ChatJob.safeParse(job?.data).data?.chatId === quiet.chatId)
              .flatMap((job) => whisperOutcomesOf(queue.name, job.returnvalue)),
          ),
        );
        const skipped = finished
          .flat()
          .map((outcome) => SkippedOutcome.safeParse(outcome))
          .find((parsed) => parsed.success);
        return skipped?.data === undefined ? undefined : (skipped.data.reason ?? 'skipped');
      });
      out(
        `  not accepting chats (chat ${quiet.chatId}): tagged "${tag ?? 'refund'}"; the bot stayed quiet (${reason})`,
      );
    } catch (err) {
      fail(
        `not accepting chats (chat ${quiet.chatId}): ${err instanceof Error ? err.message : String(err)}`,
      );
    }
    await sandbox.setBotStatus({ botId: state.botId, status: 'accepting_chats' });
    await botStatusIs('accepting_chats');

    // Exactly once: let every job about these chats finish, then count what LiveChat got.
    const chatIds = [...cases.map((demo) => demo.chatId), quiet.chatId];
    await waitFor('the demo chats to settle', async () =>
      (await pendingJobsOf(chatIds)) === 0 ? true : undefined,
    );
    const sent = sentMessagesOf(await journal());
    for (const demo of cases) {
      const inChat = sent.filter((event) => event.chatId === demo.chatId);
      const expected = inChat.filter((event) => event.customId.startsWith(demo.prefix)).length;
      const others = inChat.filter((event) =>
        PREFIXES.some((prefix) => prefix !== demo.prefix && event.customId.startsWith(prefix)),
      ).length;
      if (expected === 1 && others === 0) {
        pass(`${demo.name}: exactly once`);
      } else {
        fail(`${demo.name}: ${expected} time(s), and ${others} other bot message(s) in the chat`);
      }
    }
    const noisy = sent.filter((event) => event.chatId === quiet.chatId).length;
    if (noisy === 0) {
      pass('not accepting chats: no bot message');
    } else {
      fail(`not accepting chats: the bot sent ${noisy} message(s)`);
    }
  } finally {
    await Promise.all(queues.map((queue) => queue.close()));
    redis.disconnect();
  }
  out(failures === 0 ? 'demo passed' : `demo failed: ${failures} problem(s)`);
  return failures;
};
