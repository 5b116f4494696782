import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLivechatClient } from '@nudge/livechat';
import { createSandbox, type Sandbox } from '@nudge/livechat-sandbox';
import { parse, stringify } from 'yaml';
import { type Child, startChild } from './children.js';
import { resolveLocalRedis } from './local-redis.js';
import { registerWebhooks } from './setup.js';

const mainOf = (pkg: string) =>
  fileURLToPath(import.meta.resolve(pkg).replace(/index\.js$/, 'main.js'));
const EXAMPLE_RULES = new URL('../../../nudge.rules.example.yaml', import.meta.url);

export type StartOptions = {
  /** Ingest port (0 = any free port). */
  port: number;
  /** Sandbox port, when running against the sandbox. */
  sandboxPort: number;
  workers: number;
  /** Where local state lives (a spawned Redis's data, the sandbox's rules file). */
  stateDir: string;
  pretty: boolean;
  env: NodeJS.ProcessEnv;
};

export type RunningStack = {
  webhookUrl: string;
  sandbox: Sandbox | undefined;
  /** Resolves when the stack has stopped (a signal, or a process died), with the exit code. */
  stopped: Promise<number>;
  stop: () => Promise<number>;
};

const say = (text: string) => process.stdout.write(`${text}\n`);

/** The example rules file, pointed at the sandbox's organization and bot. */
const writeSandboxRules = async ({
  rulesPath,
  stateDir,
  organizationId,
  clientId,
  botId,
  pat,
}: {
  rulesPath: string;
  stateDir: string;
  organizationId: string;
  clientId: string;
  botId: string;
  /** The sandbox's PAT: issue_bot_token needs the organization's credentials. */
  pat: { accountId: string; token: string };
}) => {
  const example = parse(await readFile(EXAMPLE_RULES, 'utf8')) as Record<string, unknown>;
  await mkdir(stateDir, { recursive: true });
  const rules = {
    ...example,
    livechat: { apiVersion: '3.6', clientId },
    organizations: {
      [organizationId]: { bot: { id: botId, secret: 'env:NUDGE_SANDBOX_BOT_SECRET' }, pat },
    },
  };
  await writeFile(
    rulesPath,
    `# Written by npm start for the LiveChat sandbox; edit nudge.rules.example.yaml instead.\n${stringify(rules)}`,
  );
};

/**
 * `npm start`: the whole stack on this machine — Redis (REDIS_URL, else localhost:6379, else a
 * spawned redis-server), ingest and workers as child processes. Without `NUDGE_CONFIG` it runs
 * against the LiveChat sandbox, set up the way `nudge setup` sets LiveChat up: a bot, webhooks
 * to ingest, the bot accepting chats.
 */
export const startStack = async ({
  port,
  sandboxPort,
  workers,
  stateDir,
  pretty,
  env,
}: StartOptions): Promise<RunningStack> => {
  const redis = await resolveLocalRedis({ env, dataDir: join(stateDir, 'redis') });
  const useSandbox = !env.NUDGE_CONFIG;
  // Empty counts as unset, as everywhere in Nudge's configuration.
  const secret =
    env.LIVECHAT_WEBHOOK_SECRETS || (useSandbox ? randomBytes(24).toString('hex') : undefined);
  if (!secret) {
    await redis.stop();
    throw new Error(
      'LIVECHAT_WEBHOOK_SECRETS is required with NUDGE_CONFIG (the secret_key you registered)',
    );
  }
  const common = { ...env, REDIS_URL: redis.url, LOG_PRETTY: 'false' };
  const children: Child[] = [];
  let sandbox: Sandbox | undefined;
  let stopping: Promise<number> | undefined;
  let resolveStopped: (code: number) => void = () => undefined;
  const stopped = new Promise<number>((resolve) => {
    resolveStopped = resolve;
  });

  const stop = (code = 0): Promise<number> => {
    stopping ??= (async () => {
      for (const child of children) {
        child.process.kill('SIGTERM');
      }
      const codes = await Promise.all(children.map((child) => child.exited));
      await sandbox?.close();
      await redis.stop();
      const result = code !== 0 || codes.some((exit) => exit !== 0) ? 1 : 0;
      resolveStopped(result);
      return result;
    })();
    return stopping;
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
    const ingest = watch(
      startChild({
        name: 'ingest',
        entry: mainOf('@nudge/ingest'),
        env: {
          ...common,
          PORT: String(port),
          HOST: env.HOST ?? '127.0.0.1',
          LIVECHAT_WEBHOOK_SECRETS: secret,
        },
        pretty,
      }),
    );
    const listening = await ingest.waitForLine((line) => line.msg === 'listening');
    const webhookUrl = `http://127.0.0.1:${String(listening.port)}${String(listening.webhookPath)}`;

    const workerEnv: NodeJS.ProcessEnv = { ...common };
    let sandboxBanner: string[] = [];
    let acceptChats = async () => undefined;
    if (useSandbox) {
      const running = await createSandbox({ port: sandboxPort });
      sandbox = running;
      const { organizationId, clientId, accountId, pat } = running.credentials;
      const admin = createLivechatClient({
        baseUrl: running.url,
        auth: { type: 'pat', accountId, pat },
      });
      const bot = await admin.createBot({ name: 'Nudge', owner_client_id: clientId });
      await registerWebhooks({ client: admin, clientId, url: webhookUrl, secret, type: 'license' });
      const rulesPath = join(stateDir, 'sandbox.rules.yaml');
      await writeSandboxRules({
        rulesPath,
        stateDir,
        organizationId,
        clientId,
        botId: bot.id,
        pat: { accountId, token: pat },
      });
      Object.assign(workerEnv, {
        LIVECHAT_API_URL: running.url,
        NUDGE_CONFIG: rulesPath,
        NUDGE_SANDBOX_BOT_SECRET: bot.secret,
      });
      acceptChats = async () => {
        await admin.setRoutingStatus({ agent_id: bot.id, status: 'accepting_chats' });
      };
      sandboxBanner = [
        `  sandbox   ${running.url}   organization ${organizationId}, bot ${bot.id}`,
        `  rules     ${rulesPath}`,
        'Play a customer, e.g.:',
        `  curl -s -XPOST ${running.url}/_sandbox/scenario/openChat -H 'content-type: application/json' -d '{"message":"Where is my order?"}'`,
      ];
    }
    for (let i = 0; i < workers; i += 1) {
      await watch(
        startChild({
          name: `worker-${i + 1}`,
          entry: mainOf('@nudge/worker'),
          env: workerEnv,
          pretty,
        }),
      ).waitForLine((line) => line.msg === 'worker ready');
    }
    // After the workers are up, so they see the routing_status_set webhook.
    await acceptChats();

    say('');
    say(
      useSandbox
        ? 'Nudge is running against the LiveChat sandbox (no NUDGE_CONFIG given).'
        : `Nudge is running against LiveChat with the rules in ${env.NUDGE_CONFIG}.`,
    );
    say(
      useSandbox
        ? `  webhooks  ${webhookUrl}`
        : `  webhooks  ${webhookUrl} — register its public HTTPS address in LiveChat with your secret`,
    );
    say(`  redis     ${redis.url} (${redis.source})`);
    for (const line of sandboxBanner) {
      say(line);
    }
    say('');
    return { webhookUrl, sandbox, stopped, stop: () => stop(0) };
  } catch (err) {
    await stop(1);
    throw err;
  }
};
