import { type RedisServer, startOwnRedis } from '@nudge/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RedisProxy, startRedisProxy } from './redis-proxy.js';

// The Redis-cost bench's counts rest on this proxy: check them against known traffic.
describe('the counting Redis proxy', () => {
  let server: RedisServer;
  let proxy: RedisProxy;
  let client: Redis;

  beforeAll(async () => {
    server = await startOwnRedis();
    proxy = await startRedisProxy(server.port);
    client = new Redis(proxy.url, { maxRetriesPerRequest: 1 });
    await client.ping();
  });
  afterAll(async () => {
    client.disconnect();
    await proxy.close();
    await server.stop();
  });

  const during = async (run: () => Promise<unknown>) => {
    const before = proxy.traffic();
    await run();
    const after = proxy.traffic();
    return {
      commands: after.commands - before.commands,
      roundTrips: after.roundTrips - before.roundTrips,
    };
  };

  it('counts each awaited command as a round trip', async () => {
    expect(
      await during(async () => {
        await client.set('k', 'v');
        await client.get('k');
        await client.del('k');
      }),
    ).toEqual({ commands: 3, roundTrips: 3 });
  });

  it('counts a pipeline and a transaction once each, with every command in them', async () => {
    expect(
      await during(() =>
        client.pipeline().set('a', '1').set('b', 'x'.repeat(100_000)).get('a').exec(),
      ),
    ).toEqual({ commands: 3, roundTrips: 1 });
    expect(await during(() => client.multi().incr('n').incr('n').exec())).toEqual({
      commands: 4,
      roundTrips: 1,
    });
  });

  it('counts a script as one command and one round trip', async () => {
    expect(await during(() => client.eval("return redis.call('incr', KEYS[1])", 1, 'n'))).toEqual({
      commands: 1,
      roundTrips: 1,
    });
  });
});
