#!/usr/bin/env node
// `npm start`, `npm run demo`, `npm run nudge -- …`: build (turbo, cached), then run the
// nudge CLI in this very process. The npm scripts `exec` this file, so the signals npm
// forwards (SIGINT, SIGTERM) reach the CLI itself; a plain `sh -c "npm run build && node …"`
// would die on them and leave the apps running. A signal during the build stops the build.
import { spawn } from 'node:child_process';

// biome-ignore lint/suspicious/noUndeclaredEnvVars: npm sets it for scripts; this is no turbo task.
const npm = process.env.npm_execpath;
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
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
const code = await new Promise((resolve) => {
  build.on('exit', (exitCode) => resolve(exitCode ?? 1));
  build.on('error', () => resolve(1));
});
process.off('SIGINT', stop);
process.off('SIGTERM', stop);
if (stoppedBy) {
  process.stderr.write(`nudge: stopped during the build (${stoppedBy})\n`);
  process.exit(0);
}
if (code !== 0) {
  process.stderr.write('nudge: the build failed (see above)\n');
  process.exit(code);
}
await import('../apps/cli/bin/nudge.js');
