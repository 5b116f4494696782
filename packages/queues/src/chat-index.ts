import { createRedisKeys, defineRedisScript, REDIS_TTL_MS, type RedisClient } from '@nudge/runtime';
import type { Job } from 'bullmq';

/**
 * Which jobs are about which LiveChat chat: one sorted set per chat (`chatJobs` in the Redis
 * keys), `queue|jobId` scored by when the job was added, living as long as a failed job is
 * kept. Written next to each job (ingest for webhooks, the route step and rule jobs for rule
 * jobs), read by the dashboard's "find by chat": one ZRANGE however many jobs Redis retains,
 * where a scan would read them all.
 */
export type ChatJobEntry = { queue: string; jobId: string; chatId: string };

/** An indexed job: its queue, its id, and when it was added (ms). */
export type IndexedJob = { queue: string; jobId: string; at: number };

const SEPARATOR = '|';

// KEYS: one index per entry; ARGV[1] the score (now), ARGV[2] the TTL, then one member per key.
const INDEX = defineRedisScript(`for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, ARGV[1], ARGV[i + 2])
  redis.call('PEXPIRE', key, ARGV[2])
end
return #KEYS`);

export type ChatJobIndex = {
  /** Adds the entries in one command (a script); jobs without a chat are not indexed. */
  add: (entries: readonly ChatJobEntry[]) => Promise<void>;
  /** The chat's newest `limit` jobs, newest first. */
  read: (chatId: string, limit?: number) => Promise<IndexedJob[]>;
  /** Drops entries whose jobs are gone (removed by retention). */
  forget: (chatId: string, jobs: readonly IndexedJob[]) => Promise<void>;
};

// On a Redis Cluster the index keys of every chat share one hash tag (`RedisLayout.keyPrefix`),
// so `add`'s script, which spans chats, runs on one node (Redis requires it).
/** The index under `prefix`, the prefix of Nudge's keys (`RedisLayout.keyPrefix`). */
export const createChatJobIndex = (
  redis: RedisClient,
  prefix: string,
  now: () => number = Date.now,
): ChatJobIndex => {
  const keys = createRedisKeys(prefix);
  return {
    add: async (entries) => {
      if (entries.length > 0) {
        await INDEX.run(
          redis,
          entries.map(({ chatId }) => keys.chatJobs(chatId)),
          [
            now(),
            REDIS_TTL_MS.chatJobs,
            ...entries.map(({ queue, jobId }) => `${queue}${SEPARATOR}${jobId}`),
          ],
        );
      }
    },
    read: async (chatId, limit = 500) => {
      const raw = await redis.zrevrange(keys.chatJobs(chatId), 0, limit - 1, 'WITHSCORES');
      const jobs: IndexedJob[] = [];
      for (let i = 0; i + 1 < raw.length; i += 2) {
        const member = raw[i] ?? '';
        const cut = member.indexOf(SEPARATOR);
        if (cut > 0) {
          jobs.push({
            queue: member.slice(0, cut),
            jobId: member.slice(cut + 1),
            at: Number(raw[i + 1]),
          });
        }
      }
      return jobs;
    },
    forget: async (chatId, jobs) => {
      if (jobs.length > 0) {
        await redis.zrem(
          keys.chatJobs(chatId),
          ...jobs.map(({ queue, jobId }) => `${queue}${SEPARATOR}${jobId}`),
        );
      }
    },
  };
};

/**
 * Puts a failed job back to run again with its id kept (so custom_id and the sent markers
 * still make each bot message happen once) and its attempts reset (a replayed job gets its
 * full retry budget). False when the job is no longer failed (retried or removed meanwhile).
 */
export const retryFailedJob = async (job: Job): Promise<boolean> => {
  if (!(await job.isFailed())) {
    return false;
  }
  await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
  return true;
};
