#!/usr/bin/env node
// `npm run test:chaos`: the chaos suite alone, full profile (bigger counts than the short one
// `npm test` runs). `npm run test:chaos -- --soak 20`: only the soak, the big run over and
// over for 20 minutes. Other arguments go to vitest (a file, `-t <name>`).
import { spawn } from 'node:child_process';

const args = process.argv.slice(2);
let soak;
const rest = [];
for (let i = 0; i < args.length; i += 1) {
  const arg = args[i] ?? '';
  if (arg === '--soak' || arg.startsWith('--soak=')) {
    soak = Number(arg === '--soak' ? args[++i] : arg.slice('--soak='.length));
    if (!(soak > 0)) {
      console.error('--soak takes a number of minutes, e.g. --soak 20');
      process.exit(2);
    }
  } else {
    rest.push(arg);
  }
}

const child = spawn(
  'vitest',
  ['run', '--project', '@nudge/chaos', ...(soak ? ['-t', 'soak'] : []), ...rest],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      CHAOS_PROFILE: 'full',
      ...(soak ? { CHAOS_SOAK_MINUTES: String(soak) } : {}),
    },
  },
);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => child.kill(signal));
}
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
