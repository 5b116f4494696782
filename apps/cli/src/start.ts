import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRulesFile, resolveRules } from '@nudge/config';
import { createLivechatClient } from '@nudge/livechat';
import { createSandbox, type Sandbox } from '@nudge/livechat-sandbox';
import { parse, stringify } from 'yaml';
import { type Child, startChild } from './children.js';
import { type LocalRedis, resolveLocalRedis } from './local-redis.js';
import { assertPortFree, PortInUseError } from './ports.js';
import { runSetup } from './setup.js';
import { removeStackState, SANDBOX_RULES_FILE, writeStackState } from './stack-state.js';

const mainOf = (pkg: string) => fileURLToPath(import.meta.resolve(`${pkg}/main`));
const EXAMPLE_RULES = new URL(import.meta.resolve('@nudge/config/nudge.rules.example.yaml'));

/** The shortest idle wait the rules allow: the sandbox demo shows the idle reply quickly. */
const SANDBOX_IDLE_SECONDS = 5;
/** SIGTERM → exit for every child, well inside the 10 s a stop may take. */
const CHILD_SHUTDOWN_MS = 5_000;
const CHILD_KILL_AFTER_MS = 7_000;
const DEFAULT_QUEUE_PREFIX = 'nudge';

export type StartOptions = {
  /** Ingest port (0 = any free port). */
  port: number;
  /** Sandbox port, when running against the sandbox. */
  sandboxPort: number;
  /** Dashboard port (0 = any free port). */
  dashboardPort: number;
  workers: number;
  /** Where local state lives (a spawned Redis's data, the sandbox's rules file). */
  stateDir: string;
  pretty: boolean;
  env: NodeJS.ProcessEnv;
  /** Aborting stops everything started so far (a signal during start-up). */
  signal: AbortSignal;
  say?: (line: string) => void;
};

export type RunningStack = {
  webhookUrl: string;
  dashboardUrl: string;
  sandbox: Sandbox | undefined;
  /** Resolves when the stack has stopped (a signal, or a process died), with the exit code. */
  stopped: Promise<number>;
  /** Stops everything, each app shutting down gracefully; again while stopping, waits. */
  stop: () => Promise<number>;
  /** Stops without waiting for the apps' graceful shutdown (SIGKILL), e.g. Ctrl-C twice. */
  kill: () => void;
};

/** The example rules file, pointed at the sandbox's organization, app, PAT and bot. */
const writeSandboxRules = async ({
  rulesPath,
  organizationId,
  clientId,
  accountId,
  botId,
}: {
  rulesPath: string;
  organizationId: string;
  clientId: string;
  accountId: string;
  botId: string;
}) => {
  const example = parse(await readFile(EXAMPLE_RULES, 'utf8')) as {
    defaults?: {
      idleReply?: Record<string, unknown>;
      cannedResponses?: { byKeyword?: Record<string, unknown> };
    };
  };
  const defaults = {
    ...example.defaults,
    idleReply: { ...example.defaults?.idleReply, afterSeconds: SANDBOX_IDLE_SECONDS },
  };
  const rules = {
    livechat: { apiVersion: '3.6', clientId },
    defaults,
    organizations: {
      [organizationId]: {
        bot: { id: botId, secret: 'env:NUDGE_SANDBOX_BOT_SECRET' },
        pat: { accountId, token: 'env:NUDGE_SANDBOX_PAT' },
      },
    },
  };
  await writeFile(
    rulesPath,
    `# Written by npm start for the LiveChat sandbox; edit packages/config/nudge.rules.example.yaml instead.\n${stringify(rules)}`,
  );
  return { defaults };
};

/**
 * `npm start`: the whole stack on this machine — Redis, ingest and workers as child processes.
 * Without `NUDGE_CONFIG` it runs against the LiveChat sandbox, set up by `nudge setup`'s own
 * code: a bot that routing never assigns chats, the webhooks the rules need, the bot
 * accepting chats. Every stop path (a signal during start-up too, a child dying) stops every
 * child within 10 s and removes the state file.
 */
export const startStack = async ({
  port,
  sandboxPort,
  dashboardPort,
  workers,
  stateDir,
  pretty,
  env,
  signal,
  say = (line) => process.stdout.write(`${line}\n`),
}: StartOptions): Promise<RunningStack> => {
  const useSandbox = !env.NUDGE_CONFIG;
  // Empty counts as unset, as everywhere in Nudge's configuration.
  const secret =
    env.LIVECHAT_WEBHOOK_SECRETS || (useSandbox ? randomBytes(24).toString('hex') : undefined);
  if (!secret) {
    throw new Error(
      'LIVECHAT_WEBHOOK_SECRETS is required with NUDGE_CONFIG (the secret_key you registered)',
    );
  }
  if (env.NUDGE_CONFIG) {
    // Checked once here: each worker would report the same problems again.
    await loadRulesFile(env.NUDGE_CONFIG, env);
  }
  const dashboard = dashboardLogin(env, useSandbox);
  const host = env.HOST ?? '127.0.0.1';
  const dashboardHost = env.DASHBOARD_HOST || '127.0.0.1';
  await assertPortFree({ port, host, option: '--port <port> (or PORT)' });
  await assertPortFree({
    port: dashboardPort,
    host: dashboardHost,
    option: '--dashboard-port <port> (or DASHBOARD_PORT)',
  });
  if (useSandbox) {
    await assertPortFree({ port: sandboxPort, host: '127.0.0.1', option: '--sandbox-port <port>' });
  }
  await mkdir(stateDir, { recursive: true });

  const children: Child[] = [];
  let redis: LocalRedis | undefined;
  let sandbox: Sandbox | undefined;
  let stopping: Promise<number> | undefined;
  let resolveStopped: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve;
  });
  const killAll = () => {
    for (const child of children) {
      child.process.kill('SIGKILL');
    }
  };

  const stop = (code = 0): Promise<number> => {
    if (stopping) {
      return stopping;
    }
    stopping = (async () => {
      for (const child of children) {
        child.process.kill('SIGTERM');
      }
      const deadline = setTimeout(killAll, CHILD_KILL_AFTER_MS);
      const codes = await Promise.all(children.map((child) => child.exited));
      clearTimeout(deadline);
      await sandbox?.close();
      await redis?.stop();
      await removeStackState(stateDir);
      const result = code !== 0 || codes.some((exit) => exit !== 0) ? 1 : 0;
      resolveStopped(result);
      return result;
    })();
    return stopping;
  };
  const onAbort = () => void stop(0);
  signal.addEventListener('abort', onAbort, { once: true });
  const checkAborted = () => {
    if (signal.aborted) {
      throw new Error('stopped during start-up');
    }
  };
  const watch = (child: Child) => {
    children.push(child);
    void child.exited.then((exitCode) => {
      if (!stopping) {
        say(`[nudge] ${child.name} exited (${exitCode}); stopping everything`);
        void stop(1);
      }
    });
    return child;
  };

  try {
    redis = await resolveLocalRedis({
      env,
      dataDir: join(stateDir, 'redis'),
      sandbox: useSandbox,
      signal,
    });
    checkAborted();
    const common = {
      ...env,
      REDIS_URL: redis.url,
      REDIS_CLUSTER: String(redis.cluster),
      LOG_PRETTY: 'false',
      SHUTDOWN_TIMEOUT_MS: env.SHUTDOWN_TIMEOUT_MS || String(CHILD_SHUTDOWN_MS),
    };
    const ingest = watch(
      startChild({
        name: 'ingest',
        entry: mainOf('@nudge/ingest'),
        env: { ...common, PORT: String(port), HOST: host, LIVECHAT_WEBHOOK_SECRETS: secret },
        pretty,
      }),
    );
    const listening = await ingest.waitForLine((line) => line.msg === 'listening');
    const webhookUrl = `http://127.0.0.1:${String(listening.port)}${String(listening.webhookPath)}`;
    checkAborted();

    const workerEnv: NodeJS.ProcessEnv = { ...common };
    let banner: string[] = [];
    let onReady = async (): Promise<void> => undefined;
    if (useSandbox) {
      try {
        sandbox = await createSandbox({ port: sandboxPort });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
          throw new PortInUseError(sandboxPort, '--sandbox-port <port>');
        }
        throw err;
      }
      const running = sandbox;
      const { organizationId, clientId, accountId, pat } = running.credentials;
      // Set the sandbox up exactly as `nudge setup` sets up a real LiveChat account.
      const setupRules = resolveRules(
        {
          livechat: { apiVersion: '3.6', clientId },
          organizations: { [organizationId]: { pat: { accountId, token: pat } } },
        },
        {},
        { requireBotIds: false },
      );
      const admin = createLivechatClient({
        baseUrl: running.url,
        auth: { type: 'pat', accountId, pat },
      });
      const { bots } = await runSetup({
        rules: setupRules,
        adminClient: () => admin,
        url: webhookUrl,
        secret,
        // What setup did, without its advice for a rules file: npm start writes that itself.
        out: (line) => {
          if (!line.startsWith('    ')) {
            say(`[setup] ${line}`);
          }
        },
      });
      const bot = bots[0];
      if (!bot?.secret) {
        throw new Error('the sandbox setup did not create a bot');
      }
      const rulesPath = join(stateDir, SANDBOX_RULES_FILE);
      const { defaults } = await writeSandboxRules({
        rulesPath,
        organizationId,
        clientId,
        accountId,
        botId: bot.id,
      });
      Object.assign(workerEnv, {
        LIVECHAT_API_URL: running.url,
        NUDGE_CONFIG: rulesPath,
        NUDGE_SANDBOX_BOT_SECRET: bot.secret,
        NUDGE_SANDBOX_PAT: pat,
      });
      const prefix = env.QUEUE_PREFIX || DEFAULT_QUEUE_PREFIX;
      onReady = () =>
        writeStackState(stateDir, {
          pid: process.pid,
          sandboxUrl: running.url,
          webhookUrl,
          redisUrl: redis?.url ?? '',
          redisCluster: redis?.cluster ?? false,
          prefix,
          organizationId,
          botId: bot.id,
          idleAfterSeconds: SANDBOX_IDLE_SECONDS,
        });
      banner = sandboxBanner({
        sandboxUrl: running.url,
        organizationId,
        botId: bot.id,
        rulesPath,
        idleSeconds: SANDBOX_IDLE_SECONDS,
        keyword: Object.keys(defaults.cannedResponses?.byKeyword ?? {})[0],
      });
    }
    const metricsUrls: string[] = [];
    for (let i = 0; i < workers; i += 1) {
      checkAborted();
      const ready = await watch(
        startChild({
          name: `worker-${i + 1}`,
          entry: mainOf('@nudge/worker'),
          // Several workers on one host: each takes a free port for /metrics, unless one
          // worker runs and WORKER_METRICS_PORT says where.
          env: {
            ...workerEnv,
            WORKER_METRICS_PORT: workers === 1 ? (env.WORKER_METRICS_PORT ?? '0') : '0',
            WORKER_METRICS_HOST: '127.0.0.1',
          },
          pretty,
        }),
      ).waitForLine((line) => line.msg === 'worker ready');
      metricsUrls.push(`http://127.0.0.1:${String(ready.metricsPort)}/metrics`);
    }
    checkAborted();
    const board = await watch(
      startChild({
        name: 'dashboard',
        entry: mainOf('@nudge/dashboard'),
        env: {
          ...common,
          ...dashboard.env,
          DASHBOARD_PORT: String(dashboardPort),
          DASHBOARD_HOST: dashboardHost,
        },
        pretty,
      }),
    ).waitForLine((line) => line.msg === 'listening');
    const dashboardUrl = `http://127.0.0.1:${String(board.port)}`;
    checkAborted();
    await onReady();

    say('');
    say(
      useSandbox
        ? 'Nudge is running against the LiveChat sandbox (no NUDGE_CONFIG given).'
        : `Nudge is running against LiveChat with the rules in ${env.NUDGE_CONFIG}.`,
    );
    say(
      useSandbox
        ? `  webhooks  ${webhookUrl}`
        : `  webhooks  ${webhookUrl} — expose it over HTTPS and run \`npx nudge setup --url https://…\``,
    );
    say(`  redis     ${redis.url} (${redis.source}${redis.cluster ? ', cluster' : ''})`);
    say(`  dashboard ${dashboardUrl}   ${dashboard.describe}`);
    say(`  metrics   ${metricsUrls.join(' ')} (workers; also /healthz, /readyz)`);
    for (const line of banner) {
      say(line);
    }
    say('Stop with Ctrl-C.');
    say('');
    return {
      webhookUrl,
      dashboardUrl,
      sandbox,
      stopped,
      stop: () => stop(0),
      kill: () => {
        void stop(0);
        killAll();
      },
    };
  } catch (err) {
    await stop(signal.aborted ? 0 : 1);
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
};

/**
 * How the dashboard is logged into: the credentials in the environment; against the sandbox
 * without any, a password generated for this run (printed); against a real LiveChat without
 * any, an error before anything starts (the dashboard would refuse to start alone).
 */
const dashboardLogin = (
  env: NodeJS.ProcessEnv,
  useSandbox: boolean,
): { env: Record<string, string>; describe: string } => {
  if (env.DASHBOARD_AUTH === 'off') {
    return { env: {}, describe: 'no login (DASHBOARD_AUTH=off)' };
  }
  if (env.DASHBOARD_USERS || env.DASHBOARD_PASSWORD) {
    return {
      env: {},
      describe: env.DASHBOARD_USERS
        ? 'log in as a user of DASHBOARD_USERS'
        : 'user admin, password from DASHBOARD_PASSWORD',
    };
  }
  if (!useSandbox) {
    throw new Error(
      'the dashboard needs a login: set DASHBOARD_PASSWORD or DASHBOARD_USERS (name:hash, from `npx nudge hash-password`), or DASHBOARD_AUTH=off',
    );
  }
  const password = randomBytes(12).toString('base64url');
  return {
    env: { DASHBOARD_PASSWORD: password },
    describe: `user admin, password ${password} (generated for this run)`,
  };
};

const sandboxBanner = ({
  sandboxUrl,
  organizationId,
  botId,
  rulesPath,
  idleSeconds,
  keyword,
}: {
  sandboxUrl: string;
  organizationId: string;
  botId: string;
  rulesPath: string;
  idleSeconds: number;
  keyword: string | undefined;
}): string[] => {
  const play = (method: string, body: string) =>
    `curl -s -XPOST ${sandboxUrl}/_sandbox/scenario/${method} -H 'content-type: application/json' -d '${body}'`;
  return [
    `  sandbox   ${sandboxUrl}   organization ${organizationId}, bot ${botId}`,
    `  rules     ${rulesPath}`,
    '',
    'Play the rules (in another terminal):',
    '  npm run demo      all three rules and a bot not accepting chats, checked; about 15 s',
    `  1. a customer writes; the bot nudges them after ${idleSeconds} s without an answer:`,
    `     ${play('openChat', '{"message":"Hello, anyone there?"}')}`,
    '     (it prints the chatId to use below)',
    '  2. an agent tags the chat; the bot whispers canned responses to the agents:',
    `     ${play('tag', '{"chatId":"<chatId>","tag":"refund"}')}`,
    ...(keyword
      ? [
          `     or a customer mentions "${keyword}":`,
          `     ${play('customerMessage', `{"chatId":"<chatId>","text":"${keyword}?"}`)}`,
        ]
      : []),
    '  3. the customer rates the chat (1 good, 0 bad); the bot whispers the agents what to do:',
    `     ${play('rate', '{"chatId":"<chatId>","score":1}')}`,
    '',
    'See what the bot did:',
    `  curl -s ${sandboxUrl}/_sandbox/chats/<chatId>     the chat as LiveChat holds it`,
    '  the worker lines "job done" below: each rule job and its outcome (sent, or skipped and why)',
  ];
};
