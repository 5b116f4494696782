import { once } from 'node:events';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLivechatClient, WEBHOOK_ACTIONS } from '@nudge/livechat';
import {
  createSandbox,
  type Sandbox,
  type SandboxOptions,
  type SentMessage,
  sentMessagesOf,
} from '@nudge/livechat-sandbox';
import { QUEUE_NAMES, type QueueName } from '@nudge/queues';
import {
  createRedisKeys,
  createRedisLayout,
  type RedisClient,
  type RedisKeys,
  type RedisLayout,
} from '@nudge/runtime';
import {
  connectRedis,
  connectRedisCluster,
  createTestPrefix,
  deleteKeysWithPrefix,
  type NodeProcess,
  type RedisServer,
  startNodeProcess,
  startRedisServer,
  waitFor,
} from '@nudge/testing';
import { Queue } from 'bullmq';
import { stringify } from 'yaml';

const INGEST_MAIN = fileURLToPath(import.meta.resolve('@nudge/ingest/main'));
const WORKER_MAIN = fileURLToPath(import.meta.resolve('@nudge/worker/main'));
const DASHBOARD_MAIN = fileURLToPath(import.meta.resolve('@nudge/dashboard/main'));
const SECRET = 'e2e-webhook-secret-5b1d';

export type StackOptions = {
  /** Worker processes to start (more with `startWorker`). */
  workers?: number;
  /** Extra worker environment (timings, concurrency). */
  workerEnv?: Record<string, string>;
  /** Extra ingest environment. */
  ingestEnv?: Record<string, string>;
  /** Rule settings for the organization (merged over short e2e defaults). */
  rules?: Record<string, unknown>;
  sandbox?: SandboxOptions;
  /** `own`: a Redis this stack may kill; `shared`: the suite's Redis, isolated by prefix. */
  redis?: 'shared' | 'own';
  sharedRedisUrl?: string;
  /** `sharedRedisUrl` lists nodes of a Redis Cluster: every process runs with REDIS_CLUSTER=true. */
  cluster?: boolean;
  /** QUEUE_PREFIX; default a fresh `createTestPrefix()`. */
  prefix?: string;
  /**
   * `relay`: LiveChat's webhooks go to a capture endpoint and the test forwards them to ingest
   * itself (to reorder, drop or repeat them, as a network might).
   */
  delivery?: 'direct' | 'relay';
};

export type Relay = {
  /** Every captured envelope, in LiveChat's order. */
  readonly captured: Record<string, unknown>[];
  /** Posts an envelope to ingest as LiveChat would; resolves with the HTTP status. */
  forward: (envelope: Record<string, unknown>) => Promise<number>;
};

export type Stack = {
  sandbox: Sandbox;
  /** The test's own connection (a Cluster client on a cluster). */
  redis: RedisClient;
  /** QUEUE_PREFIX. */
  prefix: string;
  /** Where the queues' and Nudge's keys live under `prefix` (hash tags on a cluster). */
  layout: RedisLayout;
  /** Nudge's keys (`createRedisKeys` under the layout's key prefix). */
  keys: RedisKeys;
  /** REDIS_URL, REDIS_CLUSTER and QUEUE_PREFIX of every process, to start another one. */
  redisEnv: Record<string, string>;
  organizationId: string;
  botId: string;
  ingestUrl: string;
  /** The secret_key ingest accepts, to post webhooks to it directly. */
  webhookSecret: string;
  /** The running ingest (a new process after `restartIngest`). */
  readonly ingest: NodeProcess;
  /** Kills ingest (SIGKILL): webhooks find nobody until `restartIngest`. */
  killIngest: () => Promise<void>;
  /** Starts ingest again on the same port, with the same environment. */
  restartIngest: () => Promise<void>;
  workers: NodeProcess[];
  relay: Relay;
  redisServer: RedisServer | undefined;
  /** The workers' environment (rules file, credentials, timings), to start one in-process. */
  workerEnv: Record<string, string>;
  /**
   * Starts a dashboard process on this stack's Redis and prefix, on a free port of 127.0.0.1;
   * `env` sets its credentials (DASHBOARD_PASSWORD, DASHBOARD_USERS or DASHBOARD_AUTH=off).
   */
  startDashboard: (env: Record<string, string>) => Promise<{ url: string; proc: NodeProcess }>;
  /** Starts one more worker process (optionally with other env or args). */
  startWorker: (options?: {
    env?: Record<string, string>;
    args?: string[];
  }) => Promise<NodeProcess>;
  queue: (name: QueueName) => Queue;
  /** send_event calls the sandbox accepted, i.e. bot messages that exist in LiveChat. */
  botEvents: (filter?: (event: BotEvent) => boolean) => BotEvent[];
  waitForBotEvents: (
    count: number,
    filter?: (event: BotEvent) => boolean,
    timeoutMs?: number,
  ) => Promise<BotEvent[]>;
  /** Sets the bot's routing status and waits until the workers have seen the webhook. */
  setBotStatus: (status: 'accepting_chats' | 'not_accepting_chats' | 'offline') => Promise<void>;
  stop: () => Promise<void>;
};

/** A bot message LiveChat accepted (see `sentMessagesOf`). */
export type BotEvent = SentMessage;

const E2E_RULES = {
  idleReply: { afterSeconds: 5, message: 'E2E: thanks for waiting' },
  cannedResponses: {
    byTag: { refund: ['Refunds take 3–5 days.', 'Your order number?'] },
    byKeyword: { 'where is my order': ['Track it at https://example.com/track'] },
  },
  ratingReactions: {
    good: 'E2E good: ask for a review at {reviewUrl}',
    reviewUrl: 'https://example.com/review',
    bad: 'E2E bad: ask what went wrong',
  },
};

/** Listens on a free port of 127.0.0.1; resolves with the server's base URL. */
export const listen = async (server: Server): Promise<string> => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('no port');
  }
  return `http://127.0.0.1:${address.port}`;
};

/**
 * The whole product over real processes: a Redis, the LiveChat sandbox (in this process, so
 * the test can play customers and read its journal), ingest and N workers as child processes,
 * set up the way an operator would: bot created, webhooks registered, bot accepting chats.
 */
export const startStack = async (options: StackOptions = {}): Promise<Stack> => {
  const redisServer = options.redis === 'own' ? await startRedisServer() : undefined;
  const redisUrl = redisServer?.url ?? options.sharedRedisUrl;
  if (!redisUrl) {
    throw new Error('startStack needs sharedRedisUrl or redis: "own"');
  }
  const cluster = options.cluster === true && redisServer === undefined;
  const prefix = options.prefix ?? createTestPrefix();
  const layout = createRedisLayout(prefix, { cluster });
  const keys = createRedisKeys(layout.keyPrefix);
  const redis = cluster ? connectRedisCluster(redisUrl) : connectRedis(redisUrl);
  const redisEnv = {
    REDIS_URL: redisUrl,
    REDIS_CLUSTER: String(cluster),
    QUEUE_PREFIX: prefix,
  };
  const sandbox = await createSandbox({
    delivery: { timeoutMs: 3_000, retryDelaysMs: [200, 500, 1_000] },
    ...options.sandbox,
  });
  const { organizationId, clientId, accountId, pat } = sandbox.credentials;

  const ingestEnv = {
    ...redisEnv,
    HOST: '127.0.0.1',
    LIVECHAT_WEBHOOK_SECRETS: SECRET,
    LOG_LEVEL: 'info',
    ...options.ingestEnv,
  };
  let ingest = startNodeProcess({ entry: INGEST_MAIN, env: { ...ingestEnv, PORT: '0' } });
  const listening = await ingest.waitForLine((line) => line.msg === 'listening');
  const ingestPort = String(listening.port);
  const ingestUrl = `http://127.0.0.1:${ingestPort}/livechat/webhooks`;

  const captured: Record<string, unknown>[] = [];
  const relayServer = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      captured.push(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      res.writeHead(200).end();
    });
  });
  const relayUrl = await listen(relayServer);
  const relay: Relay = {
    captured,
    forward: async (envelope) => {
      const response = await fetch(ingestUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(envelope),
      });
      await response.arrayBuffer();
      return response.status;
    },
  };

  // Set LiveChat up as an operator would: a bot, webhooks to ingest, the bot accepting chats.
  const admin = createLivechatClient({
    baseUrl: sandbox.url,
    auth: { type: 'pat', accountId, pat },
  });
  // As `nudge setup` creates it: `supervisor` in the default group, so LiveChat's routing never
  // assigns it chats (it joins only when a rule acts) while it can still reach them.
  const bot = await admin.createBot({
    name: 'Nudge E2E',
    owner_client_id: clientId,
    default_group_priority: 'supervisor',
    groups: [{ id: 0, priority: 'supervisor' }],
  });
  // License webhooks for every action Nudge stores: they flow whatever the bot's status, so
  // tests can play the status gate. (`nudge setup`'s bot webhooks are tested in the CLI suite.)
  for (const action of WEBHOOK_ACTIONS) {
    await admin.registerWebhook({
      action,
      url: options.delivery === 'relay' ? relayUrl : ingestUrl,
      secret_key: SECRET,
      owner_client_id: clientId,
      type: 'license',
    });
  }

  const dir = await mkdtemp(join(tmpdir(), 'nudge-e2e-'));
  const rulesPath = join(dir, 'rules.yaml');
  await writeFile(
    rulesPath,
    stringify({
      livechat: { apiVersion: '3.6', clientId },
      defaults: { ...E2E_RULES, ...options.rules },
      organizations: {
        [organizationId]: {
          bot: { id: bot.id, secret: 'env:E2E_BOT_SECRET' },
          // issue_bot_token is called with the organization's credentials.
          pat: { accountId, token: 'env:E2E_PAT' },
        },
      },
    }),
  );
  const workerEnv: Record<string, string> = {
    ...redisEnv,
    LIVECHAT_API_URL: sandbox.url,
    NUDGE_CONFIG: rulesPath,
    E2E_BOT_SECRET: bot.secret,
    E2E_PAT: pat,
    LIVECHAT_TIMEOUT_MS: '2000',
    LIVECHAT_RATE_LIMIT_MS: '500',
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    SHUTDOWN_TIMEOUT_MS: '5000',
    // Several workers on one host: each serves /metrics on a port of its own.
    WORKER_METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    ...options.workerEnv,
  };
  const workers: NodeProcess[] = [];
  const startWorker = async ({
    env = {},
    args = [],
  }: {
    env?: Record<string, string>;
    args?: string[];
  } = {}) => {
    const worker = startNodeProcess({ entry: WORKER_MAIN, args, env: { ...workerEnv, ...env } });
    workers.push(worker);
    await worker.waitForLine((line) => line.msg === 'worker ready');
    return worker;
  };
  for (let i = 0; i < (options.workers ?? 1); i += 1) {
    await startWorker();
  }

  const queues = new Map<QueueName, Queue>();
  const queue = (name: QueueName) => {
    let existing = queues.get(name);
    if (!existing) {
      existing = new Queue(name, { connection: redis, prefix: layout.queuePrefix(name) });
      queues.set(name, existing);
    }
    return existing;
  };
  const botEvents = (filter: (event: BotEvent) => boolean = () => true) =>
    sentMessagesOf(sandbox.journal.entries).filter(filter);

  const dashboards: NodeProcess[] = [];
  const startDashboard = async (env: Record<string, string>) => {
    const proc = startNodeProcess({
      entry: DASHBOARD_MAIN,
      env: {
        ...redisEnv,
        DASHBOARD_PORT: '0',
        DASHBOARD_HOST: '127.0.0.1',
        LOG_LEVEL: 'info',
        ...env,
      },
    });
    dashboards.push(proc);
    const ready = await proc.waitForLine((line) => line.msg === 'listening');
    return { url: `http://127.0.0.1:${String(ready.port)}`, proc };
  };

  const stack: Stack = {
    sandbox,
    redis,
    prefix,
    layout,
    keys,
    redisEnv,
    organizationId,
    botId: bot.id,
    ingestUrl,
    webhookSecret: SECRET,
    get ingest() {
      return ingest;
    },
    killIngest: async () => {
      ingest.kill('SIGKILL');
      await ingest.exited;
    },
    restartIngest: async () => {
      ingest = startNodeProcess({ entry: INGEST_MAIN, env: { ...ingestEnv, PORT: ingestPort } });
      await ingest.waitForLine((line) => line.msg === 'listening');
    },
    workers,
    relay,
    redisServer,
    workerEnv,
    startDashboard,
    startWorker,
    queue,
    botEvents,
    waitForBotEvents: (count, filter, timeoutMs = 15_000) =>
      waitFor(
        () => {
          const events = botEvents(filter);
          return events.length >= count ? events : undefined;
        },
        { timeoutMs, what: `${count} bot event(s)` },
      ),
    setBotStatus: async (status) => {
      sandbox.scenario.setBotStatus({ botId: bot.id, status });
      if (options.delivery === 'relay') {
        const envelope = await waitFor(() =>
          captured.findLast((entry) => entry.action === 'routing_status_set'),
        );
        await relay.forward(envelope);
      }
      await waitFor(
        async () => (await redis.get(keys.botStatus(organizationId, bot.id))) === status,
        { what: `bot status ${status} to reach the workers` },
      );
    },
    stop: async () => {
      const processes = [...workers, ...dashboards, ingest];
      for (const proc of processes) {
        proc.kill('SIGKILL');
      }
      await Promise.all(processes.map((proc) => proc.exited));
      for (const created of queues.values()) {
        await created.close();
      }
      relayServer.close();
      await sandbox.close();
      await deleteKeysWithPrefix(redis, prefix);
      redis.disconnect();
      await redisServer?.stop();
    },
  };
  return stack;
};

export { QUEUE_NAMES };
