import { parseArgs } from 'node:util';
import { loadConfig, loadRulesFile, WorkerEnv } from '@nudge/config';
import { parseQueueNames } from '@nudge/queues';
import { ConfigError, installShutdown, runService } from '@nudge/runtime';
import { createLogger, exitAfterFlush } from '@nudge/telemetry';
import { queuesOf, startWorker } from './worker.js';

const SERVICE = 'worker';

/** `--queues a,b`: the queues this process takes jobs from (default all). */
const selectedQueues = (): string[] => {
  const all = queuesOf();
  const { values } = parseArgs({ options: { queues: { type: 'string' } } });
  if (!values.queues) {
    return all;
  }
  try {
    return parseQueueNames(values.queues, all);
  } catch (err) {
    throw new ConfigError([`--queues: ${(err as Error).message}`]);
  }
};

await runService(SERVICE, async () => {
  const queueNames = selectedQueues();
  const config = loadConfig(WorkerEnv, process.env);
  const rules = await loadRulesFile(config.NUDGE_CONFIG, process.env);
  const log = createLogger({
    service: SERVICE,
    level: config.LOG_LEVEL,
    pretty: config.LOG_PRETTY,
  });
  const worker = await startWorker({ config, rules, queueNames, log });
  installShutdown({
    drain: worker.drain,
    messages: {
      start: 'shutting down: no new jobs',
      drained: 'active jobs finished',
      deadline: 'shutdown deadline passed: abandoning active jobs (they will stall and re-run)',
    },
    release: worker.release,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    log,
    exit: (code) => exitAfterFlush(log, code),
  });
  await worker.ready;
  log.info(
    {
      queues: queueNames,
      organizations: rules.organizations.size,
      metricsPort: worker.metricsPort,
    },
    'worker ready',
  );
});
