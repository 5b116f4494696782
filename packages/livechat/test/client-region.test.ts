import { createDefaultSeed, type Sandbox } from '@nudge/livechat-sandbox';
import { describe, expect, it } from 'vitest';
import { createRegionStore, LivechatRetryableError } from '../src/index.js';
import {
  BOT,
  callsOf,
  clientFor,
  createLogCollector,
  rejectionOf,
  startTestSandbox,
} from './client-helpers.js';

// misdirected_request carries error.data.region: the client retries once there and the
// organization's clients remember it.

/** The client helpers' sandbox (with its bot), its organization served from `fra`. */
const setup = () => {
  const seed = createDefaultSeed();
  return startTestSandbox({
    seed: { ...seed, organizations: seed.organizations.map((o) => ({ ...o, region: 'fra' })) },
  });
};

/**
 * [action, X-Region, status] of each call. fetch itself repeats a 421 once on a new connection
 * (Fetch standard), so consecutive duplicates are folded.
 */
const regionsOf = (sandbox: Sandbox) =>
  sandbox.journal
    .calls()
    .map((call) => [call.action, call.region ?? '-', call.status])
    .filter((entry, i, all) => JSON.stringify(entry) !== JSON.stringify(all[i - 1]));

describe('misdirected_request', () => {
  it('retries once in the region LiveChat names and stays there', async () => {
    const { sandbox, scope } = await setup();
    const { log, lines } = createLogCollector();
    const client = clientFor(sandbox, scope, { mode: 'pat', version: '3.6', log });
    await client.listChats();
    await client.listBots();
    expect(regionsOf(sandbox)).toEqual([
      ['list_chats', '-', 421],
      ['list_chats', 'fra', 200],
      ['list_bots', 'fra', 200],
    ]);
    expect(lines).toEqual([
      {
        obj: { action: 'list_chats', version: '3.6', from: 'dal', region: 'fra' },
        msg: 'LiveChat misdirected the request; retrying in its region and staying there',
      },
    ]);
  });

  it('the clients of one organization share the region (bot tokens included)', async () => {
    const { sandbox, scope } = await setup();
    const regionStore = createRegionStore();
    const account = clientFor(sandbox, scope, { mode: 'pat', version: '3.6', regionStore });
    await account.listRoutingStatuses();
    const { chatId } = sandbox.scenario.openChat({ agentIds: [BOT.id], message: 'Hi' });
    const bot = clientFor(sandbox, scope, { mode: 'bot', version: '3.6', regionStore });
    expect((await bot.getChat({ chat_id: chatId })).id).toBe(chatId);
    expect(regionStore.get()).toBe('fra');
    // Only the very first call was misdirected.
    expect(regionsOf(sandbox).filter(([, , status]) => status === 421)).toEqual([
      ['list_routing_statuses', '-', 421],
    ]);
    expect(callsOf(sandbox, 'issue_bot_token').map((call) => call.region)).toEqual(['fra']);
  });

  it('a bot client learns the region at issue_bot_token', async () => {
    const { sandbox, scope } = await setup();
    const { chatId } = sandbox.scenario.openChat({ agentIds: [BOT.id], message: 'Hi' });
    const bot = clientFor(sandbox, scope, { mode: 'bot', version: '3.6' });
    expect((await bot.getChat({ chat_id: chatId })).id).toBe(chatId);
    expect(regionsOf(sandbox)).toEqual([
      ['issue_bot_token', '-', 421],
      ['issue_bot_token', 'fra', 200],
      ['get_chat', 'fra', 200],
    ]);
  });

  it('without a region to go to it is a retryable error, not a permanent one', async () => {
    const { sandbox, scope } = await setup();
    sandbox.faults.add({ action: 'list_chats', mode: 'error', errorType: 'misdirected_request' });
    const client = clientFor(sandbox, scope, { mode: 'pat', version: '3.6', region: 'fra' });
    const err = await rejectionOf(client.listChats());
    expect(err).toBeInstanceOf(LivechatRetryableError);
    expect(err).toMatchObject({ type: 'misdirected_request', action: 'list_chats' });
    // One call from the client (fetch may repeat the 421 itself): no retry of our own.
    expect(regionsOf(sandbox)).toEqual([['list_chats', 'fra', 421]]);
  });
});
