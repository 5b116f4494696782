#!/usr/bin/env node
// `npm start`, `npm run demo`, `npm run nudge -- …`: build (turbo, cached), then run the
// nudge CLI in this very process. The npm scripts `exec` this file, so the signals npm
// forwards (SIGINT, SIGTERM) reach the CLI itself; a plain `sh -c "npm run build && node …"`
// would die on them and leave the apps running. A signal during the build stops the build.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

// biome-ignore lint/suspicious/noUndeclaredEnvVars: npm sets it for scripts; this is no turbo task.
const npm = process.env.npm_execpath;

// npm can die of a SIGTERM without passing it on (one that lands while npm is still starting
// this script), and a SIGKILL never passes on: this process would run on as an orphan with
// nobody to stop it. When the npm that started it is gone, it stops as if npm had sent SIGTERM
// (during the build and after, when the CLI runs in this process). npm may be gone before this
// line runs: then init adopted this process, unless npm itself is PID 1 (a container).
const isNpm = (pid) => {
  try {
    // npm sets its title (`npm start …`); before that the command line names its script.
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.startsWith('npm') || cmdline.includes(npm);
  } catch {
    return true; // no /proc: only a change of parent tells
  }
};
if (npm) {
  const parent = process.ppid;
  const orphaned = parent === 1 && !isNpm(1);
  const watch = setInterval(() => {
    if (orphaned || process.ppid !== parent) {
      clearInterval(watch);
      process.kill(process.pid, 'SIGTERM');
    }
  }, 250);
  watch.unref();
}
const build = npm
  ? spawn(process.execPath, [npm, 'run', 'build', '--silent'], { stdio: 'inherit', detached: true })
  : spawn('npm', ['run', 'build', '--silent'], { stdio: 'inherit', detached: true });
let stoppedBy;
const stop = (signal) => {
  stoppedBy = signal;
  try {
    // The build runs in its own process group (turbo, tsc): stop all of it.
    process.kill(-build.pid, signal);
  } catch {
    // already gone
  }
};
// SIGHUP: the terminal was closed.
const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'];
for (const signal of SIGNALS) {
  process.on(signal, stop);
}
const code = await new Promise((resolve) => {
  build.on('exit', (exitCode) => resolve(exitCode ?? 1));
  build.on('error', () => resolve(1));
});
for (const signal of SIGNALS) {
  process.off(signal, stop);
}
if (stoppedBy) {
  process.stderr.write(`nudge: stopped during the build (${stoppedBy})\n`);
  process.exit(0);
}
if (code !== 0) {
  process.stderr.write('nudge: the build failed (see above)\n');
  process.exit(code);
}
await import('../apps/cli/bin/nudge.js');
