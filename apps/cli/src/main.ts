#!/usr/bin/env node
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { startStack } from './start.js';

const integer = (value: string): number => {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) {
    throw new InvalidArgumentError('expected a whole number');
  }
  return parsed;
};

const program = new Command()
  .name('nudge')
  .description('Turn LiveChat webhooks into bot actions, reliably.');

program
  .command('start')
  .description(
    'run ingest and workers locally (against the LiveChat sandbox unless NUDGE_CONFIG is set)',
  )
  .option('--port <port>', 'ingest port', integer, Number(process.env.PORT ?? 3000))
  .option(
    '--sandbox-port <port>',
    'LiveChat sandbox port',
    integer,
    Number(process.env.SANDBOX_PORT ?? 3090),
  )
  .option('--workers <n>', 'worker processes', integer, 1)
  .option('--state-dir <dir>', 'local state (spawned Redis data, sandbox rules)', '.nudge')
  .option('--json-logs', "print the apps' JSON logs as they are")
  .action(
    async (options: {
      port: number;
      sandboxPort: number;
      workers: number;
      stateDir: string;
      jsonLogs?: boolean;
    }) => {
      const stack = await startStack({
        port: options.port,
        sandboxPort: options.sandboxPort,
        workers: Math.max(1, options.workers),
        stateDir: resolve(options.stateDir),
        pretty: !options.jsonLogs,
        env: process.env,
      });
      const onSignal = () => void stack.stop();
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      process.exitCode = await stack.stopped;
    },
  );

try {
  await program.parseAsync();
} catch (err) {
  process.stderr.write(`nudge: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
}
