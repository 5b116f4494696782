import { setTimeout as delay } from 'node:timers/promises';
import { chatIdOfEnvelope } from '@nudge/livechat';
import { QUEUE_NAMES, retryFailedJob } from '@nudge/queues';
import type { RedisClient, RedisLayout } from '@nudge/runtime';
import { type Job, Queue } from 'bullmq';
import { SingleBar } from 'cli-progress';

/** Which failed jobs to replay; every filter given must hold. */
export type ReplayFilter = {
  /** Only these queues (default every Nudge queue). */
  queues?: readonly string[];
  /** Only jobs that failed at most this long ago (ms). */
  sinceMs?: number;
  /** Only jobs about this LiveChat chat. */
  chatId?: string;
  /** Only jobs whose failure reason contains this (case-insensitive). */
  reason?: string;
};

export type ReplayOptions = ReplayFilter & {
  redis: RedisClient;
  /** Where the queues' keys live (`createRedisLayout`). */
  layout: RedisLayout;
  /** List what would be replayed; change nothing. */
  dryRun: boolean;
  /** Asked once, after the list; false stops with nothing changed. */
  confirm: (question: string) => Promise<boolean>;
  /** At most this many jobs put back per second, so a large replay leaves room for live traffic. */
  perSecond: number;
  out: (line: string) => void;
  /** Draws a progress bar (a terminal); otherwise one line at the end. */
  progress: boolean;
  now?: () => number;
};

export type ReplayResult = { matched: number; replayed: number };

const PAGE = 1_000;

/** The chat a job is about: a rule job's `chatId`, a stored webhook's chat. */
export const chatIdOfJob = (job: Job): string | undefined => {
  const data = (job.data ?? {}) as { chatId?: unknown; envelope?: { payload?: unknown } };
  if (data.envelope !== undefined) {
    return chatIdOfEnvelope(data.envelope);
  }
  return typeof data.chatId === 'string' ? data.chatId : undefined;
};

const matches = (job: Job, { sinceMs, chatId, reason }: ReplayFilter, now: number): boolean =>
  (sinceMs === undefined || (job.finishedOn ?? 0) >= now - sinceMs) &&
  (chatId === undefined || chatIdOfJob(job) === chatId) &&
  (reason === undefined || (job.failedReason ?? '').toLowerCase().includes(reason.toLowerCase()));

/** Every failed job of `queue` matching the filter, page by page. */
const failedJobs = async (queue: Queue, filter: ReplayFilter, now: number): Promise<Job[]> => {
  const found: Job[] = [];
  for (let start = 0; ; start += PAGE) {
    const page = (await queue.getFailed(start, start + PAGE - 1)).filter(Boolean);
    found.push(...page.filter((job) => matches(job, filter, now)));
    if (page.length < PAGE) {
      return found;
    }
  }
};

/** `2h`, `30m`, `90s`, `1d` → ms. */
export const parseDuration = (text: string): number => {
  const match = /^(\d+(?:\.\d+)?)\s*(s|m|h|d)$/.exec(text.trim());
  if (!match) {
    throw new Error(`--since ${text}: expected a duration such as 90s, 30m, 2h or 1d`);
  }
  const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[match[2] as 's'];
  return Number(match[1]) * unit;
};

const describe = (job: Job, queue: string) =>
  `  ${queue} ${job.name} ${job.id} chat ${chatIdOfJob(job) ?? '-'} failed ${new Date(job.finishedOn ?? 0).toISOString()}: ${(job.failedReason ?? '').slice(0, 120)}`;

/**
 * `nudge replay`: puts failed jobs back to run again, with their ids (so the custom_id and
 * sent markers still make each bot message happen once), their attempts reset, at a bounded
 * rate. Lists them first; asks unless told not to.
 */
export const runReplay = async ({
  redis,
  layout,
  dryRun,
  confirm,
  perSecond,
  out,
  progress,
  now = Date.now,
  ...filter
}: ReplayOptions): Promise<ReplayResult> => {
  const names = filter.queues ?? Object.values(QUEUE_NAMES);
  const queues = names.map(
    (name) => new Queue(name, { connection: redis, prefix: layout.queuePrefix(name) }),
  );
  try {
    const at = now();
    const found: { queue: string; job: Job }[] = [];
    for (const queue of queues) {
      for (const job of await failedJobs(queue, filter, at)) {
        found.push({ queue: queue.name, job });
      }
    }
    out(`${found.length} failed job(s) match`);
    for (const { queue, job } of found) {
      out(describe(job, queue));
    }
    if (dryRun || found.length === 0) {
      return { matched: found.length, replayed: 0 };
    }
    if (!(await confirm(`Replay ${found.length} job(s)?`))) {
      return { matched: found.length, replayed: 0 };
    }
    const bar = progress ? new SingleBar({ clearOnComplete: false }) : undefined;
    bar?.start(found.length, 0);
    let replayed = 0;
    for (const { job } of found) {
      // A job retried or removed since it was listed is left alone.
      if (await retryFailedJob(job)) {
        replayed += 1;
      }
      bar?.increment();
      await delay(1_000 / perSecond);
    }
    bar?.stop();
    out(`replayed ${replayed} of ${found.length}`);
    return { matched: found.length, replayed };
  } finally {
    await Promise.all(queues.map((queue) => queue.close()));
  }
};
