import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';

/**
 * - `pass`: bytes flow as they come;
 * - `delay`: each chunk is held `ms` before it is forwarded (both ways, order kept);
 * - `blackhole`: sockets stay open, nothing is forwarded (held until another mode, as TCP
 *   would retransmit after a partition heals);
 * - `reset`: every connection is reset, held bytes dropped, new ones reset at once.
 */
export type ProxyMode =
  | { kind: 'pass' }
  | { kind: 'delay'; ms: number }
  | { kind: 'blackhole' }
  | { kind: 'reset' };

export type FaultProxy = {
  /** `redis://127.0.0.1:<port>`: give it to one client process instead of Redis's own. */
  readonly url: string;
  set: (mode: ProxyMode) => void;
  /** Connections open through the proxy now. */
  connections: () => number;
  close: () => Promise<void>;
};

type Lane = { to: Socket; queue: { chunk: Buffer; at: number }[]; timer?: NodeJS.Timeout };

/** A TCP proxy to `target` whose mode a test switches at any time (netem and toxiproxy stand-in). */
export const startFaultProxy = async (target: { host: string; port: number }) => {
  let mode: ProxyMode = { kind: 'pass' };
  const pairs = new Set<{ client: Socket; upstream: Socket; lanes: Lane[] }>();

  const pump = (lane: Lane) => {
    clearTimeout(lane.timer);
    while (mode.kind !== 'blackhole' && lane.queue.length > 0) {
      const [head] = lane.queue;
      const wait = (head?.at ?? 0) - Date.now();
      if (wait > 0) {
        lane.timer = setTimeout(() => pump(lane), wait);
        return;
      }
      lane.queue.shift();
      if (head && !lane.to.destroyed) {
        lane.to.write(head.chunk);
      }
    }
  };
  const lane = (from: Socket, to: Socket): Lane => {
    const created: Lane = { to, queue: [] };
    from.on('data', (chunk: Buffer) => {
      created.queue.push({ chunk, at: Date.now() + (mode.kind === 'delay' ? mode.ms : 0) });
      pump(created);
    });
    return created;
  };

  const server = createServer((client) => {
    if (mode.kind === 'reset') {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(target);
    const pair = { client, upstream, lanes: [lane(client, upstream), lane(upstream, client)] };
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      for (const { timer } of pair.lanes) {
        clearTimeout(timer);
      }
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      socket.on('error', drop);
      socket.on('close', drop);
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('fault proxy: no port');
  }

  return {
    url: `redis://127.0.0.1:${address.port}`,
    set: (next: ProxyMode) => {
      mode = next;
      for (const pair of pairs) {
        if (next.kind === 'reset') {
          pair.client.resetAndDestroy();
          pair.upstream.destroy();
        } else {
          pair.lanes.forEach(pump);
        }
      }
    },
    connections: () => pairs.size,
    close: async () => {
      for (const pair of pairs) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      server.close();
      await once(server, 'close');
    },
  } satisfies FaultProxy;
};
