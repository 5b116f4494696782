#!/usr/bin/env node
// The `nudge` command (npx nudge …). The CLI is TypeScript built to dist/ by `npm run build`
// (npm start and npm test build first).
try {
  await import('../dist/main.js');
} catch (err) {
  if (err?.code === 'ERR_MODULE_NOT_FOUND' && String(err.message).includes('dist/main.js')) {
    process.stderr.write('nudge: not built yet: run `npm run build` first\n');
    process.exit(1);
  }
  throw err;
}
