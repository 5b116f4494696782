import type { Server } from 'node:http';
import type { NudgeRules, WorkerEnv } from '@nudge/config';
import { CachedBotToken } from '@nudge/livechat';
import {
  assertQueueRedisPolicy,
  createChatJobIndex,
  createEventProducer,
  createWorkerConnection,
  DEFAULT_JOB_OPTIONS,
  EVENTS_QUEUE,
  type EventProducer,
  HASH_LISTPACK_VALUE,
  QUEUE_RETENTION,
  RECONCILE_JOB,
  watchConnection,
} from '@nudge/queues';
import { type AnyRule, RULE_SET, type RuleSet } from '@nudge/rules';
import {
  createRedisKeys,
  createRedisLayout,
  createRedisTokenCache,
  listenHttp,
  type RedisClient,
  type RedisLayout,
  type ShutdownStep,
} from '@nudge/runtime';
import { createMetricsRegistry, type Logger, type Registry } from '@nudge/telemetry';
import { Queue, Worker } from 'bullmq';
import { createBotStatusGate } from './bot-status.js';
import type { WorkerContext } from './context.js';
import { createHealthServer } from './health.js';
import { createInlineActing } from './inline.js';
import { createLivechatClients } from './livechat-clients.js';
import { createWorkerMetrics, type WorkerMetrics } from './metrics.js';
import { createProcessor, type Handler } from './processor.js';
import { reconcileJob } from './reconcile-job.js';
import { routeEvent } from './route-event.js';
import { ruleHandlers } from './rule-jobs.js';
import { createSkippedEventReporter } from './skipped-events.js';

/** The queues a set of rules uses: the webhooks' queue first, then each rule's. */
export const queuesOf = (ruleSet: RuleSet<readonly AnyRule[]> = RULE_SET): string[] => [
  EVENTS_QUEUE,
  ...ruleSet.rules.map((rule) => rule.queue),
];

export type StartWorkerOptions = {
  config: WorkerEnv;
  rules: NudgeRules;
  /** The rules to run; default the registry's. */
  ruleSet?: RuleSet<readonly AnyRule[]>;
  /** The queues to take jobs from; default all of them. */
  queueNames?: readonly string[];
  log: Logger;
};

export type RunningWorker = {
  /** Stops taking jobs and resolves once the active ones finished. */
  drain: () => Promise<unknown>;
  /** Closes the queues, then Redis: to run after `drain`. */
  release: ShutdownStep[];
  /** Resolves once every worker is taking jobs. */
  ready: Promise<void>;
  /** Where /healthz, /readyz and /metrics answer. */
  metricsPort: number;
};

/** What every part of a running worker shares. */
type Plumbing = {
  config: WorkerEnv;
  redis: RedisClient;
  /** Where the queues' and Nudge's keys live (one Redis, or hash tags on a cluster). */
  layout: RedisLayout;
  log: Logger;
  /** Logs an error unless Redis is down (the outage is one line of its own). */
  logError: (err: Error, what: string, queue: string) => void;
};

const createQueues = (names: readonly string[], { redis, layout, logError }: Plumbing) =>
  new Map(
    names.map((name) => {
      const queue = new Queue(name, {
        connection: redis,
        prefix: layout.queuePrefix(name),
        defaultJobOptions: DEFAULT_JOB_OPTIONS,
      });
      queue.on('error', (err) => logError(err, 'queue error', name));
      return [name, queue] as const;
    }),
  );

const createContext = (
  { config, redis, layout, log }: Plumbing,
  {
    rules,
    ruleSet,
    queues,
    registry,
    metrics,
    producer,
  }: {
    rules: NudgeRules;
    ruleSet: RuleSet<readonly AnyRule[]>;
    queues: ReadonlyMap<string, Queue>;
    registry: Registry;
    metrics: WorkerMetrics;
    producer: EventProducer;
  },
): WorkerContext => {
  const prefix = layout.keyPrefix;
  const ruleQueues = new Map(
    ruleSet.rules.flatMap((rule) => {
      const queue = queues.get(rule.queue);
      return queue ? [[rule.key, queue] as const] : [];
    }),
  );
  const reportSkippedEvent = createSkippedEventReporter({ registry, log });
  const livechat = createLivechatClients({
    baseUrl: config.LIVECHAT_API_URL,
    timeoutMs: config.LIVECHAT_TIMEOUT_MS,
    tokenCache: createRedisTokenCache({ redis, prefix, entry: CachedBotToken }),
    log,
    onSkippedEvent: (skipped) => reportSkippedEvent(skipped),
    onCall: metrics.livechatCall,
  });
  return {
    redis,
    prefix,
    keys: createRedisKeys(prefix),
    chatJobs: createChatJobIndex(redis, prefix),
    rules,
    ruleSet,
    ruleQueues,
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
    inline: createInlineActing({
      enabled: config.WORKER_ACT_INLINE,
      metrics,
      rateLimitMs: config.LIVECHAT_RATE_LIMIT_MS,
    }),
    reportSkippedEvent,
    livechatTimeoutMs: config.LIVECHAT_TIMEOUT_MS,
    storeWebhooks: async (jobs) => {
      await Promise.all(jobs.map((job) => producer.enqueue(job)));
    },
    reconcileCallsPerSecond: config.RECONCILE_CALLS_PER_SECOND,
    log,
    now: Date.now,
  };
};

/** The BullMQ worker of one queue: the route step, or one rule's jobs. */
const createQueueWorker = (
  plumbing: Plumbing,
  {
    queue,
    rule,
    ctx,
    metrics,
  }: {
    queue: Queue;
    rule: AnyRule | undefined;
    ctx: WorkerContext;
    metrics: WorkerMetrics;
  },
): Worker => {
  const { config, redis, layout, log, logError } = plumbing;
  const { name } = queue;
  const handlers: Record<string, Handler> = rule
    ? ruleHandlers(rule)
    : { '*': routeEvent, [RECONCILE_JOB]: reconcileJob };
  const worker = new Worker(
    name,
    createProcessor({
      handlers,
      ctx,
      // Only rule queues pause for LiveChat's rate limits (the route step hands a rate-limited
      // job to its rule's queue and pauses that queue itself).
      ...(rule === undefined ? {} : { rateLimit: (ms: number) => queue.rateLimit(ms) }),
      rateLimitMs: config.LIVECHAT_RATE_LIMIT_MS,
      metrics,
    }),
    {
      connection: redis,
      prefix: layout.queuePrefix(name),
      concurrency: config.ruleConcurrency[name] ?? config.CONCURRENCY_LIVECHAT_EVENTS,
      lockDuration: config.WORKER_LOCK_DURATION_MS,
      stalledInterval: config.WORKER_STALLED_INTERVAL_MS,
      removeOnComplete: QUEUE_RETENTION.completed,
      removeOnFail: QUEUE_RETENTION.failed,
      // A job whose processing kills the worker would otherwise crash-loop every worker.
      maxStartedAttempts: DEFAULT_JOB_OPTIONS.attempts + 2,
      // BullMQ honours a queue-wide pause (too_many_requests → Queue.rateLimit) only when
      // the worker has a limiter; this one is far above anything LiveChat allows, so it only
      // switches that mechanism on. Not on the webhooks' queue, which never pauses: a limiter
      // costs three Redis commands per job taken.
      ...(rule === undefined ? {} : { limiter: { max: 10_000, duration: 1_000 } }),
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
};

/** `/healthz`, `/readyz`, `/metrics`; one clear line when the port is taken. */
const startHealthServer = async (
  { config, redis }: Plumbing,
  {
    registry,
    isDown,
    workers,
    isDraining,
  }: {
    registry: Registry;
    isDown: () => boolean;
    workers: readonly Worker[];
    isDraining: () => boolean;
  },
): Promise<{ server: Server; port: number }> => {
  const server = createHealthServer({
    registry,
    readiness: async () => {
      if (isDraining()) {
        return { ready: false, reason: 'shutting down' };
      }
      if (isDown() || (await redis.ping().catch(() => undefined)) !== 'PONG') {
        return { ready: false, reason: 'redis unavailable' };
      }
      const stopped = workers.filter((worker) => !worker.isRunning()).map((w) => w.name);
      return stopped.length === 0
        ? { ready: true }
        : { ready: false, reason: `not running: ${stopped.join(', ')}` };
    },
  });
  const port = await listenHttp(server, {
    port: config.WORKER_METRICS_PORT,
    host: config.WORKER_METRICS_HOST,
    portVariable: 'WORKER_METRICS_PORT',
  });
  return { server, port };
};

/**
 * Connects to Redis (waiting for it, however long), checks its eviction policy, and runs one
 * BullMQ worker per selected queue: the webhooks' queue routes to the rules, each rule's queue
 * runs the rule's jobs. Resolves once they are started; `ready` once they take jobs.
 */
export const startWorker = async ({
  config,
  rules,
  ruleSet = RULE_SET,
  queueNames = queuesOf(ruleSet),
  log,
}: StartWorkerOptions): Promise<RunningWorker> => {
  const redis = createWorkerConnection(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  // One line when Redis goes away and one when it is back; BullMQ's own errors meanwhile are
  // the same outage again.
  const connection = watchConnection({ redis, log });
  const plumbing: Plumbing = {
    config,
    redis,
    layout: createRedisLayout(config.QUEUE_PREFIX, { cluster: config.REDIS_CLUSTER }),
    log,
    logError: (err, what, queue) => {
      if (!connection.isDown()) {
        log.error({ err, queue }, what);
      }
    },
  };
  const report = await assertQueueRedisPolicy(redis);
  if (report.aofEnabled === false) {
    log.warn('redis runs without AOF: a Redis restart loses queued jobs');
  }
  const { hashListpackValue } = report;
  if (hashListpackValue !== undefined && hashListpackValue < HASH_LISTPACK_VALUE) {
    log.warn(
      { hashMaxListpackValue: hashListpackValue },
      `redis hash-max-listpack-value is under ${HASH_LISTPACK_VALUE}: each job hash (a pending idle timer) takes ~35 % more memory`,
    );
  }

  const registry = createMetricsRegistry({ service: 'worker' });
  const metrics = createWorkerMetrics(registry);
  const queues = createQueues(queuesOf(ruleSet), plumbing);
  // Reconciling stores webhooks again, the way ingest does.
  const producer = createEventProducer({
    connection: redis,
    layout: plumbing.layout,
    onError: (err) => plumbing.logError(err, 'queue error', EVENTS_QUEUE),
  });
  const ctx = createContext(plumbing, { rules, ruleSet, queues, registry, metrics, producer });
  const ruleOfQueue = new Map(ruleSet.rules.map((rule) => [rule.queue, rule]));
  const workers = queueNames.map((name) => {
    const queue = queues.get(name);
    if (queue === undefined) {
      throw new Error(`unknown queue ${name}; known: ${[...queues.keys()].join(', ')}`);
    }
    return createQueueWorker(plumbing, { queue, rule: ruleOfQueue.get(name), ctx, metrics });
  });
  let draining = false;
  const health = await startHealthServer(plumbing, {
    registry,
    isDown: connection.isDown,
    workers,
    isDraining: () => draining,
  });

  for (const worker of workers) {
    worker.run().catch((err: unknown) => log.error({ err }, 'worker stopped'));
  }
  return {
    metricsPort: health.port,
    ready: Promise.all(workers.map((worker) => worker.waitUntilReady())).then(() => undefined),
    // Past the shutdown deadline nobody waits for this: exiting stops the abandoned jobs'
    // lock renewal, so they stall and another worker re-runs them (the send guards make
    // that safe). Not `close(true)`: with a close under way BullMQ returns that same promise.
    drain: () => {
      draining = true;
      return Promise.allSettled(workers.map((worker) => worker.close()));
    },
    release: [
      {
        name: 'health',
        run: () =>
          new Promise<void>((resolve) => {
            health.server.close(() => resolve());
            health.server.closeAllConnections();
          }),
      },
      {
        name: 'queues',
        run: () => Promise.all([...[...queues.values()].map((q) => q.close()), producer.close()]),
      },
      { name: 'redis', run: connection.close },
    ],
  };
};
