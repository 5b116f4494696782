import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { DashboardEnv, loadConfig } from '@nudge/config';
import {
  createChatJobIndex,
  createProducerConnection,
  QUEUE_NAMES,
  watchConnection,
} from '@nudge/queues';
import { createRedisLayout, runService, serveHttp } from '@nudge/runtime';
import {
  createLogger,
  createMetricsRegistry,
  exitAfterFlush,
  type Readiness,
} from '@nudge/telemetry';
import { Queue } from 'bullmq';
import { createDashboardApp } from './app.js';
import { createCredentials } from './auth.js';
import { registerQueueMetrics } from './queue-metrics.js';

const SERVICE = 'dashboard';

const main = async () => {
  const config = loadConfig(DashboardEnv, process.env);
  const log = createLogger({
    service: SERVICE,
    level: config.LOG_LEVEL,
    pretty: config.LOG_PRETTY,
  });
  const exit = (code: number) => exitAfterFlush(log, code);
  const registry = createMetricsRegistry({ service: SERVICE });

  // Pages fail quickly while Redis is away instead of hanging; the connection comes back alone.
  const layout = createRedisLayout(config.QUEUE_PREFIX, { cluster: config.REDIS_CLUSTER });
  const redis = createProducerConnection(config.REDIS_URL, {
    cluster: config.REDIS_CLUSTER,
    commandTimeoutMs: 5_000,
  });
  const connection = watchConnection({
    redis,
    log,
    lostMessage: 'redis connection lost: pages and queue metrics fail until it is back',
  });
  const queues = new Map(
    Object.values(QUEUE_NAMES).map((name) => {
      const queue = new Queue(name, { connection: redis, prefix: layout.queuePrefix(name) });
      queue.on('error', (err) => {
        if (!connection.isDown()) {
          log.error({ err, queue: name }, 'queue error');
        }
      });
      return [name, queue] as const;
    }),
  );
  registerQueueMetrics(registry, [...queues.values()]);

  const credentials =
    config.DASHBOARD_AUTH === 'on'
      ? await createCredentials({
          users: config.DASHBOARD_USERS,
          password: config.DASHBOARD_PASSWORD,
        })
      : undefined;
  if (!credentials) {
    log.warn(`DASHBOARD_AUTH=off: no login, serving on ${config.DASHBOARD_HOST} only`);
  }
  let closing = false;
  const readiness: Readiness = async () => {
    if (closing) {
      return { ready: false, reason: 'shutting down' };
    }
    try {
      await redis.ping();
      return { ready: true };
    } catch (err) {
      return { ready: false, reason: err instanceof Error ? err.message : 'redis unreachable' };
    }
  };
  const app = createDashboardApp({
    queues,
    chatJobs: createChatJobIndex(redis, layout.keyPrefix),
    credentials,
    // Unset: a random one, so sessions end when this process does.
    sessionSecret: config.DASHBOARD_SESSION_SECRET ?? randomBytes(32).toString('hex'),
    sessionHours: config.DASHBOARD_SESSION_HOURS,
    trustProxy: config.DASHBOARD_TRUST_PROXY,
    loginAttempts: config.DASHBOARD_LOGIN_ATTEMPTS,
    readiness,
    registry,
    log,
  });
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, app);
  const port = await serveHttp({
    server,
    port: config.DASHBOARD_PORT,
    host: config.DASHBOARD_HOST,
    portVariable: 'DASHBOARD_PORT',
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    log,
    onStart: () => {
      closing = true;
    },
    release: [
      {
        name: 'queues',
        run: () => Promise.all([...queues.values()].map((queue) => queue.close())),
      },
      { name: 'redis', run: connection.close },
    ],
    exit,
  });
  log.info({ port, host: config.DASHBOARD_HOST, auth: config.DASHBOARD_AUTH }, 'listening');
};

await runService(SERVICE, main);
