import { once } from 'node:events';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { waitFor } from '@nudge/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type FaultProxy, startFaultProxy } from './fault-proxy.js';

// An echo server stands in for Redis: what the client writes comes back through the proxy.
const echo = createServer((socket) => {
  socket.on('error', () => undefined);
  socket.pipe(socket);
});
let proxy: FaultProxy;
const clients: Socket[] = [];

beforeAll(async () => {
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  proxy = await startFaultProxy({ host: '127.0.0.1', port: (echo.address() as AddressInfo).port });
});
afterEach(() => {
  proxy.set({ kind: 'pass' });
  for (const client of clients.splice(0)) {
    client.destroy();
  }
});
afterAll(async () => {
  await proxy.close();
  echo.close();
});

/** A client of the proxy that records what comes back and how it ended. */
const open = async () => {
  const { port } = new URL(proxy.url);
  const socket = connect(Number(port), '127.0.0.1');
  clients.push(socket);
  const received: { text: string; at: number }[] = [];
  let ended: string | undefined;
  socket.on('data', (chunk: Buffer) => received.push({ text: chunk.toString(), at: Date.now() }));
  socket.on('error', (err: NodeJS.ErrnoException) => {
    ended = err.code ?? err.message;
  });
  socket.on('close', () => {
    ended ??= 'closed';
  });
  await once(socket, 'connect');
  return {
    socket,
    text: () => received.map((chunk) => chunk.text).join(''),
    received,
    ended: () => ended,
  };
};

describe('fault proxy', () => {
  it('pass: forwards both ways', async () => {
    const client = await open();
    client.socket.write('PING');
    await waitFor(() => client.text() === 'PING', { what: 'the echo' });
  });

  it('delay: holds each chunk for the delay, in order', async () => {
    const client = await open();
    proxy.set({ kind: 'delay', ms: 150 });
    const sent = Date.now();
    client.socket.write('a');
    client.socket.write('b');
    await waitFor(() => client.text() === 'ab', { what: 'the delayed echo' });
    // Held on the way there and on the way back.
    expect((client.received[0]?.at ?? 0) - sent).toBeGreaterThanOrEqual(290);
  });

  it('blackhole: keeps the socket open and forwards nothing, then everything once healed', async () => {
    const client = await open();
    proxy.set({ kind: 'blackhole' });
    client.socket.write('one');
    client.socket.write('two');
    // The fault lasts 300 ms: the echo, answering within milliseconds otherwise, stays silent.
    await delay(300);
    expect(client.text()).toBe('');
    expect(client.ended()).toBeUndefined();
    proxy.set({ kind: 'pass' });
    await waitFor(() => client.text() === 'onetwo', { what: 'the held bytes' });
  });

  it('reset: drops open connections and held bytes, refuses new ones until another mode', async () => {
    const client = await open();
    await waitFor(() => proxy.connections() === 1, { what: 'the proxy to pair the connection' });
    proxy.set({ kind: 'blackhole' });
    client.socket.write('lost');
    proxy.set({ kind: 'reset' });
    await waitFor(() => client.ended(), { what: 'the reset' });
    expect(client.text()).toBe('');
    // A new connection is reset, before or just after the client saw it connect.
    const refused = connect(Number(new URL(proxy.url).port), '127.0.0.1');
    refused.on('error', () => undefined);
    await new Promise((resolve) => refused.on('close', resolve));
    expect(refused.bytesRead).toBe(0);
    proxy.set({ kind: 'pass' });
    const again = await open();
    again.socket.write('back');
    await waitFor(() => again.text() === 'back', { what: 'the echo after the reset' });
  });
});
