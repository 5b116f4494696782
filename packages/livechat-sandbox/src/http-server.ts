import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiCall } from './api-calls.js';
import { ApiError } from './errors.js';
import { errorAnswer, internalErrorBody, send } from './http-json.js';

const API_PATH = /^\/v([^/]+)\/(agent|configuration)\/action\/([^/]+)$/;

/** Where requests go: LiveChat's APIs, or the sandbox's own `/_sandbox` routes. */
type HttpHandlers = {
  api: (req: IncomingMessage, res: ServerResponse, call: ApiCall) => Promise<void>;
  sandbox: (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;
};

type HttpServer = {
  /** `http://<host>:<port>`, with a wildcard host answered as 127.0.0.1. */
  url: string;
  port: number;
  /** Stops listening and drops open connections. */
  close: () => Promise<void>;
};

const route = async (handlers: HttpHandlers, req: IncomingMessage, res: ServerResponse) => {
  const url = new URL(req.url ?? '/', 'http://sandbox');
  const apiMatch = API_PATH.exec(url.pathname);
  if (apiMatch) {
    const [, rawVersion = '', api = '', action = ''] = apiMatch;
    // The pattern only matches `agent` or `configuration`.
    const call = { rawVersion, api: api === 'agent' ? 'agent' : 'configuration', action } as const;
    await handlers.api(req, res, call);
    return;
  }
  try {
    if (url.pathname === '/_sandbox' || url.pathname.startsWith('/_sandbox/')) {
      await handlers.sandbox(req, res, url);
      return;
    }
    throw new ApiError('not_found', `Not found: ${req.method} ${url.pathname}`);
  } catch (err) {
    const { status, body } = errorAnswer(err);
    send(res, status, body);
  }
};

/** Serves `handlers` on `host:port` (port 0: any free port). */
export const startHttpServer = async ({
  host,
  port,
  handlers,
}: {
  host: string;
  port: number;
  handlers: HttpHandlers;
}): Promise<HttpServer> => {
  const server = createServer((req, res) => {
    route(handlers, req, res).catch((err: unknown) => {
      send(res, 500, internalErrorBody(err));
    });
  });
  server.listen(port, host);
  await once(server, 'listening');
  const address = server.address() as AddressInfo;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return {
    url: `http://${urlHost}:${address.port}`,
    port: address.port,
    close: async () => {
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
};
