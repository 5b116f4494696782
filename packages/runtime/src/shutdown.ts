import type { Logger } from '@nudge/telemetry';

/** The signals that stop a process cleanly: Ctrl-C, a stop (docker, systemd, kill), a closed terminal. */
export const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** One thing to close once work stopped, in order (e.g. queues, then Redis). */
export type ShutdownStep = { name: string; run: () => Promise<unknown> };

export type InstallShutdownOptions = {
  /** Stops taking new work and resolves once the work in flight finished. */
  drain: () => Promise<unknown>;
  /** Log lines: when the signal arrives, when the drain finished, when the deadline passed. */
  messages: { start: string; drained: string; deadline: string };
  /** Called when the deadline passes before the drain finished (e.g. drop open connections). */
  onDeadline?: () => void;
  /** Called once, when the signal arrives, before the drain starts. */
  onStart?: () => void;
  release: ShutdownStep[];
  timeoutMs: number;
  log: Logger;
  exit: (code: number) => void;
};

/**
 * Installs the handler of the STOP_SIGNALS: drain, then release in order, then exit 0 — or 1 if
 * the deadline passed or a step failed. Runs once however many signals arrive.
 */
export const installShutdown = ({
  drain,
  messages,
  onDeadline,
  onStart,
  release,
  timeoutMs,
  log,
  exit,
}: InstallShutdownOptions): void => {
  let started = false;
  const shutdown = async (signal: string) => {
    if (started) {
      return;
    }
    started = true;
    onStart?.();
    log.info({ signal, timeoutMs }, messages.start);
    let code = 0;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    if ((await Promise.race([drain(), deadline])) === 'timeout') {
      log.error({ timeoutMs }, messages.deadline);
      onDeadline?.();
      code = 1;
    } else {
      log.info(messages.drained);
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
  // SIGHUP: the terminal it ran in was closed.
  for (const signal of STOP_SIGNALS) {
    process.on(signal, () => void shutdown(signal));
  }
};
