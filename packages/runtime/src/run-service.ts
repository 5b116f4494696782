import { createLogger, exitAfterFlush, type Logger } from '@nudge/telemetry';
import { ConfigError } from './config-error.js';

/**
 * Runs a service's start-up. A failure before it is up (bad configuration above all) is one
 * fatal log line, flushed, then exit 1: never a stack trace, never a process left half up.
 */
export const runService = async (
  service: string,
  main: () => Promise<void>,
  log: Logger = createLogger({ service }),
): Promise<void> => {
  try {
    await main();
  } catch (err) {
    if (err instanceof ConfigError) {
      log.fatal({ issues: err.issues }, err.message);
    } else {
      log.fatal({ err }, err instanceof Error ? err.message : String(err));
    }
    exitAfterFlush(log, 1);
  }
};
