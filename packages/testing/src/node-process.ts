import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

/** One JSON log line from a Nudge process (pino), or `{ msg: <raw line> }` for anything else. */
export type LogLine = Record<string, unknown> & { msg?: string };

export type NodeProcess = {
  readonly child: ChildProcess;
  /** Every line the process wrote to stdout and stderr, parsed. */
  readonly lines: LogLine[];
  /** Raw output, for failure messages. */
  output: () => string;
  /** Resolves with the first line (already seen or future) matching `predicate`. */
  waitForLine: (predicate: (line: LogLine) => boolean, timeoutMs?: number) => Promise<LogLine>;
  /** Resolves with the exit code (or signal) once the process exited and its output was read. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill: (signal?: NodeJS.Signals) => void;
};

export type StartNodeProcessOptions = {
  /** The script to run with this Node binary. */
  entry: string;
  args?: string[];
  /** Added to the parent's environment. */
  env?: Record<string, string | undefined>;
};

const parseLine = (raw: string): LogLine => {
  try {
    const value: unknown = JSON.parse(raw);
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      return value as LogLine;
    }
  } catch {
    // not JSON: keep the raw text
  }
  return { msg: raw };
};

/** Runs a Node script as a real child process, collecting its (JSON) log lines. */
export const startNodeProcess = ({
  entry,
  args = [],
  env = {},
}: StartNodeProcessOptions): NodeProcess => {
  const child = spawn(process.execPath, [entry, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: LogLine[] = [];
  const raw: string[] = [];
  const waiters = new Set<{
    predicate: (line: LogLine) => boolean;
    resolve: (line: LogLine) => void;
  }>();
  const onLine = (text: string) => {
    raw.push(text);
    const line = parseLine(text);
    lines.push(line);
    for (const waiter of waiters) {
      if (waiter.predicate(line)) {
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
  // 'close', not 'exit': 'exit' can come before the last lines were read from the pipes, and a
  // test that reads `lines` once the process exited must see all of them.
  const exited = once(child, 'close').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as NodeJS.Signals | null,
  }));

  const waitForLine = (predicate: (line: LogLine) => boolean, timeoutMs = 15_000) => {
    const seen = lines.find(predicate);
    if (seen) {
      return Promise.resolve(seen);
    }
    return new Promise<LogLine>((resolve, reject) => {
      const waiter = {
        predicate,
        resolve: (line: LogLine) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(`no matching log line within ${timeoutMs} ms; output:\n${raw.join('\n')}`),
        );
      }, timeoutMs);
      waiters.add(waiter);
      void exited.then(({ code, signal }) => {
        if (waiters.delete(waiter)) {
          clearTimeout(timer);
          reject(
            new Error(
              `process exited (${code ?? signal}) before the line; output:\n${raw.join('\n')}`,
            ),
          );
        }
      });
    });
  };

  return {
    child,
    lines,
    output: () => raw.join('\n'),
    waitForLine,
    exited,
    kill: (signal = 'SIGTERM') => {
      child.kill(signal);
    },
  };
};
