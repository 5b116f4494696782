import { once } from 'node:events';
import { createServer } from 'node:net';

/** A port nothing listens on right now (the OS picks it). */
export const freePort = async (): Promise<number> => {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
};

/** Thrown when a port `nudge start` needs is taken: one line naming the option to change. */
export class PortInUseError extends Error {
  constructor(port: number, option: string) {
    super(`port ${port} is in use: choose another with ${option}`);
    this.name = 'PortInUseError';
  }
}

/** Fails with `PortInUseError` when something already listens on `port` (0 = any: fine). */
export const assertPortFree = async ({
  port,
  host,
  option,
}: {
  port: number;
  host: string;
  option: string;
}): Promise<void> => {
  if (port === 0) {
    return;
  }
  const server = createServer();
  try {
    server.listen(port, host);
    await once(server, 'listening');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
      throw new PortInUseError(port, option);
    }
    throw err;
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
};
