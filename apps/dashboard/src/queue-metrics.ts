import { Gauge, type Registry } from '@nudge/telemetry';
import type { Queue } from 'bullmq';

const STATES = ['waiting', 'delayed', 'active', 'failed', 'completed'] as const;

/**
 * How long the oldest waiting job of `queue` has waited, in seconds (0 when none waits). A job
 * waits from when it became due: its creation plus its delay (a timer's, or a retry's
 * backoff), or, after an attempt, no earlier than that attempt's start.
 */
const oldestWaitingSeconds = async (queue: Queue, now: number): Promise<number> => {
  // BullMQ pushes new jobs on the left of the wait list and takes them from the right.
  const [oldest] = await queue.getWaiting(-1, -1);
  if (!oldest) {
    return 0;
  }
  const since = Math.max(oldest.timestamp + oldest.delay, oldest.processedOn ?? 0);
  return Math.max(0, now - since) / 1000;
};

/**
 * Runs a gauge's reading; when Redis can't answer, the gauge's series are left out of this
 * scrape (absent, not stale or zero) and the process's own metrics are still served.
 */
const settle = async (gauge: Gauge, read: () => Promise<unknown>): Promise<void> => {
  try {
    await read();
  } catch {
    gauge.reset();
  }
};

/**
 * The queue gauges, read from Redis at each scrape (a few commands per queue): jobs by state,
 * the oldest waiting job's age, and the workers connected (BullMQ's CLIENT LIST; absent where
 * the Redis forbids it).
 */
export const registerQueueMetrics = (
  registry: Registry,
  queues: readonly Queue[],
  now: () => number = Date.now,
): void => {
  new Gauge({
    name: 'nudge_queue_jobs',
    help: 'Jobs in each queue by state (waiting, delayed, active, failed, completed)',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      await settle(this, async () => {
        await Promise.all(
          queues.map(async (queue) => {
            const counts = await queue.getJobCounts(...STATES);
            for (const state of STATES) {
              this.set({ queue: queue.name, state }, counts[state] ?? 0);
            }
          }),
        );
      });
    },
  });
  new Gauge({
    name: 'nudge_queue_oldest_waiting_seconds',
    help: 'How long the oldest job waiting in each queue has been due (0 when none waits)',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      const at = now();
      await settle(this, () =>
        Promise.all(
          queues.map(async (queue) => {
            this.set({ queue: queue.name }, await oldestWaitingSeconds(queue, at));
          }),
        ),
      );
    },
  });
  new Gauge({
    name: 'nudge_queue_workers',
    help: 'Worker connections serving each queue',
    labelNames: ['queue'],
    registers: [registry],
    async collect() {
      await Promise.all(
        queues.map(async (queue) => {
          const count = await queue.getWorkersCount().catch(() => undefined);
          if (count !== undefined) {
            this.set({ queue: queue.name }, count);
          }
        }),
      );
    },
  });
};
