import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chatIdOfJob } from '@nudge/cli';
import { chatIdOfEnvelope } from '@nudge/livechat';
import type { QueueName } from '@nudge/queues';
import { waitFor } from '@nudge/testing';
import type { Job, JobType } from 'bullmq';
import type { BotEvent, Stack } from './stack.js';

// Small waits and queries over a running stack, for the e2e suites. Everything here observes
// (the sandbox's journal and chats, BullMQ's job states); nothing drives the product.

/** custom_id prefixes of each rule's bot messages (each rule's decide.ts in @nudge/rules). */
export const PREFIX = {
  idle: 'nudge-idle-',
  tag: 'nudge-tag-',
  keyword: 'nudge-kw-',
  rating: 'nudge-rate-',
} as const;

type Envelope = Record<string, unknown>;
type Payload = Record<string, unknown>;

const payloadOf = (envelope: Envelope): Payload => (envelope.payload ?? {}) as Payload;

/** The id of the event an incoming_event envelope carries. */
export const eventIdOfEnvelope = (envelope: Envelope): string | undefined => {
  const event = payloadOf(envelope).event as { id?: unknown } | undefined;
  return typeof event?.id === 'string' ? event.id : undefined;
};

/**
 * Relay mode: waits until LiveChat has sent a webhook of `action` about `chatId` (and matching
 * `where`), and returns its envelope (not forwarded: the test decides when and how often).
 */
export const capturedWebhook = (
  stack: Stack,
  action: string,
  chatId: string,
  where: (envelope: Envelope) => boolean = () => true,
): Promise<Envelope> =>
  waitFor(
    () =>
      stack.relay.captured.find(
        (envelope) =>
          envelope.action === action && chatIdOfEnvelope(envelope) === chatId && where(envelope),
      ),
    { timeoutMs: 5_000, what: `a captured ${action} webhook for chat ${chatId}` },
  );

/** Forwards an envelope to ingest and expects it stored (200). */
export const forwardOk = async (stack: Stack, envelope: Envelope): Promise<void> => {
  const status = await stack.relay.forward(envelope);
  if (status !== 200) {
    throw new Error(`ingest answered ${status} to a forwarded ${String(envelope.action)}`);
  }
};

const ALL_STATES: JobType[] = [
  'active',
  'waiting',
  'delayed',
  'prioritized',
  'waiting-children',
  'completed',
  'failed',
];
const PENDING_STATES: JobType[] = [
  'active',
  'waiting',
  'delayed',
  'prioritized',
  'waiting-children',
];

/** A queue's jobs about `chatId`, in the given states. */
export const jobsOfChat = async (
  stack: Stack,
  queue: QueueName,
  chatId: string,
  states: JobType[] = ALL_STATES,
): Promise<Job[]> => {
  const jobs = await stack.queue(queue).getJobs(states);
  return jobs.filter((job) => job !== undefined && chatIdOfJob(job) === chatId);
};

type Acted = { queue?: unknown; jobId?: unknown; result?: unknown };

/**
 * The rule jobs of `queue` about `chatId` that the route step ran itself (the worker's
 * WORKER_ACT_INLINE), read from the completed route jobs' `acted`: each as a finished job
 * would show it (its would-be id, `returnvalue` the outcome; `inline: true`), no methods.
 * `data` is the route job's (the webhook it routed); `routeJobId` names that route job.
 */
export const inlineRunsOfChat = async (
  stack: Stack,
  queue: QueueName,
  chatId: string,
): Promise<Job[]> =>
  (await jobsOfChat(stack, 'livechat-events', chatId, ['completed'])).flatMap((route) => {
    const acted = outcomeOf(route).acted;
    return (Array.isArray(acted) ? (acted as Acted[]) : [])
      .filter((done) => done.queue === queue)
      .map(
        (done) =>
          ({
            id: String(done.jobId),
            queueName: queue,
            returnvalue: done.result,
            data: route.data,
            timestamp: route.timestamp,
            processedOn: route.processedOn,
            finishedOn: route.finishedOn,
            attemptsMade: 1,
            inline: true,
            routeJobId: route.id,
          }) as unknown as Job,
      );
  });

/** A run the route step made itself (see `inlineRunsOfChat`), not a job of the rule's queue. */
export const isInlineRun = (job: Job): boolean => (job as { inline?: unknown }).inline === true;

/**
 * The event a rule job is about: its data's `eventId`; for a run the route step made itself
 * (whose data is the route job's), the event of the webhook that route job handled.
 */
export const eventIdOfRun = (job: Job): string | undefined => {
  const data = (job.data ?? {}) as { eventId?: unknown; envelope?: Envelope };
  if (isInlineRun(job)) {
    return data.envelope === undefined ? undefined : eventIdOfEnvelope(data.envelope);
  }
  return typeof data.eventId === 'string' ? data.eventId : undefined;
};

/**
 * What retention does to a finished run: removes its job, or for a run the route step made
 * itself, the route job whose `acted` records it.
 */
export const removeFinishedRun = async (stack: Stack, run: Job): Promise<void> => {
  if (!isInlineRun(run)) {
    await run.remove();
    return;
  }
  const { routeJobId } = run as { routeJobId?: unknown };
  const route =
    typeof routeJobId === 'string'
      ? await stack.queue('livechat-events').getJob(routeJobId)
      : undefined;
  if (route === undefined) {
    throw new Error(`no route job ${String(routeJobId)} for the inline run ${String(run.id)}`);
  }
  await route.remove();
};

/**
 * Everything `queue` did about `chatId` so far: its finished jobs, and the runs of its jobs
 * the route step made itself.
 */
export const finishedRunsOfChat = async (
  stack: Stack,
  queue: QueueName,
  chatId: string,
): Promise<Job[]> => [
  ...(await jobsOfChat(stack, queue, chatId, ['completed', 'failed'])),
  ...(await inlineRunsOfChat(stack, queue, chatId)),
];

/**
 * Waits for a finished (completed or failed) job of `queue` about `chatId` matching `where`,
 * or a run of one by the route step (see `inlineRunsOfChat`).
 */
export const waitForFinishedJob = (
  stack: Stack,
  queue: QueueName,
  chatId: string,
  where: (job: Job) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<Job> =>
  waitFor(async () => (await finishedRunsOfChat(stack, queue, chatId)).find(where), {
    timeoutMs,
    what: `a finished ${queue} job for chat ${chatId}`,
  });

/**
 * Waits until every webhook LiveChat created about `chatId` so far was delivered, and then
 * until `queues` have no job about it left to run (all finished or removed).
 */
export const waitUntilSettled = (
  stack: Stack,
  queues: QueueName[],
  chatId: string,
  timeoutMs = 20_000,
): Promise<boolean> =>
  waitFor(
    async () => {
      const { journal } = stack.sandbox;
      const delivered = new Set(
        journal
          .deliveries()
          .filter((delivery) => delivery.ok)
          .map((delivery) => delivery.deliveryId),
      );
      const undelivered = journal
        .webhooks()
        .filter((webhook) => chatIdOfEnvelope(webhook.body as Envelope) === chatId)
        .some((webhook) => !delivered.has(webhook.deliveryId));
      if (undelivered) {
        return false;
      }
      for (const queue of queues) {
        if ((await jobsOfChat(stack, queue, chatId, PENDING_STATES)).length > 0) {
          return false;
        }
      }
      return true;
    },
    { timeoutMs, what: `${queues.join(', ')} to settle for chat ${chatId}` },
  );

/**
 * Waits until the events queue has finished `count` webhooks about `chatId` matching `where`
 * (e.g. those whose route asked for a given intent); returns them.
 */
export const waitForRouted = (
  stack: Stack,
  chatId: string,
  count: number,
  where: (job: Job) => boolean = () => true,
): Promise<Job[]> =>
  waitFor(
    async () => {
      const jobs = await jobsOfChat(stack, 'livechat-events', chatId, ['completed', 'failed']);
      const matching = jobs.filter(where);
      return matching.length >= count ? matching : undefined;
    },
    { timeoutMs: 10_000, what: `${count} routed webhook(s) for chat ${chatId}` },
  );

/** A route job's outcome asked for `intent` (e.g. `suggest-for-keyword`). */
export const routedTo =
  (intent: string) =>
  (job: Job): boolean => {
    const intents = outcomeOf(job).intents;
    return Array.isArray(intents) && intents.includes(intent);
  };

/** Bot messages (accepted send_event calls) in `chatId` whose custom_id starts with `prefix`. */
export const botEventsIn = (stack: Stack, chatId: string, prefix = 'nudge-'): BotEvent[] =>
  stack.botEvents((event) => event.chatId === chatId && event.customId.startsWith(prefix));

/** Waits for `count` bot messages in `chatId` with the custom_id `prefix`. */
export const waitForBotEventsIn = (
  stack: Stack,
  chatId: string,
  prefix: string,
  count = 1,
  timeoutMs = 15_000,
): Promise<BotEvent[]> =>
  stack.waitForBotEvents(
    count,
    (event) => event.chatId === chatId && event.customId.startsWith(prefix),
    timeoutMs,
  );

type SandboxEvent = {
  id: string;
  type: string;
  text?: string;
  custom_id?: string;
  created_at?: string;
  visibility?: string;
  author_id?: string;
};

/**
 * The events LiveChat holds in `chatId` (every thread) whose custom_id starts with `prefix`:
 * the ground truth of what customers and agents see, whatever the journal says.
 */
export const chatEventsWithCustomId = (
  stack: Stack,
  chatId: string,
  prefix = 'nudge-',
): SandboxEvent[] => {
  const chat = stack.sandbox.scenario.getChat({ chatId }) as {
    threads: { events: SandboxEvent[] }[];
  };
  return chat.threads.flatMap((thread) =>
    thread.events.filter((event) => event.custom_id?.startsWith(prefix)),
  );
};

/** `created_at` of one event of the chat, in ms since epoch. */
export const createdAtOf = (stack: Stack, chatId: string, eventId: string): number => {
  const chat = stack.sandbox.scenario.getChat({ chatId }) as {
    threads: { events: SandboxEvent[] }[];
  };
  const event = chat.threads.flatMap((thread) => thread.events).find((e) => e.id === eventId);
  const at = Date.parse(event?.created_at ?? '');
  if (Number.isNaN(at)) {
    throw new Error(`event ${eventId} has no created_at in chat ${chatId}`);
  }
  return at;
};

/** The one element of `items`; throws (naming `what`) when there are none or several. */
export const only = <T>(items: readonly T[], what = 'item'): T => {
  const [first, ...rest] = items;
  if (first === undefined || rest.length > 0) {
    throw new Error(`expected exactly one ${what}, got ${items.length}`);
  }
  return first;
};

/** The returned outcome of a job, typed loosely for assertions. */
export const outcomeOf = (job: Job): Record<string, unknown> =>
  (job.returnvalue ?? {}) as Record<string, unknown>;

/**
 * Lets wall-clock time pass between two scenario steps (a customer typing again later). This
 * is test *input*, never synchronisation: every assertion waits on an observable event.
 */
export const elapse = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A chat tagged `refund` whose whisper LiveChat refuses once (a validation error: the
 * canned-responses job fails at once, no retries); resolves with the chat and that job.
 */
export const failedTagWhisper = async (
  stack: Stack,
  message?: string,
): Promise<{ chatId: string; threadId: string; job: Job }> => {
  const { scenario, faults, credentials } = stack.sandbox;
  // Twice: the route step's own attempt, then the job's in its queue (WORKER_ACT_INLINE).
  const fault = faults.add({
    action: 'send_event',
    mode: 'error',
    errorType: 'validation',
    ...(message === undefined ? {} : { message }),
    times: 2,
  });
  const chat = scenario.openChat({ agentIds: [credentials.agentId] });
  scenario.tag({ chatId: chat.chatId, threadId: chat.threadId, tag: 'refund' });
  const job = await waitForFinishedJob(
    stack,
    'canned-responses',
    chat.chatId,
    (finished) => finished.failedReason !== undefined,
  );
  faults.remove(fault.id);
  return { chatId: chat.chatId, threadId: chat.threadId, job };
};

const CLI_MAIN = fileURLToPath(import.meta.resolve('@nudge/cli/main'));

/** `nudge <args>` as a user runs it (in a directory of its own); its exit code and output. */
export const runCli = async (
  args: string[],
  env: Record<string, string | undefined>,
): Promise<{ code: number; output: string }> => {
  const child = spawn(process.execPath, [CLI_MAIN, ...args], {
    cwd: await mkdtemp(join(tmpdir(), 'nudge-cli-')),
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  // 'close': the output is read to its end ('exit' can come first).
  const [code] = await once(child, 'close');
  return { code: code as number, output };
};

/**
 * The value of the series `name{labels…}` in a Prometheus text exposition (other labels, e.g.
 * the registry's `service`, may be there too), or undefined when absent.
 */
export const metricSample = (
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined => {
  for (const line of text.split('\n')) {
    const parsed = /^([a-z_]+)\{(.*)\} (\S+)$/.exec(line);
    if (parsed?.[1] !== name) {
      continue;
    }
    const found = Object.fromEntries(
      [...(parsed[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) {
      return Number(parsed[3]);
    }
  }
  return undefined;
};
