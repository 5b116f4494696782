import { createSandbox } from './sandbox.js';

// Standalone sandbox: `node packages/livechat-sandbox/dist/main.js`. Prints one JSON line with
// its URL and the seeded credentials, then one line per API call and webhook delivery attempt.

const port = Number(process.env.SANDBOX_PORT ?? 3090);
const host = process.env.SANDBOX_HOST ?? '127.0.0.1';

const log = (fields: Record<string, unknown>) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...fields })}\n`);
};

const sandbox = await createSandbox({ port, host });
const { credentials } = sandbox;
log({
  msg: 'livechat sandbox listening',
  url: sandbox.url,
  organizationId: credentials.organizationId,
  clientId: credentials.clientId,
  accountId: credentials.accountId,
  agentId: credentials.agentId,
  pat: credentials.pat,
  agentToken: credentials.agentToken,
  patAuthorization: credentials.patAuthorization,
});

sandbox.journal.events.on('call', (entry) => {
  log({
    msg: 'api call',
    version: entry.version,
    api: entry.api,
    action: entry.action,
    status: entry.status,
  });
});
sandbox.journal.events.on('delivery', (entry) => {
  log({
    msg: 'webhook delivery',
    action: entry.action,
    url: entry.url,
    attempt: entry.attempt,
    status: entry.status,
    error: entry.error,
  });
});

let closing = false;
const shutdown = (signal: NodeJS.Signals) => {
  if (closing) {
    return;
  }
  closing = true;
  void sandbox.close().then(() => {
    log({ msg: 'livechat sandbox closed', signal });
    process.exit(0);
  });
};
// `on`, not `once`: a second signal, of any kind, must not fall through to instant death.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.on(signal, shutdown);
}
