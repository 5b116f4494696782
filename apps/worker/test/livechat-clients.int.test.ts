import type { OrganizationRules } from '@nudge/config';
import { CachedBotToken } from '@nudge/livechat';
import { createDefaultSeed, createSandbox, type Sandbox } from '@nudge/livechat-sandbox';
import { RuleSettings } from '@nudge/rules';
import { createRedisTokenCache } from '@nudge/runtime';
import { connectRedis, createTestPrefix, deleteKeysWithPrefix } from '@nudge/testing';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { createLivechatClients } from '../src/livechat-clients.js';

// The worker's LiveChat clients against the sandbox: one per organization and identity, the
// organization's credentials for issue_bot_token, one region shared by an organization's clients.

let sandbox: Sandbox | undefined;
let redis: Redis | undefined;
let prefix = '';

afterEach(async () => {
  await sandbox?.close();
  if (redis) {
    await deleteKeysWithPrefix(redis, prefix);
    redis.disconnect();
  }
  sandbox = undefined;
  redis = undefined;
});

const setup = async (region: string) => {
  const seed = createDefaultSeed();
  seed.organizations = seed.organizations.map((organization) => ({ ...organization, region }));
  sandbox = await createSandbox({ seed });
  redis = connectRedis(inject('redisUrl'));
  prefix = createTestPrefix();
  const { organizationId, clientId, accountId, pat } = sandbox.credentials;
  const bot = sandbox.scenario.createBot({ name: 'Nudge', status: 'accepting_chats' });
  const organization: OrganizationRules = {
    organizationId,
    apiVersion: '3.6',
    // Not configured: the worker learns it from LiveChat.
    region: undefined,
    clientId,
    bots: [{ id: bot.id, secret: bot.secret }],
    botIds: new Set([bot.id]),
    botName: 'Nudge',
    groups: [0],
    botPriority: 'supervisor',
    pat: { accountId, token: pat },
    accessToken: undefined,
    rules: RuleSettings.parse({}),
  };
  const clients = createLivechatClients({
    baseUrl: sandbox.url,
    timeoutMs: 2_000,
    tokenCache: createRedisTokenCache({ redis, prefix, entry: CachedBotToken }),
    log: { warn: () => undefined },
  });
  return { sandbox, organization, clients, botId: bot.id };
};

describe('createLivechatClients', () => {
  it('shares the region LiveChat names between the clients of one organization', async () => {
    const { sandbox, organization, clients, botId } = await setup('fra');
    const { chatId } = sandbox.scenario.openChat({ agentIds: [botId], message: 'Hi' });

    // The account client is misdirected once and learns `fra` ...
    await clients.asAccount(organization)?.listRoutingStatuses();
    // ... and the bot's client (another client of the same organization) goes there at once,
    // issue_bot_token (with the organization's PAT) included.
    const chat = await clients.asBot(organization, botId).getChat({ chat_id: chatId });
    expect(chat.id).toBe(chatId);

    const calls = sandbox.journal.calls();
    expect(new Set(calls.filter((call) => call.status === 421).map((call) => call.action))).toEqual(
      new Set(['list_routing_statuses']),
    );
    expect(
      calls
        .filter((call) => call.status === 200)
        .map((call) => [call.action, call.region, call.identity?.type]),
    ).toEqual([
      ['list_routing_statuses', 'fra', 'agent'],
      ['issue_bot_token', 'fra', 'agent'],
      ['get_chat', 'fra', 'bot'],
    ]);
  });
});
