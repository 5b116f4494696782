import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import {
  type Logger,
  probeMiddleware,
  type Readiness,
  type Registry,
  requestLogger,
} from '@nudge/telemetry';
import express, { type ErrorRequestHandler } from 'express';

export type CreateAppOptions = {
  /** Path LiveChat posts to (registered as the webhook URL). */
  webhookPath: string;
  handleWebhook: (req: IncomingMessage, res: ServerResponse) => void;
  readiness: Readiness;
  registry: Registry;
  log: Logger;
};

/**
 * The ingest's request listener. Webhooks take a direct path to their handler: express's
 * per-request work (router, req/res decoration) would cost more than the Redis write itself,
 * and LiveChat's retries depend on fast answers. Everything else — probes, metrics, 404s,
 * errors — is an ordinary express app.
 */
export const createApp = ({
  webhookPath,
  handleWebhook,
  readiness,
  registry,
  log,
}: CreateAppOptions): RequestListener => {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requestLogger(log));

  app.use(probeMiddleware({ readiness, registry }));
  app.all(webhookPath, (_req, res) => {
    res.set('allow', 'POST').status(405).json({ error: 'method_not_allowed', message: 'use POST' });
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found', message: 'no such route' });
  });
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    req.log.error({ err }, 'request failed');
    if (!res.headersSent) {
      res.status(500).json({ error: 'internal', message: 'internal error' });
    }
  };
  app.use(onError);

  const webhookQuery = `${webhookPath}?`;
  return (req, res) => {
    const url = req.url ?? '';
    if (req.method === 'POST' && (url === webhookPath || url.startsWith(webhookQuery))) {
      handleWebhook(req, res);
      return;
    }
    app(req, res);
  };
};
