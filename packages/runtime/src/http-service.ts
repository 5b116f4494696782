import { once } from 'node:events';
import type { Server } from 'node:http';
import { type InstallShutdownOptions, installShutdown } from './shutdown.js';

/**
 * Listens on `port` (0: any free one) and resolves with the port bound; a port in use is one
 * clear error naming the variable that moves it.
 */
export const listenHttp = async (
  server: Server,
  { port, host, portVariable }: { port: number; host: string; portVariable: string },
): Promise<number> => {
  try {
    server.listen(port, host);
    await once(server, 'listening');
  } catch (err) {
    throw (err as NodeJS.ErrnoException).code === 'EADDRINUSE'
      ? new Error(`port ${port} is in use: set ${portVariable} to a free port`)
      : err;
  }
  const address = server.address();
  return typeof address === 'object' && address ? address.port : port;
};

export type ServeHttpOptions = Omit<InstallShutdownOptions, 'drain' | 'onDeadline' | 'messages'> & {
  server: Server;
  port: number;
  host: string;
  portVariable: string;
};

/**
 * An HTTP service's life: on SIGTERM/SIGINT it stops taking connections, lets the requests in
 * flight finish (dropping what is open at the deadline), then releases the rest in order;
 * then it listens. Resolves with the port bound.
 */
export const serveHttp = ({
  server,
  port,
  host,
  portVariable,
  ...shutdown
}: ServeHttpOptions): Promise<number> => {
  installShutdown({
    ...shutdown,
    drain: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      }),
    messages: {
      start: 'shutting down: no new connections',
      drained: 'in-flight requests finished',
      deadline: 'shutdown deadline passed: dropping open connections',
    },
    onDeadline: () => server.closeAllConnections(),
  });
  return listenHttp(server, { port, host, portVariable });
};
