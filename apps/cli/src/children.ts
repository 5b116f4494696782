import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
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
  const child = spawn(process.execPath, [entry, ...args], {
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
