import { once } from 'node:events';
import { createServer, request } from 'node:http';
import type { Sandbox } from '@nudge/livechat-sandbox';
import { QUEUE_NAMES, type QueueName } from '@nudge/queues';
import { customIdFor } from '@nudge/rules';
import { type NodeProcess, waitFor } from '@nudge/testing';
import { finishedRunsOfChat, isInlineRun, jobsOfChat } from '@nudge/tests/e2e-helpers';
import type { Stack } from '@nudge/tests/stack';
import type { Job, Queue } from 'bullmq';
import { expect } from 'vitest';

/**
 * A pass-through HTTP proxy in front of the sandbox for one worker process, recording the
 * LiveChat actions that worker called: the sandbox sees one bot identity for every worker, and
 * a chaos test must know which process to kill. A dropped client drops the upstream request
 * too, as a killed worker's TCP connection to LiveChat would.
 */
export type ApiTap = {
  url: string;
  /** Actions (e.g. `send_event`) this worker called, in order. */
  readonly actions: string[];
  /** The chats those calls were about (`chat_id` of the request), in order. */
  readonly chats: (string | undefined)[];
  close: () => Promise<void>;
};

export const startApiTap = async (targetUrl: string): Promise<ApiTap> => {
  const target = new URL(targetUrl);
  const actions: string[] = [];
  const chats: (string | undefined)[] = [];
  const server = createServer((req, res) => {
    const action = /\/action\/([a-z_]+)/.exec(req.url ?? '')?.[1];
    if (action) {
      actions.push(action);
      const at = chats.push(undefined) - 1;
      const body: Buffer[] = [];
      req.on('data', (chunk: Buffer) => body.push(chunk));
      req.on('end', () => {
        try {
          chats[at] = (JSON.parse(Buffer.concat(body).toString()) as { chat_id?: string }).chat_id;
        } catch {
          // not JSON: no chat
        }
      });
    }
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('tap: no port');
  }
  return {
    url: `http://127.0.0.1:${address.port}`,
    actions,
    chats,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
};

/** The one worker whose tap carried `action`; fails when none or several did. */
export const workerThatCalled = <W extends { tap: ApiTap }>(workers: W[], action: string): W => {
  const callers = workers.filter((worker) => worker.tap.actions.includes(action));
  if (callers.length !== 1 || !callers[0]) {
    throw new Error(`expected exactly one worker to have called ${action}, got ${callers.length}`);
  }
  return callers[0];
};

/** Accepted send_event calls per custom_id (the bot messages that exist in LiveChat). */
export const sendsPerCustomId = (stack: Pick<Stack, 'botEvents'>): Map<string, number> => {
  const counts = new Map<string, number>();
  for (const event of stack.botEvents()) {
    counts.set(event.customId, (counts.get(event.customId) ?? 0) + 1);
  }
  return counts;
};

/** Events carrying `customId` in the sandbox's stored chat (every thread). */
export const storedEventsWithCustomId = (sandbox: Sandbox, chatId: string, customId: string) => {
  const chat = sandbox.scenario.getChat({ chatId }) as {
    threads: { events: { custom_id?: string }[] }[];
  };
  return chat.threads
    .flatMap((thread) => thread.events)
    .filter((event) => event.custom_id === customId);
};

/** Resolves once `proc` exited, with its code and how long after `since` it exited. */
export const exitOf = async (proc: NodeProcess, since: number) => {
  const { code, signal } = await proc.exited;
  return { code, signal, afterMs: Date.now() - since };
};

/** Waits for `queue` to have no waiting, active, delayed or prioritised jobs. */
export const waitForDrained = (queue: Queue, timeoutMs = 30_000) =>
  waitFor(
    async () => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      return Object.values(counts).every((count) => count === 0) ? counts : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `queue ${queue.name} to drain` },
  );

/** The job's fresh state from Redis (jobs from getJobs are snapshots). */
const reload = async (queue: Queue, job: Job): Promise<Job> => {
  const fresh = await queue.getJob(job.id ?? '');
  if (!fresh) {
    throw new Error(`job ${job.id} vanished`);
  }
  return fresh;
};

/** Waits until `queue` holds exactly one job and it is completed; returns it. */
export const waitForOnlyJobCompleted = (queue: Queue, timeoutMs: number) =>
  waitFor(
    async () => {
      const jobs = await queue.getJobs(['completed', 'failed', 'active', 'waiting', 'delayed']);
      const [job] = jobs;
      return jobs.length === 1 && job && (await job.getState()) === 'completed'
        ? reload(queue, job)
        : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `the one ${queue.name} job to complete` },
  );

/**
 * How a row's workers act on a rule job due at once (a tag's whisper): in the route step that
 * asked for it (the default), or through the rule's own queue (`WORKER_ACT_INLINE=false`).
 * A worker dying while it acts leaves the route job (`livechat-events`) stalled in the first
 * case, the rule's job (`canned-responses`) in the second: rows that are about a stalled job's
 * recovery run both.
 */
export const ACTING = [
  { acting: 'in the route step', inline: true, env: {} },
  { acting: 'through the rule queue', inline: false, env: { WORKER_ACT_INLINE: 'false' } },
] as const;

export type Acting = (typeof ACTING)[number];

/**
 * Waits until the route job (`livechat-events`) of the `action` webhook about `chatId` is the
 * only one and completed; returns it fresh.
 */
export const waitForOnlyRouteJobCompleted = (
  stack: Stack,
  chatId: string,
  action: string,
  timeoutMs: number,
) =>
  waitFor(
    async () => {
      const jobs = (await jobsOfChat(stack, QUEUE_NAMES.livechatEvents, chatId)).filter(
        (job) => job.name === action,
      );
      const [job] = jobs;
      return jobs.length === 1 && job && (await job.getState()) === 'completed'
        ? reload(stack.queue(QUEUE_NAMES.livechatEvents), job)
        : undefined;
    },
    {
      timeoutMs,
      intervalMs: 100,
      what: `the one ${action} route job of chat ${chatId} to complete`,
    },
  );

/**
 * Waits until the job of `queue` about `chatId` ran exactly once to completion, in its queue
 * or in a route step (`inlineRunsOfChat`: `inline: true`, no methods), and nothing of that
 * queue about the chat is pending or failed; returns that run.
 */
export const waitForOnlyRun = (stack: Stack, queue: QueueName, chatId: string, timeoutMs: number) =>
  waitFor(
    async () => {
      const others = await jobsOfChat(stack, queue, chatId, [
        'active',
        'waiting',
        'delayed',
        'prioritized',
        'waiting-children',
        'failed',
      ]);
      const runs = await finishedRunsOfChat(stack, queue, chatId);
      return others.length === 0 && runs.length === 1 ? runs[0] : undefined;
    },
    { timeoutMs, intervalMs: 100, what: `one finished run of the ${queue} job of chat ${chatId}` },
  );

/**
 * The tag job of `chatId` recovered after the worker acting on it died (killed, frozen, cut
 * off, forced out): the job that stalled (the route job, or the rule's job through its queue)
 * is completed, stalled once and re-run, and the whisper was run once to completion by the
 * rule's queue (a re-run route step hands it there); returns that run, and the stalled job.
 */
export const waitForRecoveredTagJob = async (
  stack: Stack,
  { inline }: Acting,
  chatId: string,
  timeoutMs: number,
): Promise<{ stalled: Job; run: Job }> => {
  if (!inline) {
    const job = await waitForOnlyJobCompleted(stack.queue(QUEUE_NAMES.cannedResponses), timeoutMs);
    return { stalled: job, run: job };
  }
  const stalled = await waitForOnlyRouteJobCompleted(stack, chatId, 'thread_tagged', timeoutMs);
  const run = await waitForOnlyRun(stack, QUEUE_NAMES.cannedResponses, chatId, timeoutMs);
  // Only a route job's first run acts itself: its re-run handed the whisper to the queue.
  expect(isInlineRun(run), 'the re-run route step acted on the whisper itself').toBe(false);
  return { stalled, run };
};

/** The custom_id of a send_event request. */
export const customIdOf = (request: unknown): string =>
  (request as { event?: { custom_id?: string } }).event?.custom_id ?? '';

/** The custom_id of the tag whisper for `tag` in a thread. */
export const tagCustomId = (
  stack: Pick<Stack, 'organizationId'>,
  chatId: string,
  threadId: string,
  tag: string,
) => customIdFor({ rule: 'tag', organizationId: stack.organizationId, chatId, threadId, key: tag });

/** Failed jobs per queue. */
export const failedCounts = async (stack: Pick<Stack, 'queue'>) =>
  Object.fromEntries(
    await Promise.all(
      Object.values(QUEUE_NAMES).map(
        async (name) => [name, await stack.queue(name).getFailedCount()] as const,
      ),
    ),
  );

/**
 * Why a row is still short of its bot messages, for its timeout error: the custom ids not sent
 * yet, each queue's jobs by state, and each worker's last warnings and errors.
 */
export const describeShortfall = async (
  stack: Pick<Stack, 'botEvents' | 'queue'>,
  expected: Iterable<string>,
  workers: readonly { proc: NodeProcess }[],
): Promise<string> => {
  const sent = sendsPerCustomId(stack);
  const missing = [...expected].filter((customId) => !sent.has(customId));
  const queues = await Promise.all(
    Object.values(QUEUE_NAMES).map(async (name) => {
      const counts = await stack
        .queue(name)
        .getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
      return `  ${name}: ${JSON.stringify(counts)}`;
    }),
  );
  const logs = workers.map(({ proc }, i) => {
    const warnings = proc.lines.filter((line) => Number(line.level) >= 40).slice(-8);
    return [`  worker ${i}:`, ...warnings.map((line) => `    ${JSON.stringify(line)}`)].join('\n');
  });
  return [
    `not sent (${missing.length}): ${missing.join(', ')}`,
    'queues:',
    ...queues,
    ...logs,
  ].join('\n');
};
