import { type AnyRule, RULES } from '@nudge/rules';
import { z } from 'zod';

// Shared pieces of every app's environment. Each app composes the keys it reads, so a
// worker never demands the ingest's webhook secret and vice versa.

const Port = z.coerce.number().int().min(0).max(65_535);

/** "true"/"1"/"yes" → true, "false"/"0"/"no" → false. */
export const BoolEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true/false/1/0' })
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

const CommaList = z.string().transform((value) =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0),
);

export const LogEnv = z.object({
  // pino level: fatal, error, warn, info, debug, trace or silent.
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  // Human-readable logs for development; JSON (the default) for production.
  LOG_PRETTY: BoolEnv.default(false),
});

const REDIS_URL = /^rediss?:\/\/[^\s,]+$/;

const urlsOf = (value: string): string[] => value.split(',').map((url) => url.trim());

const RedisShape = {
  // The Redis holding the queues. Must run with maxmemory-policy noeviction (checked at start).
  // With REDIS_CLUSTER=true: one or more nodes of the cluster, comma-separated (the rest are
  // discovered); the first URL's user, password and TLS apply to every node.
  REDIS_URL: z
    .string()
    .refine((value) => urlsOf(value).every((url) => REDIS_URL.test(url)), {
      message: 'expected redis:// or rediss:// URL (comma-separated nodes with REDIS_CLUSTER=true)',
    })
    .default('redis://127.0.0.1:6379'),
  // REDIS_URL is a Redis Cluster: each queue gets a hash tag of its own (see README).
  REDIS_CLUSTER: BoolEnv.default(false),
  // BullMQ key prefix (and of Nudge's own keys). On a Redis Cluster Nudge adds hash tags
  // itself; a prefix with its own ({nudge}) keeps everything in that one slot.
  QUEUE_PREFIX: z
    .string()
    .regex(/^[^:\s]+$/, 'no colons or spaces')
    .default('nudge'),
};

type RedisSettings = { REDIS_URL: string; REDIS_CLUSTER: boolean; QUEUE_PREFIX: string };

/** What REDIS_URL, REDIS_CLUSTER and QUEUE_PREFIX must agree on; added to every app's schema. */
const checkRedisSettings = (env: RedisSettings, ctx: z.RefinementCtx): void => {
  const urls = urlsOf(env.REDIS_URL);
  if (!urls.every((url) => REDIS_URL.test(url))) {
    return; // said by REDIS_URL's own check
  }
  if (!env.REDIS_CLUSTER) {
    if (urls.length > 1) {
      ctx.addIssue({
        code: 'custom',
        path: ['REDIS_URL'],
        message: 'several URLs are for a Redis Cluster: set REDIS_CLUSTER=true, or give one URL',
      });
    }
    return;
  }
  if (urls.some((url) => !/^rediss?:\/\/[^/]*(\/0?)?$/.test(url))) {
    ctx.addIssue({
      code: 'custom',
      path: ['REDIS_URL'],
      message: 'a Redis Cluster has database 0 only: drop the /<database> from REDIS_URL',
    });
  }
  if (new Set(urls.map((url) => url.startsWith('rediss:'))).size > 1) {
    ctx.addIssue({
      code: 'custom',
      path: ['REDIS_URL'],
      message: "mixes redis:// and rediss://: a cluster's nodes share one TLS setting",
    });
  }
  const braces = env.QUEUE_PREFIX.replace(/^[^{}]*\{[^{}]+\}[^{}]*$/, '');
  if (/[{}]/.test(braces)) {
    ctx.addIssue({
      code: 'custom',
      path: ['QUEUE_PREFIX'],
      message:
        'on a Redis Cluster braces only as one hash tag, e.g. {nudge}; or none, and Nudge tags each queue',
    });
  }
};

/** REDIS_URL, REDIS_CLUSTER and QUEUE_PREFIX (what `nudge replay` needs). */
export const RedisEnv = z.object(RedisShape).superRefine(checkRedisSettings);

export const ShutdownEnv = z.object({
  // How long SIGTERM waits for in-flight work before forcing the exit.
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
});

/** Environment of apps/ingest. */
export const IngestEnv = z
  .object({
    ...RedisShape,
    ...LogEnv.shape,
    ...ShutdownEnv.shape,
    // HTTP port for webhooks, /healthz, /readyz and /metrics.
    PORT: Port.default(3000),
    // Interface to bind.
    HOST: z.string().default('0.0.0.0'),
    // Path LiveChat posts to; the URL you register is https://<host><WEBHOOK_PATH>.
    WEBHOOK_PATH: z
      .string()
      .regex(/^\/[^?#\s]*$/, 'a path starting with /')
      .default('/livechat/webhooks'),
    // Comma-separated list of accepted webhook secret_key values. Several during rotation.
    LIVECHAT_WEBHOOK_SECRETS: CommaList.pipe(
      z.array(z.string()).min(1, 'at least one secret is required'),
    ),
    // Largest webhook body accepted; bigger ones get 413. incoming_chat carries a whole thread.
    WEBHOOK_BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1_048_576),
    // Longest a webhook waits for Redis before it is answered 503 (LiveChat waits ~10 s).
    ACK_TIMEOUT_MS: z.coerce.number().int().positive().default(1_200),
    // Ingest notes it is up in Redis every few seconds. A gap longer than this (every ingest
    // down, or Redis) outlasts LiveChat's retries: the workers then reconcile. 0 turns it off.
    RECONCILE_AFTER_GAP_SECONDS: z.coerce.number().min(0).default(30),
  })
  .superRefine(checkRedisSettings);
export type IngestEnv = z.output<typeof IngestEnv>;

const Concurrency = z.coerce.number().int().min(1).max(1_000).default(10);

/** Where LiveChat is and which rules file says how to act there (worker and CLI). */
export const LivechatEnv = z.object({
  // LiveChat API base URL: the real API by default, the sandbox's URL in tests and demos.
  LIVECHAT_API_URL: z.url({ protocol: /^https?$/ }).default('https://api.livechatinc.com'),
  // Timeout of every LiveChat API call.
  LIVECHAT_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  // The rules file (YAML or JSON): bots, credentials and each rule's settings.
  NUDGE_CONFIG: z.string().min(1).default('nudge.rules.yaml'),
});

const WorkerBaseEnv = z.object({
  ...RedisShape,
  ...LogEnv.shape,
  ...ShutdownEnv.shape,
  ...LivechatEnv.shape,
  // Queue pause after LiveChat answers too_many_requests without saying for how long.
  LIVECHAT_RATE_LIMIT_MS: z.coerce.number().int().positive().default(5_000),
  // Jobs each worker process runs at once on the webhooks' queue (each rule's queue has its
  // own CONCURRENCY_<QUEUE>, see concurrencyVariable).
  CONCURRENCY_LIVECHAT_EVENTS: Concurrency,
  // BullMQ lock: a job whose worker stops renewing it for this long is taken over by another.
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().positive().default(30_000),
  // How often workers look for jobs whose lock expired (stalled: the worker died).
  WORKER_STALLED_INTERVAL_MS: z.coerce.number().int().positive().default(30_000),
  // The worker's /healthz, /readyz and /metrics (0: any free port, logged at start).
  WORKER_METRICS_PORT: Port.default(3002),
  WORKER_METRICS_HOST: z.string().default('0.0.0.0'),
  // LiveChat calls per second a reconcile sweep (after an outage) may make.
  RECONCILE_CALLS_PER_SECOND: z.coerce.number().positive().max(100).default(5),
  // The route step acts on immediate rule jobs itself, handing a job to its rule's queue only
  // when acting fails (false: every rule job goes through its queue).
  WORKER_ACT_INLINE: BoolEnv.default(true),
});

/** The variable setting a rule queue's concurrency: `idle-reply` → CONCURRENCY_IDLE_REPLY. */
const concurrencyVariable = (queue: string): string =>
  `CONCURRENCY_${queue.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`;

export type WorkerEnv = z.output<typeof WorkerBaseEnv> & {
  /** Jobs each worker process runs at once, by rule queue. */
  ruleConcurrency: Readonly<Record<string, number>>;
};

/** Environment of apps/worker for a set of rules: one concurrency variable per rule queue. */
export const workerEnvFor = (rules: readonly AnyRule[]): z.ZodType<WorkerEnv> =>
  WorkerBaseEnv.extend(
    Object.fromEntries(rules.map((rule) => [concurrencyVariable(rule.queue), Concurrency])),
  )
    // The index signature of the rule variables hides the base keys from the type (not the value).
    .superRefine((env, ctx) => checkRedisSettings(env as unknown as RedisSettings, ctx))
    .transform(
      (env): WorkerEnv => ({
        ...(env as unknown as z.output<typeof WorkerBaseEnv>),
        ruleConcurrency: Object.fromEntries(
          rules.map((rule) => [rule.queue, Number(env[concurrencyVariable(rule.queue)])]),
        ),
      }),
    );

/** Environment of apps/worker. */
export const WorkerEnv = workerEnvFor(RULES);

/** Environment of the `nudge` commands that talk to LiveChat and Redis (setup, doctor, …). */
export const CliEnv = z
  .object({
    ...RedisShape,
    ...LivechatEnv.shape,
    // The secret_key webhooks carry; setup registers the first one (several during rotation).
    LIVECHAT_WEBHOOK_SECRETS: CommaList.optional(),
    // Where LiveChat reaches ingest: https://<host><WEBHOOK_PATH> (or --url).
    NUDGE_PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  })
  .superRefine(checkRedisSettings);
export type CliEnv = z.output<typeof CliEnv>;

/** A bcrypt hash, as bcrypt libraries write it (`$2b$12$` + 53 characters). */
const BCRYPT_HASH = /^\$2[aby]\$\d{2}\$[./A-Za-z0-9]{53}$/;

const DashboardUser = z
  .string()
  .regex(/^[^:\s]+:.+$/, 'expected name:hash')
  .transform((pair) => {
    const cut = pair.indexOf(':');
    return { name: pair.slice(0, cut), hash: pair.slice(cut + 1) };
  })
  .refine((user) => BCRYPT_HASH.test(user.hash), {
    message:
      'expected a bcrypt hash after the name (make one with: npm run nudge -- hash-password)',
  });

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Environment of apps/dashboard. */
export const DashboardEnv = z
  .object({
    ...RedisShape,
    ...LogEnv.shape,
    ...ShutdownEnv.shape,
    // HTTP port of the dashboard (and its /healthz, /readyz, /metrics).
    DASHBOARD_PORT: Port.default(3001),
    // Interface to bind (default every interface; 127.0.0.1 only, and required, without auth).
    DASHBOARD_HOST: z.string().optional(),
    // `off` runs without a login, on 127.0.0.1 only: for a laptop, never for a server.
    DASHBOARD_AUTH: z.enum(['on', 'off']).default('on'),
    // Comma-separated name:bcrypt-hash pairs (npm run nudge -- hash-password makes a hash).
    DASHBOARD_USERS: CommaList.pipe(z.array(DashboardUser)).optional(),
    // Or one password for the user `admin` (at least 12 characters).
    DASHBOARD_PASSWORD: z.string().min(12, 'at least 12 characters').optional(),
    // Signs the session cookie (at least 32 characters). Unset: a random one per process, so
    // sessions end when it restarts; set it when several dashboards serve one address.
    DASHBOARD_SESSION_SECRET: z.string().min(32, 'at least 32 characters').optional(),
    // How long a login lasts.
    DASHBOARD_SESSION_HOURS: z.coerce
      .number()
      .positive()
      .max(24 * 30)
      .default(8),
    // Behind a reverse proxy that terminates HTTPS: how many proxies to trust for
    // X-Forwarded-Proto/For (express `trust proxy`), so cookies are Secure and failed logins
    // are counted per client, not per proxy.
    DASHBOARD_TRUST_PROXY: z.coerce.number().int().min(0).max(10).default(0),
    // Failed logins each client may make per 15 minutes.
    DASHBOARD_LOGIN_ATTEMPTS: z.coerce.number().int().positive().default(10),
  })
  .superRefine(checkRedisSettings)
  .superRefine((env, ctx) => {
    if (env.DASHBOARD_AUTH === 'on') {
      if (env.DASHBOARD_USERS === undefined && env.DASHBOARD_PASSWORD === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['DASHBOARD_USERS'],
          message:
            'set DASHBOARD_USERS (name:bcrypt-hash, …) or DASHBOARD_PASSWORD; or DASHBOARD_AUTH=off for a local dashboard without a login',
        });
      }
    } else if (env.DASHBOARD_HOST !== undefined && !LOOPBACK.has(env.DASHBOARD_HOST)) {
      ctx.addIssue({
        code: 'custom',
        path: ['DASHBOARD_HOST'],
        message:
          'DASHBOARD_AUTH=off serves on 127.0.0.1 only: unset DASHBOARD_HOST or turn auth on',
      });
    }
  })
  .transform((env) => ({
    ...env,
    DASHBOARD_HOST: env.DASHBOARD_HOST ?? (env.DASHBOARD_AUTH === 'off' ? '127.0.0.1' : '0.0.0.0'),
  }));
export type DashboardEnv = z.output<typeof DashboardEnv>;
