import { createServer, type Server } from 'node:http';
import { answerProbe, type Readiness, type Registry } from '@nudge/telemetry';

export type CreateHealthServerOptions = { registry: Registry; readiness: Readiness };

/**
 * The worker's own small HTTP surface: `/healthz` (the process is up), `/readyz` (Redis
 * answers and every worker runs: 503 with the reason otherwise) and `/metrics` (Prometheus).
 */
export const createHealthServer = (probes: CreateHealthServerOptions): Server =>
  createServer((req, res) => {
    if (!answerProbe(req, res, probes)) {
      const allowed = req.method === 'GET' || req.method === 'HEAD';
      res
        .writeHead(allowed ? 404 : 405, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: allowed ? 'not found' : 'method not allowed' }));
    }
  });
