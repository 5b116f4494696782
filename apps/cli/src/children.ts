import { type ChildProcess, type SpawnOptions, spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { createInterface } from 'node:readline';
import { prettyFactory } from 'pino-pretty';

export type Child = {
  name: string;
  process: ChildProcess;
  /** Resolves with the first JSON log line matching `predicate`; rejects if the child exits first. */
  waitForLine: (
    predicate: (line: Record<string, unknown>) => boolean,
  ) => Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
};

/** `command`'s path: itself when it has a slash, else the first executable of that name on PATH. */
export const findExecutable = (
  command: string,
  path = process.env.PATH ?? '',
): string | undefined => {
  const candidates =
    isAbsolute(command) || command.includes('/')
      ? [command]
      : path
          .split(delimiter)
          .filter(Boolean)
          .map((dir) => join(dir, command));
  return candidates.find((candidate) => {
    try {
      accessSync(candidate, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
};

/** util-linux's setpriv, which can set the parent-death signal of what it runs (Linux only). */
const SETPRIV = process.platform === 'linux' ? findExecutable('setpriv') : undefined;

/**
 * Spawns `command` so that it gets SIGTERM if this process dies without stopping it (a
 * SIGKILL, a crash): through `setpriv --pdeathsig TERM`, where there is one, which then runs
 * `command` in its own place (same pid). Elsewhere a plain spawn: the child outlives a killed
 * parent there. `command` must be a path (see `findExecutable`): a missing one would only show
 * as setpriv's exit code.
 */
export const spawnTied = (
  command: string,
  args: readonly string[],
  options: SpawnOptions,
): ChildProcess =>
  SETPRIV === undefined
    ? spawn(command, args, options)
    : spawn(SETPRIV, ['--pdeathsig', 'TERM', '--', command, ...args], options);

/** Runs a Nudge app as a child process, printing its JSON logs human-readably, prefixed by name. */
export const startChild = ({
  name,
  entry,
  args = [],
  env,
  pretty,
}: {
  name: string;
  entry: string;
  args?: string[];
  env: NodeJS.ProcessEnv;
  pretty: boolean;
}): Child => {
  // Tied to this process: a `nudge start` killed outright takes its apps with it.
  const child = spawnTied(process.execPath, [entry, ...args], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const format = prettyFactory({ colorize: process.stdout.isTTY, ignore: 'pid,hostname,service' });
  const waiters = new Set<{
    predicate: (line: Record<string, unknown>) => boolean;
    resolve: (line: Record<string, unknown>) => void;
  }>();
  const onLine = (text: string) => {
    let line: Record<string, unknown> | undefined;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = undefined;
    }
    process.stdout.write(pretty && line ? `[${name}] ${format(line)}` : `[${name}] ${text}\n`);
    for (const waiter of waiters) {
      if (line && waiter.predicate(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  };
  for (const stream of [child.stdout, child.stderr]) {
    if (stream) {
      createInterface({ input: stream }).on('line', onLine);
    }
  }
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  return {
    name,
    process: child,
    exited,
    waitForLine: (predicate) =>
      new Promise((resolve, reject) => {
        waiters.add({ predicate, resolve });
        void exited.then((code) =>
          reject(new Error(`${name} exited (${code}) before it was ready`)),
        );
      }),
  };
};
