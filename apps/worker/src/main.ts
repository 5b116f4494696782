import { parseArgs } from 'node:util';
import { ConfigError, loadConfig, loadRulesFile, WorkerEnv } from '@nudge/config';
import { createRedisTokenCache } from '@nudge/livechat';
import {
  assertQueueRedisPolicy,
  createWorkerConnection,
  DEFAULT_JOB_OPTIONS,
  EvictionPolicyError,
  QUEUE_NAMES,
  QUEUE_RETENTION,
  type QueueName,
  watchConnection,
} from '@nudge/queues';
import { createLogger, createMetricsRegistry, exitAfterFlush } from '@nudge/telemetry';
import { Queue, Worker } from 'bullmq';
import { createBotStatusGate } from './bot-status.js';
import type { WorkerContext } from './context.js';
import { HANDLERS } from './handlers.js';
import { createLivechatClients } from './livechat-clients.js';
import { createProcessor } from './processor.js';
import { installShutdown } from './shutdown.js';
import { createSkippedEventReporter } from './skipped-events.js';

const SERVICE = 'worker';
const ALL_QUEUES = Object.values(QUEUE_NAMES);

const fail = (err: unknown): never => {
  const log = createLogger({ service: SERVICE });
  if (err instanceof ConfigError) {
    log.fatal({ issues: err.issues }, err.message);
  } else {
    log.fatal({ err }, err instanceof Error ? err.message : String(err));
  }
  exitAfterFlush(log, 1);
  return undefined as never;
};

const selectedQueues = (): QueueName[] => {
  const { values } = parseArgs({ options: { queues: { type: 'string' } } });
  if (!values.queues) {
    return ALL_QUEUES;
  }
  const names = values.queues
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  const unknown = names.filter((name) => !(ALL_QUEUES as string[]).includes(name));
  if (unknown.length > 0 || names.length === 0) {
    throw new ConfigError([
      `--queues: unknown queue(s) ${unknown.join(', ')}; known: ${ALL_QUEUES.join(', ')}`,
    ]);
  }
  return names as QueueName[];
};

const main = async () => {
  const queueNames = selectedQueues();
  const config = loadConfig(WorkerEnv, process.env);
  const rules = await loadRulesFile(config.NUDGE_CONFIG, process.env);
  const log = createLogger({
    service: SERVICE,
    level: config.LOG_LEVEL,
    pretty: config.LOG_PRETTY,
  });
  const exit = (code: number) => exitAfterFlush(log, code);
  const prefix = config.QUEUE_PREFIX;

  // Workers wait for Redis (and reconnect) forever; the policy check waits for the first connect.
  const redis = createWorkerConnection(config.REDIS_URL);
  // One line when Redis goes away and one when it is back; BullMQ's own errors meanwhile are
  // the same outage again.
  const connection = watchConnection({ redis, log });
  const logError = (err: Error, what: string, queue: string) => {
    if (!connection.isDown()) {
      log.error({ err, queue }, what);
    }
  };
  try {
    const report = await assertQueueRedisPolicy(redis);
    if (report.aofEnabled === false) {
      log.warn('redis runs without AOF: a Redis restart loses queued jobs');
    }
  } catch (err) {
    if (err instanceof EvictionPolicyError) {
      log.fatal({ err }, err.message);
      return exit(1);
    }
    throw err;
  }

  // Not served yet (no /metrics endpoint in the worker); counted for when it is.
  const metrics = createMetricsRegistry({ service: SERVICE });
  const reportSkippedEvent = createSkippedEventReporter({ registry: metrics, log });
  const livechat = createLivechatClients({
    baseUrl: config.LIVECHAT_API_URL,
    timeoutMs: config.LIVECHAT_TIMEOUT_MS,
    tokenCache: createRedisTokenCache({ redis, prefix }),
    log,
    onSkippedEvent: (skipped) => reportSkippedEvent(skipped),
  });
  const queue = (name: QueueName) => {
    const created = new Queue(name, {
      connection: redis,
      prefix,
      defaultJobOptions: DEFAULT_JOB_OPTIONS,
    });
    created.on('error', (err) => logError(err, 'queue error', name));
    return created;
  };
  const queues = {
    idleReply: queue(QUEUE_NAMES.idleReply),
    cannedResponses: queue(QUEUE_NAMES.cannedResponses),
    ratingReactions: queue(QUEUE_NAMES.ratingReactions),
  };
  const queueByName: Record<QueueName, Queue> = {
    'livechat-events': queue(QUEUE_NAMES.livechatEvents),
    'idle-reply': queues.idleReply,
    'canned-responses': queues.cannedResponses,
    'rating-reactions': queues.ratingReactions,
  };
  const ctx: WorkerContext = {
    redis,
    prefix,
    rules,
    queues,
    livechat,
    botStatus: createBotStatusGate({
      redis,
      prefix,
      statusReader: (organizationId) => {
        const organization = rules.organizations.get(organizationId);
        return organization ? livechat.asAccount(organization) : undefined;
      },
      log,
    }),
    reportSkippedEvent,
    livechatTimeoutMs: config.LIVECHAT_TIMEOUT_MS,
    log,
    now: Date.now,
  };

  const concurrency: Record<QueueName, number> = {
    'livechat-events': config.CONCURRENCY_LIVECHAT_EVENTS,
    'idle-reply': config.CONCURRENCY_IDLE_REPLY,
    'canned-responses': config.CONCURRENCY_CANNED_RESPONSES,
    'rating-reactions': config.CONCURRENCY_RATING_REACTIONS,
  };
  const workers = queueNames.map((name) => {
    const worker = new Worker(
      name,
      createProcessor({
        handlers: HANDLERS[name],
        ctx,
        rateLimit: (ms) => queueByName[name].rateLimit(ms),
        rateLimitMs: config.LIVECHAT_RATE_LIMIT_MS,
      }),
      {
        connection: redis,
        prefix,
        concurrency: concurrency[name],
        lockDuration: config.WORKER_LOCK_DURATION_MS,
        stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
        removeOnComplete: QUEUE_RETENTION.completed,
        removeOnFail: QUEUE_RETENTION.failed,
        // A job whose processing kills the worker would otherwise crash-loop every worker.
        maxStartedAttempts: DEFAULT_JOB_OPTIONS.attempts + 2,
        // BullMQ honours a queue-wide pause (too_many_requests → Queue.rateLimit) only when
        // the worker has a limiter; this one is far above anything LiveChat allows, so it only
        // switches that mechanism on.
        limiter: { max: 10_000, duration: 1_000 },
        autorun: false,
      },
    );
    worker.on('error', (err) => logError(err, 'worker error', name));
    worker.on('stalled', (jobId) =>
      log.warn({ queue: name, jobId }, 'job stalled: its worker stopped; re-running'),
    );
    worker.on('failed', (job, err) =>
      log.warn(
        { queue: name, jobId: job?.id, attempts: job?.attemptsMade, reason: err.message },
        'job failed',
      ),
    );
    return worker;
  });

  installShutdown({
    workers,
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    log,
    exit,
    release: [
      { name: 'queues', run: () => Promise.all(Object.values(queueByName).map((q) => q.close())) },
      // QUIT needs a live connection; while Redis is away there is nothing to say goodbye to.
      {
        name: 'redis',
        run: async () => (connection.isDown() ? redis.disconnect() : await redis.quit()),
      },
    ],
  });
  for (const worker of workers) {
    worker.run().catch((err: unknown) => log.error({ err }, 'worker stopped'));
  }
  await Promise.all(workers.map((worker) => worker.waitUntilReady()));
  log.info({ queues: queueNames, organizations: rules.organizations.size }, 'worker ready');
};

await main().catch(fail);
