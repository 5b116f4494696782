import { once } from 'node:events';
import { connect, createServer, type Server } from 'node:net';

/** What went through a proxy: client commands, round trips and bytes, all connections summed. */
export type Traffic = { commands: number; roundTrips: number; bytesOut: number; bytesIn: number };

const CRLF = 0x0d;

/**
 * Counts the commands in a client's RESP stream (arrays of bulk strings, or inline commands)
 * across chunk boundaries.
 */
const createCommandCounter = () => {
  let buffer: Buffer = Buffer.alloc(0);
  /** Where the line starting at `from` ends (the \r of \r\n), or -1 if not all there yet. */
  const lineEnd = (from: number) => {
    const at = buffer.indexOf(CRLF, from);
    return at === -1 || at + 1 >= buffer.length ? -1 : at;
  };
  /** The length of the complete command at the start of the buffer, or 0 if incomplete. */
  const completeCommand = (): number => {
    if (buffer.length === 0) {
      return 0;
    }
    const first = lineEnd(0);
    if (first === -1) {
      return 0;
    }
    if (buffer[0] !== 0x2a /* '*' */) {
      return first + 2; // an inline command
    }
    const count = Number(buffer.subarray(1, first).toString('latin1'));
    let at = first + 2;
    for (let i = 0; i < count; i += 1) {
      const end = lineEnd(at);
      if (end === -1) {
        return 0;
      }
      const length = Number(buffer.subarray(at + 1, end).toString('latin1'));
      at = end + 2 + length + 2;
      if (at > buffer.length) {
        return 0;
      }
    }
    return at;
  };
  return (chunk: Buffer): number => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    let commands = 0;
    for (;;) {
      const length = completeCommand();
      if (length === 0) {
        return commands;
      }
      commands += 1;
      buffer = buffer.subarray(length);
    }
  };
};

export type RedisProxy = { url: string; traffic: () => Traffic; close: () => Promise<void> };

/**
 * A TCP proxy in front of Redis that counts, for the processes pointed at it, the commands they
 * send and their round trips: a round trip is a burst of bytes from the client after Redis last
 * answered on that connection (a pipeline, or commands written together, count once; a blocking
 * command counts once however long it blocks).
 */
export const startRedisProxy = async (redisPort: number): Promise<RedisProxy> => {
  const total: Traffic = { commands: 0, roundTrips: 0, bytesOut: 0, bytesIn: 0 };
  const sockets = new Set<import('node:net').Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(redisPort, '127.0.0.1');
    sockets.add(client);
    sockets.add(upstream);
    const count = createCommandCounter();
    let clientSpokeLast = false;
    client.on('data', (chunk: Buffer) => {
      if (!clientSpokeLast) {
        total.roundTrips += 1;
        clientSpokeLast = true;
      }
      total.commands += count(chunk);
      total.bytesOut += chunk.length;
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      clientSpokeLast = false;
      total.bytesIn += chunk.length;
      client.write(chunk);
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('close', close);
    upstream.on('close', close);
    client.on('error', close);
    upstream.on('error', close);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `redis://127.0.0.1:${port}`,
    traffic: () => ({ ...total }),
    close: async () => {
      for (const socket of sockets) {
        socket.destroy();
      }
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};
