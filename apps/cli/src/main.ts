#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline/promises';
import { ConfigError, loadConfig, RedisEnv } from '@nudge/config';
import { hashPassword } from '@nudge/dashboard';
import { parseQueueNames, QUEUE_NAMES } from '@nudge/queues';
import { createRedisLayout, STOP_SIGNALS } from '@nudge/runtime';
import { Command, InvalidArgumentError } from 'commander';
import { loadCliContext, publicUrlOf, webhookSecretOf } from './cli-context.js';
import { runDemo } from './demo.js';
import { runDoctor } from './doctor.js';
import { runReconcile } from './reconcile.js';
import { connectOnce } from './redis-probe.js';
import { parseDuration, runReplay } from './replay.js';
import { runSetup, SetupError } from './setup.js';
import { startStack } from './start.js';
import { runStatus } from './status.js';
import { runTeardown } from './teardown.js';

// `npx nudge …` reads .env like the npm scripts do; variables already set win.
if (existsSync('.env')) {
  process.loadEnvFile('.env');
}

const out = (line: string) => process.stdout.write(`${line}\n`);

// A closed terminal (EIO) or a reader gone (EPIPE): what is printed from then on is lost, and
// `nudge start` goes on stopping its stack on the SIGHUP that came with it instead of crashing.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EIO' && err.code !== 'EPIPE') {
      throw err;
    }
  });
}

const integer = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new InvalidArgumentError('expected a whole number');
  }
  return parsed;
};

/** Asks on a terminal; never waits for a keyboard that isn't there (`--yes` answers). */
const confirmer =
  (yes: boolean | undefined) =>
  async (question: string): Promise<boolean> => {
    if (yes) {
      return true;
    }
    if (!process.stdin.isTTY) {
      out(`${question} Not confirmed: standard input is not a terminal; pass --yes to go ahead.`);
      return false;
    }
    const prompt = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return /^y(es)?$/i.test((await prompt.question(`${question} [y/N] `)).trim());
    } finally {
      prompt.close();
    }
  };

const ENVIRONMENT_HELP = `
Environment (the same as the worker's; .env is read by npm scripts):
  NUDGE_CONFIG               the rules file (default nudge.rules.yaml)
  LIVECHAT_API_URL           LiveChat's API (default https://api.livechatinc.com)
  LIVECHAT_WEBHOOK_SECRETS   the secret_key webhooks carry (setup registers the first)
  NUDGE_PUBLIC_URL           where LiveChat reaches ingest (or --url)
  REDIS_URL, QUEUE_PREFIX    the queues' Redis (status, doctor, replay, reconcile, start)
  REDIS_CLUSTER=true         REDIS_URL lists nodes of a Redis Cluster, comma-separated`;

const program = new Command()
  .name('nudge')
  .description('Turn LiveChat webhooks into bot actions, reliably.')
  .showHelpAfterError()
  .addHelpText('after', ENVIRONMENT_HELP);

program
  .command('start')
  .description(
    'run Redis, ingest and workers locally (against the LiveChat sandbox unless NUDGE_CONFIG is set)',
  )
  .option('--port <port>', 'ingest port', integer, Number(process.env.PORT || 3000))
  .option(
    '--sandbox-port <port>',
    'LiveChat sandbox port',
    integer,
    Number(process.env.SANDBOX_PORT || 3090),
  )
  .option(
    '--dashboard-port <port>',
    'dashboard port',
    integer,
    Number(process.env.DASHBOARD_PORT || 3001),
  )
  .option('--workers <n>', 'worker processes', integer, 1)
  .option('--state-dir <dir>', 'local state (spawned Redis data, sandbox rules)', '.nudge')
  .option('--json-logs', "print the apps' JSON logs as they are")
  .action(
    async (options: {
      port: number;
      sandboxPort: number;
      dashboardPort: number;
      workers: number;
      stateDir: string;
      jsonLogs?: boolean;
    }) => {
      // Signals are handled from the first moment: a Ctrl-C during start-up stops what has
      // started so far; later ones stop the stack. Only a second Ctrl-C kills it: another
      // repeat (the SIGTERM scripts/nudge.mjs sends itself when npm died of a closed
      // terminal's SIGHUP; a supervisor's second SIGTERM) waits for the graceful stop.
      const controller = new AbortController();
      let stack: Awaited<ReturnType<typeof startStack>> | undefined;
      let stopping = false;
      let interrupted = false;
      const onSignal = (signal: NodeJS.Signals) => {
        controller.abort();
        if (stack && stopping) {
          if (signal === 'SIGINT' && interrupted) {
            out('[nudge] Ctrl-C twice: killing the apps');
            stack.kill();
          } else {
            out(`[nudge] ${signal}: still waiting for the apps to stop (Ctrl-C twice kills them)`);
          }
        }
        stopping ||= stack !== undefined;
        interrupted ||= signal === 'SIGINT';
        void stack?.stop();
      };
      for (const signal of STOP_SIGNALS) {
        process.on(signal, onSignal);
      }
      try {
        stack = await startStack({
          port: options.port,
          sandboxPort: options.sandboxPort,
          dashboardPort: options.dashboardPort,
          workers: Math.max(1, options.workers),
          stateDir: resolve(options.stateDir),
          pretty: !options.jsonLogs,
          env: process.env,
          signal: controller.signal,
        });
      } catch (err) {
        if (controller.signal.aborted) {
          out('[nudge] stopped during start-up');
          return;
        }
        throw err;
      }
      if (controller.signal.aborted) {
        await stack.stop();
      }
      process.exitCode = await stack.stopped;
    },
  );

program
  .command('setup')
  .description(
    'set LiveChat up for the rules file: the bot, the webhooks the rules need, the bot accepting chats (idempotent)',
  )
  .option('--url <url>', 'the public webhook URL LiveChat posts to (or NUDGE_PUBLIC_URL)')
  .option('--dry-run', 'print what would change and change nothing')
  .action(async (options: { url?: string; dryRun?: boolean }) => {
    const context = await loadCliContext({ env: process.env, requireBotIds: false });
    await runSetup({
      rules: context.rules,
      adminClient: context.adminClient,
      url: publicUrlOf(context.env, options.url),
      secret: webhookSecretOf(context.env),
      dryRun: options.dryRun ?? false,
      out,
    });
  });

program
  .command('status')
  .description("per organization: Nudge's webhooks and bots; the queues and workers")
  .action(async () => {
    const context = await loadCliContext({ env: process.env, requireBotIds: false });
    process.exitCode = (await runStatus({ context, out })) > 0 ? 1 : 0;
  });

program
  .command('doctor')
  .description('check Redis, the rules file and the LiveChat set-up; one line per check')
  .option('--url <url>', 'the public webhook URL the webhooks must point at (or NUDGE_PUBLIC_URL)')
  .action(async (options: { url?: string }) => {
    const failed = await runDoctor({
      env: process.env,
      url: options.url ?? (process.env.NUDGE_PUBLIC_URL || undefined),
      out,
    });
    process.exitCode = failed > 0 ? 1 : 0;
  });

program
  .command('teardown')
  .description("remove what setup made: Nudge's webhooks, and the bots it created (asks first)")
  .option('-y, --yes', 'do not ask')
  .action(async (options: { yes?: boolean }) => {
    const context = await loadCliContext({ env: process.env, requireBotIds: false });
    const removed = await runTeardown({ context, confirm: confirmer(options.yes), out });
    process.exitCode = removed === undefined ? 1 : 0;
  });

type ReplayCommandOptions = {
  queue?: string[];
  since?: string;
  chat?: string;
  reason?: string;
  rate: number;
  dryRun?: boolean;
  yes?: boolean;
};

/** `--queue a,b`: Nudge's queues only. */
const queuesOption = (value: string): string[] => {
  try {
    return parseQueueNames(value, Object.values(QUEUE_NAMES));
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
};

const positive = (value: string): number => {
  const parsed = Number(value);
  if (!(parsed > 0)) {
    throw new InvalidArgumentError('expected a positive number');
  }
  return parsed;
};

program
  .command('replay')
  .description(
    'put failed jobs back to run, ids kept (a message already sent is not sent again); lists them, then asks',
  )
  .option('--queue <names>', 'only these queues, comma-separated', queuesOption)
  .option('--since <duration>', 'only jobs that failed within this long (90s, 30m, 2h, 1d)')
  .option('--chat <id>', 'only jobs about this LiveChat chat')
  .option('--reason <text>', 'only jobs whose failure reason contains this (any case)')
  .option('--rate <jobs/s>', 'put back at most this many jobs per second', positive, 20)
  .option('--dry-run', 'list the jobs; change nothing')
  .option('-y, --yes', 'do not ask')
  .action(async (options: ReplayCommandOptions) => {
    const { REDIS_URL, REDIS_CLUSTER, QUEUE_PREFIX } = loadConfig(RedisEnv, process.env);
    const redis = await connectOnce(REDIS_URL, { cluster: REDIS_CLUSTER });
    try {
      await runReplay({
        redis,
        layout: createRedisLayout(QUEUE_PREFIX, { cluster: REDIS_CLUSTER }),
        ...(options.queue === undefined ? {} : { queues: options.queue }),
        ...(options.since === undefined ? {} : { sinceMs: parseDuration(options.since) }),
        ...(options.chat === undefined ? {} : { chatId: options.chat }),
        ...(options.reason === undefined ? {} : { reason: options.reason }),
        dryRun: options.dryRun === true,
        confirm: confirmer(options.yes),
        perSecond: options.rate,
        out,
        progress: process.stderr.isTTY === true,
      });
    } finally {
      redis.disconnect();
    }
  });

program
  .command('reconcile')
  .description(
    "after an outage longer than LiveChat's retries: read each organization's active chats and store again the webhooks they imply (the workers act once on what was lost)",
  )
  .requiredOption('--since <duration>', 'events created within this long (90s, 30m, 2h, 1d)')
  .option('--rate <calls/s>', 'LiveChat calls per second', positive, 5)
  .option('--dry-run', 'read LiveChat and count; store nothing')
  .action(async (options: { since: string; rate: number; dryRun?: boolean }) => {
    const context = await loadCliContext({ env: process.env });
    const { REDIS_URL, REDIS_CLUSTER, QUEUE_PREFIX } = context.env;
    const redis = await connectOnce(REDIS_URL, { cluster: REDIS_CLUSTER });
    try {
      await runReconcile({
        context,
        redis,
        layout: createRedisLayout(QUEUE_PREFIX, { cluster: REDIS_CLUSTER }),
        sinceMs: parseDuration(options.since),
        perSecond: options.rate,
        dryRun: options.dryRun === true,
        out,
      });
    } finally {
      redis.disconnect();
    }
  });

program
  .command('hash-password')
  .description(
    'print a bcrypt hash of the password on standard input, for DASHBOARD_USERS (name:hash,…)',
  )
  .addHelpText(
    'after',
    '\nExample (the password stays out of your shell history):\n  read -rs PW && printf %s "$PW" | npx nudge hash-password',
  )
  .action(async () => {
    if (process.stdin.isTTY) {
      throw new Error(
        'pipe the password in: read -rs PW && printf %s "$PW" | npx nudge hash-password',
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) {
      chunks.push(chunk as Buffer);
    }
    const password = Buffer.concat(chunks)
      .toString('utf8')
      .replace(/\r?\n$/, '');
    if (password.length < 12) {
      throw new Error('the password needs at least 12 characters');
    }
    out(await hashPassword(password));
  });

program
  .command('demo')
  .description(
    'play the three rules against a running `npm start` in sandbox mode and check the bot acted once each',
  )
  .option('--state-dir <dir>', 'the state directory `npm start` uses', '.nudge')
  .action(async (options: { stateDir: string }) => {
    const failures = await runDemo({ stateDir: resolve(options.stateDir), out });
    process.exitCode = failures > 0 ? 1 : 0;
  });

try {
  await program.parseAsync();
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`nudge: ${err.message}\n`);
  } else {
    const message = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `nudge: ${err instanceof SetupError ? 'setup stopped: ' : ''}${message}\n`,
    );
  }
  process.exitCode = 1;
}
