import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type Readiness, type Registry, readinessAnswer } from '@nudge/telemetry';

export type CreateHealthServerOptions = { registry: Registry; readiness: Readiness };

const send = (res: import('node:http').ServerResponse, status: number, body: object) => {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

/**
 * The worker's own small HTTP surface: `/healthz` (the process is up), `/readyz` (Redis
 * answers and every worker runs: 503 with the reason otherwise) and `/metrics` (Prometheus).
 */
export const createHealthServer = ({ registry, readiness }: CreateHealthServerOptions): Server =>
  createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://worker').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, { error: 'method not allowed' });
    } else if (path === '/healthz') {
      send(res, 200, { status: 'ok' });
    } else if (path === '/readyz') {
      readiness().then(
        (state) => {
          const { status, body } = readinessAnswer(state);
          send(res, status, body);
        },
        (err: unknown) => send(res, 503, { status: 'not_ready', reason: String(err) }),
      );
    } else if (path === '/metrics') {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        () => send(res, 500, { error: 'metrics unavailable' }),
      );
    } else {
      send(res, 404, { error: 'not found' });
    }
  });

/** Listens; resolves with the port, or rejects (e.g. EADDRINUSE). */
export const listen = async (server: Server, port: number, host: string): Promise<number> => {
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
};
