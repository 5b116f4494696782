import { runReplay } from '@nudge/cli';
import { waitFor } from '@nudge/testing';
import type { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  botEventsIn,
  failedTagWhisper,
  outcomeOf,
  PREFIX,
  routedTo,
  runCli,
  waitForFinishedJob,
  waitForRouted,
} from './e2e-helpers.js';
import { type Stack, startStack } from './stack.js';

// `nudge replay` over real failed jobs: each filter and --dry-run, the CLI itself, and a job
// whose message LiveChat had in fact stored before the job failed: replayed, it sends nothing.

let stack: Stack;
let agentId: string;
/** Chats whose jobs failed: a refused whisper, a refused rating reaction, a sent-then-failed one. */
const chats = { refused: '', rating: '', sent: '' };

const isFailed = (job: Job) => job.failedReason !== undefined;

/** The failed job of a queue about `chatId`. */
const failedJobOf = async (queue: string, chatId: string): Promise<Job | undefined> =>
  (await stack.queue(queue).getFailed()).find((job) => job.data.chatId === chatId);

/** Waits until the job `id` of `queue` completed; resolves with it. */
const completed = (queue: string, id: string | undefined): Promise<Job> =>
  waitFor(
    async () => {
      const job = id === undefined ? undefined : await stack.queue(queue).getJob(id);
      return job !== undefined && (await job.isCompleted()) ? job : undefined;
    },
    { what: `job ${id} of ${queue} to complete` },
  );

/** LiveChat refuses the next `times` calls of `action` (every one until removed: no `times`). */
const fail = (action: string, errorType: string, times?: number) =>
  stack.sandbox.faults.add({
    action,
    mode: 'error',
    errorType,
    ...(times === undefined ? {} : { times }),
  });

beforeAll(async () => {
  stack = await startStack({ sharedRedisUrl: inject('redisUrl') });
  await stack.setBotStatus('accepting_chats');
  agentId = stack.sandbox.credentials.agentId;
  const { scenario } = stack.sandbox;

  // Refused twice: the route step's own attempt (which hands the job to its queue), then the
  // job's in its queue, which fails (not retryable).
  chats.refused = (await failedTagWhisper(stack)).chatId;

  // Both rating signals ask for the reaction, and each route step tries it before handing it
  // to its queue: LiveChat refuses them all until both were routed and the job failed.
  const authorization = fail('send_event', 'authorization');
  const rating = scenario.openChat({ agentIds: [agentId] });
  scenario.rate({ chatId: rating.chatId, score: 1 });
  await waitForRouted(stack, rating.chatId, 2, routedTo('react-to-rating'));
  await waitForFinishedJob(stack, 'rating-reactions', rating.chatId, isFailed);
  stack.sandbox.faults.remove(authorization.id);
  chats.rating = rating.chatId;

  // LiveChat stores the whisper but its answer never arrives (the route step's call times
  // out; it hands the job to its queue); the queued attempt's get_chat is refused: the job
  // fails though the message exists.
  const hold = stack.sandbox.faults.add({ action: 'send_event', mode: 'hold', times: 1 });
  const sent = scenario.openChat({ agentIds: [agentId] });
  scenario.tag({ chatId: sent.chatId, threadId: sent.threadId, tag: 'refund' });
  await waitFor(() => (stack.sandbox.faults.list().find((f) => f.id === hold.id)?.hits ?? 0) > 0);
  fail('get_chat', 'validation', 1);
  await waitForFinishedJob(stack, 'canned-responses', sent.chatId, isFailed);
  stack.sandbox.faults.clear();
  chats.sent = sent.chatId;
  expect(botEventsIn(stack, sent.chatId, PREFIX.tag)).toHaveLength(1);
}, 60_000);
afterAll(() => stack?.stop());

const lines: string[] = [];
const replay = (options: Omit<Parameters<typeof runReplay>[0], 'redis' | 'layout' | 'out'>) =>
  runReplay({
    redis: stack.redis,
    layout: stack.layout,
    out: (line) => lines.push(line),
    ...options,
  });
const listOnly = { dryRun: true, confirm: async () => true, perSecond: 100, progress: false };

/** `nudge replay …` as a user runs it; resolves with its exit code and output. */
const cli = (args: string[]) => runCli(['replay', ...args], stack.redisEnv);

describe('nudge replay', () => {
  it('finds failed jobs by queue, age, chat and reason; --dry-run changes nothing', async () => {
    expect((await replay({ ...listOnly })).matched).toBe(3);
    expect((await replay({ ...listOnly, queues: ['rating-reactions'] })).matched).toBe(1);
    expect((await replay({ ...listOnly, chatId: chats.refused })).matched).toBe(1);
    expect((await replay({ ...listOnly, reason: 'AUTHORIZATION' })).matched).toBe(1);
    expect((await replay({ ...listOnly, sinceMs: 60 * 60_000 })).matched).toBe(3);
    // Seen from two hours on, none failed within the last hour.
    const later = () => Date.now() + 2 * 60 * 60_000;
    expect((await replay({ ...listOnly, sinceMs: 60 * 60_000, now: later })).matched).toBe(0);
    const dry = await cli(['--dry-run', '--chat', chats.rating]);
    expect(dry.code).toBe(0);
    expect(dry.output).toContain('1 failed job(s) match');
    expect(dry.output).toContain(chats.rating);
    expect((await replay({ ...listOnly })).matched).toBe(3);
  });

  it('asks, and without a terminal or --yes changes nothing', async () => {
    const refused = await cli(['--chat', chats.refused]);
    expect(refused.output).toContain('pass --yes to go ahead');
    expect((await replay({ ...listOnly, chatId: chats.refused })).matched).toBe(1);
    expect((await cli(['--queue', 'nope'])).output).toContain('unknown queue(s) nope');
  });

  it('replays with the job ids kept: a message already sent is not sent again', async () => {
    const sentJob = await failedJobOf('canned-responses', chats.sent);
    const run = await cli(['--chat', chats.sent, '--yes']);
    expect(run.code).toBe(0);
    expect(run.output).toContain('replayed 1 of 1');
    const done = await completed('canned-responses', sentJob?.id);
    expect(outcomeOf(done)).toEqual({ outcome: 'skipped', reason: 'already sent' });
    expect(botEventsIn(stack, chats.sent, PREFIX.tag)).toHaveLength(1);

    // The refused whisper, replayed now that LiveChat takes it, is sent once.
    const refusedJob = await failedJobOf('canned-responses', chats.refused);
    const again = await cli(['--chat', chats.refused, '--queue', 'canned-responses', '--yes']);
    expect(again.code).toBe(0);
    const whispered = await completed('canned-responses', refusedJob?.id);
    expect(outcomeOf(whispered)).toMatchObject({ outcome: 'sent' });
    expect(botEventsIn(stack, chats.refused, PREFIX.tag)).toHaveLength(1);
    // The rating job was not touched.
    expect((await replay({ ...listOnly })).matched).toBe(1);
  });
});
