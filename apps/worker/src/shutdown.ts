import type { Logger } from '@nudge/telemetry';
import type { Worker } from 'bullmq';

export type WorkerShutdownOptions = {
  workers: Worker[];
  /** Closed in order once the workers stopped (queues, then Redis). */
  release: { name: string; run: () => Promise<unknown> }[];
  timeoutMs: number;
  log: Logger;
  exit: (code: number) => void;
};

/**
 * SIGTERM/SIGINT: stop fetching jobs and let the active ones finish; past the deadline, stop
 * waiting for them (they stall and another worker re-runs them — which the send guards make
 * safe), then close queues and Redis and exit (0, or 1 after abandoning jobs).
 */
export const installShutdown = ({
  workers,
  release,
  timeoutMs,
  log,
  exit,
}: WorkerShutdownOptions): void => {
  let started = false;
  const shutdown = async (signal: string) => {
    if (started) {
      return;
    }
    started = true;
    log.info({ signal, timeoutMs }, 'shutting down: no new jobs');
    let code = 0;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const drained = Promise.allSettled(workers.map((worker) => worker.close()));
    if ((await Promise.race([drained, deadline])) === 'timeout') {
      log.error(
        { timeoutMs },
        'shutdown deadline passed: abandoning active jobs (they will stall and re-run)',
      );
      // Not `await worker.close(true)`: with a close already under way BullMQ returns that same
      // promise, which waits for the very jobs being abandoned (a hung LiveChat call would hold
      // the exit until its own timeout). Exiting stops their lock renewal, so they stall.
      code = 1;
    } else {
      log.info('active jobs finished');
    }
    clearTimeout(timer);
    for (const step of release) {
      try {
        await step.run();
        log.info({ step: step.name }, 'closed');
      } catch (err) {
        log.error({ err, step: step.name }, 'close failed');
        code = 1;
      }
    }
    log.info({ code }, 'bye');
    exit(code);
  };
  // `on`, not `once`: a second signal must not fall through to Node's default (instant death).
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
};
