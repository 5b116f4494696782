import { readFile } from 'node:fs/promises';
import { QUEUE_RETENTION, retryFailedJob } from '@nudge/queues';
import { describe, expect, it } from 'vitest';
import { failedCounts, sendsPerCustomId, waitForDrained } from '../src/chaos-helpers.js';
import { runChaosLoad } from '../src/chaos-load.js';
import { QUEUE_NAMES } from '../src/chaos-stack.js';
import { checkInvariants } from '../src/invariants.js';
import { PROFILE } from '../src/profile.js';
import { chaosRows, expectedActions, logReport } from '../src/rows.js';

// The big run (matrix W7, with R1 twice and L1/L2/L4/L5 along the way): three workers under a
// steady load of chats while a supervisor SIGKILLs a random worker every few seconds (and
// starts another), Redis is killed -9 twice and restarted on its AOF (appendfsync everysec, as
// in production), and LiveChat fails in every way it can for a while. LiveChat retries each
// webhook it could not deliver, as it does. Nothing answered 200 may be lost, nothing may
// happen twice.

const rows = chaosRows();

/** Three workers and a dashboard, LiveChat retrying about 3 times within a minute (here 12 s). */
const startBigRun = async () => {
  const stack = await rows.start({
    workers: 3,
    dashboard: true,
    sandbox: { delivery: { timeoutMs: 3_000, retryDelaysMs: [1_000, 3_000, 8_000] } },
  });
  await stack.setBotStatus('accepting_chats');
  return { stack, expected: expectedActions(stack) };
};

describe('the big run (W7)', () => {
  it(`${PROFILE.bigRunChats} chats (≥ 1 000 webhooks), 3 workers killed at random, Redis killed twice: 0 lost, 0 duplicated`, async () => {
    const { stack, expected } = await startBigRun();
    const stats = await runChaosLoad(stack, {
      chats: PROFILE.bigRunChats,
      durationMs: PROFILE.bigRunMs,
      killEveryMs: 5_000,
      redisRestarts: 2,
      redisOutageMs: 1_000,
      livechatFaults: true,
      expected,
    });
    expect(stats.redisRestarts).toBe(2);
    expect(stats.workerKills).toBeGreaterThanOrEqual(PROFILE.bigRunMs / 10_000);

    // Invariant 1 as the run left it: each action sent once, or one visible failed job (a job
    // that stalled twice, its workers killed under it both times).
    const report = await checkInvariants(stack, { actions: expected.actions });
    logReport('big run', report);
    expect(report.violations).toEqual([]);
    expect(report.webhooks).toBeGreaterThanOrEqual(1_000);
    expect(report.unacknowledged).toBe(0);
    expect(report.lost).toEqual([]);
    expect(report.duplicated).toEqual([]);
    for (const job of report.failedJobs) {
      expect(job.reason).toMatch(/stalled more than allowable limit/);
    }

    // The operator replays what failed: then every action has happened, each exactly once.
    for (const { queue, id } of report.failedJobs) {
      const job = await stack.queue(queue).getJob(id);
      expect(job && (await retryFailedJob(job))).toBe(true);
    }
    for (const name of Object.values(QUEUE_NAMES)) {
      await waitForDrained(stack.queue(name), 60_000);
    }
    const sends = sendsPerCustomId(stack);
    expect([...sends.keys()].sort()).toEqual([...expected.actions.keys()].sort());
    expect([...sends.values()].every((count) => count === 1)).toBe(true);
    expect(await failedCounts(stack)).toEqual(
      Object.fromEntries(Object.values(QUEUE_NAMES).map((name) => [name, 0])),
    );
    console.log(
      `[chaos] big run (${PROFILE.name}): ${stats.chats} chats, ${report.webhooks} webhooks, ${sends.size} bot messages, ${stats.workerKills} workers killed, ${stats.redisRestarts} Redis restarts, ${report.failedJobs.length} jobs failed and replayed`,
    );
    rows.expect({ actions: expected.actions });
  }, 600_000);
});

/** Resident memory of a process, from /proc (Linux), in bytes. */
const rssOf = async (pid: number | undefined): Promise<number> => {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? 0) * 1024;
};

describe('the soak (S2; on demand: npm run test:chaos -- --soak MINUTES)', () => {
  const minutes = PROFILE.soakMinutes;
  it.runIf(minutes > 0)(
    `the big run over and over for ${minutes} minutes, Redis restarted every 3: RSS, used_memory and keys stay flat`,
    async () => {
      const { stack, expected } = await startBigRun();
      // A worker the chaos never kills, to watch its memory over the whole soak.
      const steady = await stack.startWorker();
      const until = Date.now() + minutes * 60_000;
      let lastRestart = Date.now();
      const samples: {
        rss: Record<string, number>;
        unexplained: number;
        structure: number;
        retainedJobKeys: number;
        orphans: number;
      }[] = [];
      // At least three rounds: a warm-up, and two to compare with it.
      for (let round = 1; Date.now() < until || round <= 3; round += 1) {
        const restart = Date.now() - lastRestart >= 3 * 60_000;
        if (restart) {
          lastRestart = Date.now();
        }
        await runChaosLoad(stack, {
          chats: 60,
          durationMs: 20_000,
          killEveryMs: 10_000,
          redisRestarts: restart ? 1 : 0,
          redisOutageMs: 1_000,
          livechatFaults: round % 2 === 0,
          expected,
        });
        const report = await checkInvariants(stack, { actions: expected.actions });
        logReport(`soak round ${round}`, report);
        expect(report.violations).toEqual([]);
        for (const { queue, id } of report.failedJobs) {
          const job = await stack.queue(queue).getJob(id);
          await (job && retryFailedJob(job));
        }
        // Long-lived processes only: the other workers come and go.
        const rss = {
          ingest: await rssOf(stack.ingest.child.pid),
          dashboard: await rssOf(stack.dashboard?.proc.child.pid),
          worker: await rssOf(steady.child.pid),
        };
        const { census } = report;
        samples.push({
          rss,
          unexplained:
            census.usedMemory -
            census.keyBytes -
            (stack.baseline.usedMemory - stack.baseline.keyBytes),
          structure: census.structure,
          retainedJobKeys: census.retainedJobKeys,
          orphans: census.orphans.length,
        });
        console.log(`[chaos] soak round ${round}: ${JSON.stringify(samples.at(-1))}`);
      }
      // After a warm-up round, nothing grows but what retention bounds: the processes' memory,
      // Redis's memory beyond its keys, the queues' own keys; and no key is left unaccounted for.
      const [, warm, ...rest] = samples;
      expect(warm).toBeDefined();
      for (const sample of rest) {
        for (const [name, bytes] of Object.entries(sample.rss)) {
          expect(bytes, `${name} RSS`).toBeLessThan(
            (warm?.rss[name] ?? 0) * 1.5 + 32 * 1024 * 1024,
          );
        }
        // Two keys a job at most (its hash and its logs), and each queue keeps 5 000 completed.
        expect(sample.retainedJobKeys).toBeLessThanOrEqual(
          Object.values(QUEUE_NAMES).length * 2 * (QUEUE_RETENTION.completed.count + 100),
        );
        expect(sample.unexplained).toBeLessThan(16 * 1024 * 1024);
        expect(sample.structure).toBeLessThanOrEqual(Object.values(QUEUE_NAMES).length * 17);
        expect(sample.orphans).toBe(0);
      }
      rows.expect({ actions: expected.actions });
    },
    (minutes + 10) * 60_000,
  );
});
