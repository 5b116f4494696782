import type { Queue } from 'bullmq';

export type StuckJob = { queue: string; jobId: string; activeMs: number };

export type ActiveMonitor = {
  /** Jobs seen active (in one run: same processedOn) longer than the bound, worst first. */
  stuck: () => StuckJob[];
  /** Raises the bound for what follows (a row whose LiveChat answers slowly on purpose). */
  setBoundMs: (ms: number) => void;
  stop: () => void;
};

/**
 * Polls the queues' active jobs and remembers how long each run of each job has been seen
 * active. A worker that died holding a job leaves it active until another worker's stalled
 * check takes it back (lockDuration + stalledInterval); longer than that plus the longest a
 * job may legitimately run means "stuck". Time while Redis can't be read doesn't count: a job
 * can't be recovered while Redis is away, and the monitor starts over when it is back.
 */
export const startActiveMonitor = ({
  queues,
  boundMs,
  intervalMs = 250,
}: {
  queues: readonly Queue[];
  boundMs: number;
  intervalMs?: number;
}): ActiveMonitor => {
  let bound = boundMs;
  const firstSeen = new Map<string, number>();
  const stuck = new Map<string, StuckJob>();
  let stopped = false;

  const poll = async () => {
    const now = Date.now();
    const seen = new Set<string>();
    try {
      for (const queue of queues) {
        for (const job of await queue.getActive()) {
          if (!job?.id) {
            continue;
          }
          const run = `${queue.name}|${job.id}|${job.processedOn ?? 0}`;
          seen.add(run);
          const since = firstSeen.get(run) ?? now;
          firstSeen.set(run, since);
          if (now - since > bound) {
            stuck.set(run, { queue: queue.name, jobId: job.id, activeMs: now - since });
          }
        }
      }
    } catch {
      firstSeen.clear();
      return;
    }
    for (const run of firstSeen.keys()) {
      if (!seen.has(run)) {
        firstSeen.delete(run);
      }
    }
  };
  const loop = async () => {
    while (!stopped) {
      await poll();
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  };
  void loop();

  return {
    stuck: () => [...stuck.values()].sort((a, b) => b.activeMs - a.activeMs),
    setBoundMs: (ms) => {
      bound = ms;
    },
    stop: () => {
      stopped = true;
    },
  };
};
