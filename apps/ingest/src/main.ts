import { createServer } from 'node:http';
import { IngestEnv, loadConfig } from '@nudge/config';
import {
  assertQueueRedisPolicy,
  ClusterModeError,
  createEventProducer,
  createProducerConnection,
  EVENTS_QUEUE,
  EvictionPolicyError,
  watchConnection,
} from '@nudge/queues';
import {
  createRedisKeys,
  createRedisLayout,
  REDIS_TTL_MS,
  runService,
  serveHttp,
} from '@nudge/runtime';
import {
  createLogger,
  createMetricsRegistry,
  exitAfterFlush,
  type Readiness,
} from '@nudge/telemetry';
import { createApp } from './app.js';
import { startHeartbeat } from './heartbeat.js';
import { createIngestMetrics } from './metrics.js';
import { createSecretVerifier } from './secrets.js';
import { createWebhookHandler } from './webhook.js';

const SERVICE = 'ingest';

const main = async () => {
  const config = loadConfig(IngestEnv, process.env);
  const log = createLogger({
    service: SERVICE,
    level: config.LOG_LEVEL,
    pretty: config.LOG_PRETTY,
  });
  const registry = createMetricsRegistry({ service: SERVICE });
  // With LOG_PRETTY the lines go through a transport thread: exit once it has written them.
  const exit = (code: number) => exitAfterFlush(log, code);

  // Redis: fail fast while it is away (→ 503, LiveChat retries), log each state change once.
  const layout = createRedisLayout(config.QUEUE_PREFIX, { cluster: config.REDIS_CLUSTER });
  const redis = createProducerConnection(config.REDIS_URL, {
    cluster: config.REDIS_CLUSTER,
    commandTimeoutMs: Math.min(1_000, config.ACK_TIMEOUT_MS),
  });
  // The heartbeat and the readiness probe write beside the events queue (in its slot on a
  // cluster): they must fail when webhooks can't be stored, not when some other shard is away.
  const ingestKeys = createRedisKeys(layout.queuePrefix(EVENTS_QUEUE));
  const connection = watchConnection({
    redis,
    log,
    lostMessage: 'redis connection lost: answering 503 until it is back',
  });
  const producer = createEventProducer({
    connection: redis,
    layout,
    onError: (err) => {
      if (!connection.isDown()) {
        log.error({ err }, 'queue error');
      }
    },
  });

  // Refuse to run on a Redis that may evict jobs. Checked at every (re)connect: a Redis can
  // come back with another configuration.
  let policyChecked = false;
  const checkPolicy = async () => {
    try {
      const report = await assertQueueRedisPolicy(redis);
      if (report.aofEnabled === false) {
        log.warn('redis runs without AOF: a Redis restart loses webhooks already answered 200');
      }
      if (report.evictionPolicy === undefined) {
        log.warn('could not read redis maxmemory-policy: make sure it is noeviction');
      }
      policyChecked = true;
    } catch (err) {
      if (err instanceof EvictionPolicyError || err instanceof ClusterModeError) {
        log.fatal({ err }, err.message);
        exit(1);
      }
      log.warn({ err }, 'redis policy check failed; retrying at the next connect');
    }
  };
  let policyCheck: Promise<void> | undefined;
  redis.on('ready', () => {
    policyCheck = checkPolicy();
  });
  // Not events.once: it rejects on the 'error' a refused connection emits.
  const firstReady = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 2_000);
    redis.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
  if (firstReady) {
    await policyCheck;
  } else {
    log.warn('redis not reachable at start: serving 503 until it is');
  }

  const heartbeat = startHeartbeat({
    redis,
    key: ingestKeys.ingestHeartbeat(),
    gapMs: config.RECONCILE_AFTER_GAP_SECONDS * 1000,
    requestReconcile: producer.requestReconcile,
    log,
  });

  let closing = false;
  const readiness: Readiness = async () => {
    if (closing) {
      return { ready: false, reason: 'shutting down' };
    }
    if (!policyChecked) {
      return { ready: false, reason: 'redis not connected yet' };
    }
    try {
      // Writable, not merely reachable: a full Redis (noeviction) still answers PING.
      await redis.set(
        ingestKeys.ingestReadiness(),
        String(Date.now()),
        'PX',
        REDIS_TTL_MS.ingestReadiness,
      );
      return { ready: true };
    } catch (err) {
      return { ready: false, reason: err instanceof Error ? err.message : 'redis write failed' };
    }
  };

  const handleWebhook = createWebhookHandler({
    // While disconnected, fail at once rather than wait out the ack timeout.
    enqueue: (job) =>
      redis.status === 'ready'
        ? producer.enqueue(job)
        : Promise.reject(new Error(`redis ${redis.status}`)),
    verifySecret: createSecretVerifier(config.LIVECHAT_WEBHOOK_SECRETS),
    bodyLimitBytes: config.WEBHOOK_BODY_LIMIT_BYTES,
    ackTimeoutMs: config.ACK_TIMEOUT_MS,
    metrics: createIngestMetrics(registry),
    log,
    isClosing: () => closing,
  });
  const server = createServer(
    // Slow or stalled clients are dropped long before they tie up sockets; LiveChat's own
    // requests are small and quick. keepAliveTimeout outlasts typical load balancer idle times.
    { headersTimeout: 10_000, requestTimeout: 15_000, keepAliveTimeout: 65_000 },
    createApp({ webhookPath: config.WEBHOOK_PATH, handleWebhook, readiness, registry, log }),
  );
  // In-flight webhooks finish first: their answers depend on Redis, so Redis closes last.
  const port = await serveHttp({
    server,
    port: config.PORT,
    host: config.HOST,
    portVariable: 'PORT',
    timeoutMs: config.SHUTDOWN_TIMEOUT_MS,
    log,
    // So answers from now on carry `Connection: close`.
    onStart: () => {
      closing = true;
      heartbeat.stop();
    },
    release: [
      { name: 'queue', run: () => producer.close() },
      { name: 'redis', run: connection.close },
    ],
    exit,
  });
  log.info({ port, webhookPath: config.WEBHOOK_PATH }, 'listening');
};

await runService(SERVICE, main);
