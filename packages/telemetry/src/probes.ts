import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';

/** A service's `/readyz`: ready, or why not (ingest, worker and dashboard answer alike). */
export type Readiness = () => Promise<{ ready: true } | { ready: false; reason: string }>;

/** The paths every Nudge process answers without a login, for orchestrators and Prometheus. */
export const PROBE_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/metrics']);

const send = (res: ServerResponse, status: number, body: object) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

/**
 * Answers a probe, on plain node:http objects (an express app takes it as its first step):
 * `/healthz` 200 `{ status: 'ok' }` (the process is up); `/readyz` 200 `{ status: 'ready' }`
 * or 503 `{ status: 'not_ready', reason }`; `/metrics` the registry's exposition. False for
 * any other request, left to the caller.
 */
export const answerProbe = (
  req: IncomingMessage,
  res: ServerResponse,
  { readiness, registry }: { readiness: Readiness; registry: Registry },
): boolean => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (!PROBE_PATHS.has(path) || (req.method !== 'GET' && req.method !== 'HEAD')) {
    return false;
  }
  if (path === '/healthz') {
    send(res, 200, { status: 'ok' });
  } else if (path === '/readyz') {
    readiness().then(
      (state) =>
        state.ready
          ? send(res, 200, { status: 'ready' })
          : send(res, 503, { status: 'not_ready', reason: state.reason }),
      (err: unknown) => send(res, 503, { status: 'not_ready', reason: String(err) }),
    );
  } else {
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => send(res, 500, { error: 'metrics unavailable' }),
    );
  }
  return true;
};

/** `answerProbe` as a middleware: probes answered, anything else passed on. */
export const probeMiddleware =
  (options: { readiness: Readiness; registry: Registry }) =>
  (req: IncomingMessage, res: ServerResponse, next: () => void): void => {
    if (!answerProbe(req, res, options)) {
      next();
    }
  };
