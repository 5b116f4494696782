import { once } from 'node:events';
import type { RequestListener } from 'node:http';
import { createServer } from 'node:http';

/** Listens on PORT (0 = any) and prints the line the bench waits for. */
export const listen = async (listener: RequestListener): Promise<void> => {
  const server = createServer({ keepAliveTimeout: 65_000 }, listener);
  server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  console.log(
    JSON.stringify({ msg: 'listening', port: typeof address === 'object' ? address?.port : 0 }),
  );
  process.on('SIGTERM', () => process.exit(0));
};
