import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from './load-config.js';
import { loadRulesFile, resolveRules, rulesFileJsonSchema } from './rules-file.js';

const PACKAGE = new URL('../', import.meta.url);
const EXAMPLE = new URL('nudge.rules.example.yaml', PACKAGE).pathname;
const ORG = '390e44e6-f1e6-0368-c6dd-74f14508c2e0';

const issuesOf = (fn: () => unknown): string[] => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) {
      return [...err.issues];
    }
    throw err;
  }
  throw new Error('expected a ConfigError');
};

describe('the example rules file', () => {
  it('loads, resolving env: references and merging defaults into the organization', async () => {
    const rules = await loadRulesFile(EXAMPLE, {
      LIVECHAT_CLIENT_ID: 'client-1',
      BOT_SECRET: 'bot-secret',
      LIVECHAT_PAT: 'pat-value',
    });
    const organization = rules.organizations.get(ORG);
    expect(organization).toMatchObject({
      apiVersion: '3.6',
      clientId: 'client-1',
      bots: [{ id: '5c9871d5372c824cbf22d860a707a578', secret: 'bot-secret' }],
      pat: { token: 'pat-value' },
    });
    expect(organization?.rules.idleReply.afterSeconds).toBe(120);
    expect(rules.defaults.idleReply.afterSeconds).toBe(180);
    expect(organization?.rules.cannedResponses.byTag.refund).toHaveLength(2);
  });

  it('names every missing environment variable at once', async () => {
    const failure = loadRulesFile(EXAMPLE, {});
    await expect(failure).rejects.toBeInstanceOf(ConfigError);
    await expect(failure).rejects.toThrow(/LIVECHAT_CLIENT_ID[\s\S]*BOT_SECRET[\s\S]*LIVECHAT_PAT/);
  });

  it('matches the committed JSON Schema (run `npm run schema` after changing the schema)', async () => {
    const committed = JSON.parse(
      await readFile(new URL('nudge.rules.schema.json', PACKAGE), 'utf8'),
    );
    expect(committed).toEqual(rulesFileJsonSchema());
  });
});

describe('resolveRules', () => {
  const base = { livechat: { clientId: 'c' } };

  it('reports typos, bad values and missing credentials with their paths', () => {
    const issues = issuesOf(() =>
      resolveRules(
        {
          ...base,
          defaults: { idleReply: { afterSecond: 10 } },
          organizations: {
            a: { bot: { id: 'b1' } },
            b: { bot: { id: 'b2', secret: 's' }, bots: [{ id: 'b3', secret: 's' }] },
            c: { bot: { id: 'b4', secret: 's' }, idleReply: { maxPerThread: 0 } },
          },
        },
        {},
      ),
    );
    expect(issues.join('\n')).toMatch(/defaults\.idleReply: .*afterSecond/);
    expect(issues.join('\n')).toMatch(/organizations\.a: bot b1 needs a secret/);
    expect(issues.join('\n')).toMatch(/organizations\.b: give exactly one of `bot` or `bots`/);
    expect(issues.join('\n')).toMatch(/organizations\.c\.idleReply\.maxPerThread/);
  });

  it("asks for the organization's credentials when a bot gets its token from issue_bot_token", () => {
    const issues = issuesOf(() =>
      resolveRules(
        {
          ...base,
          organizations: {
            'org-36': { bot: { id: 'b1', secret: 's' } },
            'org-35': { apiVersion: '3.5', bots: [{ id: 'b2', secret: 's' }] },
          },
        },
        {},
      ),
    );
    expect(issues).toEqual([
      "rules file: organizations.org-36: bot b1 gets its token from issue_bot_token, which needs the organization's credentials: add pat: { accountId, token } (or accessToken)",
      "rules file: organizations.org-35: bot b2 gets its token from issue_bot_token, which needs the organization's credentials: add pat: { accountId, token } (or accessToken)",
    ]);
    const rules = resolveRules(
      {
        ...base,
        organizations: {
          'with-pat': { bot: { id: 'b1', secret: 's' }, pat: { accountId: 'acc', token: 't' } },
          'with-token': { bot: { id: 'b2', secret: 's' }, accessToken: 'env:ACCESS_TOKEN' },
        },
      },
      { ACCESS_TOKEN: 'dal:access-token' },
    );
    expect(rules.organizations.get('with-pat')).toMatchObject({
      pat: { accountId: 'acc', token: 't' },
      accessToken: undefined,
    });
    expect(rules.organizations.get('with-token')).toMatchObject({
      pat: undefined,
      accessToken: 'dal:access-token',
    });
  });

  it('accepts legacy 3.5 organizations acting through a PAT', () => {
    const rules = resolveRules(
      {
        livechat: { apiVersion: '3.5' },
        organizations: {
          o: { bots: [{ id: 'b1' }, { id: 'b2' }], pat: { accountId: 'acc', token: 'env:PAT' } },
        },
      },
      { PAT: 'pat-value' },
    );
    expect(rules.organizations.get('o')).toMatchObject({
      apiVersion: '3.5',
      bots: [{ id: 'b1' }, { id: 'b2' }],
      pat: { accountId: 'acc', token: 'pat-value' },
    });
  });

  it('reads JSON files too and reports YAML syntax errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nudge-rules-'));
    const json = join(dir, 'rules.json');
    await writeFile(
      json,
      JSON.stringify({
        ...base,
        organizations: {
          o: { bot: { id: 'b', secret: 's' }, pat: { accountId: 'a', token: 't' } },
        },
      }),
    );
    expect((await loadRulesFile(json, {})).organizations.has('o')).toBe(true);
    const broken = join(dir, 'rules.yaml');
    await writeFile(broken, 'organizations:\n  o: [unclosed\n');
    await expect(loadRulesFile(broken, {})).rejects.toThrow(/not valid YAML/);
    await expect(loadRulesFile(join(dir, 'missing.yaml'), {})).rejects.toThrow(/not found/);
  });
});

describe('resolveRules reports each problem once, under its key path in the file', () => {
  const base = { livechat: { clientId: 'c' } };

  it('finds unset env: references in the same pass as schema errors', () => {
    const issues = issuesOf(() =>
      resolveRules(
        {
          livechat: { clientId: 'env:UNSET_CLIENT' },
          defaults: { idleReply: { afterSeconds: 2 } },
          organizations: {
            o: {
              bot: { id: 'b', secret: 'env:UNSET_SECRET' },
              pat: { accountId: 'a', token: 't' },
              idleReply: { maxPerThread: 0 },
            },
          },
        },
        {},
      ),
    );
    expect(issues).toEqual([
      'rules file: livechat.clientId: environment variable UNSET_CLIENT is not set',
      'rules file: organizations.o.bot.secret: environment variable UNSET_SECRET is not set',
      'rules file: defaults.idleReply.afterSeconds: must be at least 5 seconds',
      'rules file: organizations.o.idleReply.maxPerThread: must be at least 1',
    ]);
  });

  it('names the key of a problem only the merged settings show', () => {
    const issues = issuesOf(() =>
      resolveRules(
        {
          ...base,
          organizations: {
            o: {
              bot: { id: 'b', secret: 's' },
              pat: { accountId: 'a', token: 't' },
              ratingReactions: { good: 'Review us at {reviewUrl}' },
            },
          },
        },
        {},
      ),
    );
    expect(issues).toEqual([
      'rules file: organizations.o.ratingReactions.reviewUrl: good uses {reviewUrl} but reviewUrl is not set',
    ]);
  });

  it('asks for `nudge setup` when the worker needs a bot the file does not name yet', () => {
    const raw = { ...base, organizations: { o: { bot: { name: 'Helper' } }, p: {} } };
    expect(issuesOf(() => resolveRules(raw, {}))).toEqual([
      'rules file: organizations.o.bot.id: missing: run `nudge setup` to create the bot, then add the id and secret it prints',
      'rules file: organizations.p.bot: missing: run `nudge setup` to create the bot, then add the id and secret it prints',
    ]);
    const forSetup = resolveRules(raw, {}, { requireBotIds: false });
    expect(forSetup.organizations.get('o')).toMatchObject({
      bots: [],
      botName: 'Helper',
      groups: [0],
      botPriority: 'supervisor',
    });
    expect(forSetup.organizations.get('p')?.botName).toBe('Nudge');
  });
});
