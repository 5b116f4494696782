import type { Server } from 'node:http';
import type { Logger } from '@nudge/telemetry';

export type ShutdownOptions = {
  server: Server;
  /** Run in order after the server stopped taking requests (close queues, then Redis). */
  release: { name: string; run: () => Promise<unknown> }[];
  timeoutMs: number;
  log: Logger;
  /** Called once, when the signal arrives, so answers can carry `Connection: close`. */
  onStart: () => void;
  exit: (code: number) => void;
};

/**
 * Installs the SIGTERM/SIGINT handler: stop accepting, let in-flight webhooks finish (their
 * answers depend on Redis, so Redis closes last), then exit 0 — or 1 if the deadline passed
 * or a step failed. Runs once however many signals arrive.
 */
export const installShutdown = ({
  server,
  release,
  timeoutMs,
  log,
  onStart,
  exit,
}: ShutdownOptions): void => {
  let started = false;
  const shutdown = async (signal: string) => {
    if (started) {
      return;
    }
    started = true;
    onStart();
    log.info({ signal, timeoutMs }, 'shutting down: no new connections');
    let code = 0;
    const drained = new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeIdleConnections();
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    if ((await Promise.race([drained, deadline])) === 'timeout') {
      log.error({ timeoutMs }, 'shutdown deadline passed: dropping open connections');
      server.closeAllConnections();
      code = 1;
    } else {
      log.info('in-flight requests finished');
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
