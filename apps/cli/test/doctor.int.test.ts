import { runDoctor } from '@nudge/cli';
import { findFreePort, type RedisServer, startRedisServer } from '@nudge/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type CliFixture, collect, PUBLIC_URL, setUpFixture, startCliFixture } from './helpers.js';

let redisServer: RedisServer;
let fixture: CliFixture;
let botId: string;

beforeAll(async () => {
  // Its own Redis: some checks change its configuration.
  redisServer = await startRedisServer();
});
afterAll(async () => {
  await redisServer.stop();
});

beforeEach(async () => {
  fixture = await startCliFixture({ redisUrl: redisServer.url });
  botId = await setUpFixture(fixture);
});
afterEach(async () => {
  await fixture.close();
});

const doctor = async (env: Record<string, string> = {}, url: string | undefined = PUBLIC_URL) => {
  const output = collect();
  const failed = await runDoctor({ env: { ...fixture.env, ...env }, url, out: output.out });
  return {
    failed,
    lines: output.lines,
    failures: output.lines.filter((line) => line.startsWith('✗')),
  };
};

/** Doctor's report while the test's Redis runs with `name` set to `value`. */
const doctorWithRedisConfig = async (name: string, value: string) => {
  const redis = new Redis(redisServer.url);
  const [, before = ''] = (await redis.config('GET', name)) as string[];
  await redis.config('SET', name, value);
  try {
    return await doctor();
  } finally {
    await redis.config('SET', name, before);
    redis.disconnect();
  }
};

describe('nudge doctor', () => {
  it('passes every check on a healthy set-up, one ✓ line each', async () => {
    const { failed, lines } = await doctor();
    expect(lines.filter((line) => !line.startsWith('✓'))).toEqual(['all checks passed']);
    expect(failed).toBe(0);
    expect(lines.filter((line) => line.startsWith('✓'))).toEqual([
      `✓ Redis reachable at ${redisServer.url}`,
      '✓ Redis maxmemory-policy noeviction',
      '✓ Redis persistence on (AOF)',
      `✓ rules file ${fixture.rulesPath}: 1 organization(s)`,
      expect.stringContaining('personal access token accepted'),
      expect.stringContaining(`bot ${botId}: bot token issued`),
      expect.stringContaining(`bot ${botId} is in the served group(s) 0`),
      expect.stringContaining(`bot ${botId} is accepting chats`),
      expect.stringContaining(`8 webhooks registered → ${PUBLIC_URL}`),
    ]);
    expect(lines.at(-1)).toBe('all checks passed');
  });

  // Each breaks one thing and expects exactly that check to fail, with its fix.
  const cases: [string, () => Promise<Awaited<ReturnType<typeof doctor>>>, RegExp][] = [
    [
      'Redis unreachable',
      async () => doctor({ REDIS_URL: `redis://127.0.0.1:${await findFreePort()}` }),
      /^✗ Redis unreachable at .*ECONNREFUSED.* — start Redis/,
    ],
    [
      'an evicting Redis',
      () => doctorWithRedisConfig('maxmemory-policy', 'allkeys-lru'),
      /^✗ Redis maxmemory-policy is allkeys-lru — set maxmemory-policy noeviction/,
    ],
    [
      'Redis without persistence',
      () => doctorWithRedisConfig('appendonly', 'no'),
      /^✗ Redis persistence is off \(appendonly no\) — set appendonly yes/,
    ],
    [
      'a refused PAT',
      () => doctor({ TEST_PAT: 'dal:not-the-pat' }),
      /personal access token refused \(authentication: .*\) — create a PAT/,
    ],
    [
      'a wrong bot secret',
      () => doctor({ BOT_SECRET: 'not-the-secret' }),
      /bot [0-9a-f]+: no bot token \(authentication: .*\) — check the bot id, its secret/,
    ],
    [
      'a missing webhook',
      async () => {
        const { clientId } = fixture.sandbox.credentials;
        const [tagged] = (await fixture.admin.listWebhooks({ owner_client_id: clientId })).filter(
          (webhook) => webhook.action === 'thread_tagged',
        );
        await fixture.admin.unregisterWebhook({ id: tagged?.id ?? '', owner_client_id: clientId });
        return doctor();
      },
      /webhooks missing: thread_tagged — run `nudge setup --url/,
    ],
    [
      'webhooks pointing elsewhere',
      () => doctor({}, 'https://moved.example.com/livechat/webhooks'),
      /webhooks point at https:\/\/nudge\.example\.com\/livechat\/webhooks, not https:\/\/moved/,
    ],
    [
      'a secret ingest does not have',
      () => doctor({ LIVECHAT_WEBHOOK_SECRETS: 'rotated-away-secret-1234' }),
      /webhooks carry a secret that is not in LIVECHAT_WEBHOOK_SECRETS/,
    ],
    [
      'a bot not accepting chats',
      async () => {
        fixture.sandbox.scenario.setBotStatus({ botId, status: 'not_accepting_chats' });
        return doctor();
      },
      /bot [0-9a-f]+ is not_accepting_chats: it acts only while accepting chats — run `nudge setup`/,
    ],
    [
      'served groups the bot is not in',
      async () => {
        await fixture.writeRules({ bot: { id: botId, secret: 'env:BOT_SECRET' }, groups: [0, 3] });
        return doctor();
      },
      /bot [0-9a-f]+ is not in group\(s\) 3: its token can't reach those chats/,
    ],
    [
      'a bot LiveChat would route chats to',
      async () => {
        await fixture.admin.updateBot({ id: botId, groups: [{ id: 0, priority: 'normal' }] });
        return doctor();
      },
      /bot [0-9a-f]+ would be assigned customer chats in group\(s\) 0 .* — run `nudge setup`, or set botPriority/,
    ],
  ];

  it.each(cases)('fails on %s, with the fix', async (_name, breakIt, expected) => {
    const { failed, failures, lines } = await breakIt();
    expect(failures).toEqual([expect.stringMatching(expected)]);
    expect(failed).toBe(1);
    expect(lines.at(-1)).toBe('1 check(s) failed');
  });

  it('reports every problem of an invalid rules file under its key, once', async () => {
    await fixture.writeRules({
      bot: { id: botId, secret: 'env:UNSET_SECRET' },
      idleReply: { afterSeconds: 1 },
    });
    const { failed, lines } = await doctor();
    expect(failed).toBe(1);
    const organization = `organizations.${fixture.sandbox.credentials.organizationId}`;
    expect(lines.filter((line) => line.startsWith('    '))).toEqual([
      expect.stringContaining(
        `${organization}.bot.secret: environment variable UNSET_SECRET is not set`,
      ),
      expect.stringContaining(`${organization}.idleReply.afterSeconds: must be at least 5 seconds`),
    ]);
  });
});
