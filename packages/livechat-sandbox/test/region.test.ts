import { afterEach, describe, expect, it } from 'vitest';
import { createDefaultSeed, type Sandbox } from '../src/index.js';
import { agentCall, at, configCall, setupBot, startSandbox } from './helpers.js';

// Organizations live in one data center; a request sent to another (X-Region, absent = dal)
// answers misdirected_request with the right one in error.data.region.

let sandbox: Sandbox;

afterEach(async () => {
  await sandbox?.close();
});

const inRegion = (region: string) => {
  const seed = createDefaultSeed();
  seed.organizations = seed.organizations.map((organization) => ({ ...organization, region }));
  return startSandbox({ seed });
};

describe('regions', () => {
  it('answers misdirected_request with data.region when X-Region is not the organization’s', async () => {
    sandbox = await inRegion('fra');
    const misdirected = await agentCall(sandbox, 'list_chats', {}, { version: '3.6' });
    expect(misdirected.status).toBe(421);
    expect(misdirected.body).toEqual({
      error: { type: 'misdirected_request', message: 'Wrong region', data: { region: 'fra' } },
    });
    const right = await agentCall(
      sandbox,
      'list_chats',
      {},
      {
        version: '3.6',
        headers: { 'X-Region': 'fra' },
      },
    );
    expect(right.status).toBe(200);
    // fetch itself retries a 421 once on a new connection (Fetch standard), so the misdirected
    // call may show twice.
    expect(
      new Set(sandbox.journal.calls().map((call) => `${call.region ?? '-'} ${call.status}`)),
    ).toEqual(new Set(['- 421', 'fra 200']));
    // Every authenticated call, Configuration API and issue_bot_token included.
    const config = await configCall(sandbox, 'list_bots', {}, { version: '3.6' });
    expect(at(config.body, 'error', 'data')).toEqual({ region: 'fra' });
    // list_webhook_names needs no credentials, so no organization to be misdirected from.
    const names = await configCall(sandbox, 'list_webhook_names', {}, { auth: '' });
    expect(names.status).toBe(200);
  });

  it('organizations are in dal by default; a bot token follows its organization', async () => {
    sandbox = await startSandbox();
    const bot = await setupBot(sandbox);
    const wrong = await agentCall(
      sandbox,
      'list_chats',
      {},
      {
        auth: bot.authorization,
        headers: { 'X-Region': 'fra' },
      },
    );
    expect(at(wrong.body, 'error')).toMatchObject({
      type: 'misdirected_request',
      data: { region: 'dal' },
    });
    const explicit = await agentCall(
      sandbox,
      'list_chats',
      {},
      {
        auth: bot.authorization,
        headers: { 'X-Region': 'dal' },
      },
    );
    expect(explicit.status).toBe(200);
  });
});
