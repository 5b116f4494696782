import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliContext, loadCliContext, runSetup } from '@nudge/cli';
import { createLivechatClient, type LivechatClient } from '@nudge/livechat';
import { createSandbox, type Sandbox, type SandboxOptions } from '@nudge/livechat-sandbox';
import { stringify } from 'yaml';

export const SECRET = 'cli-test-webhook-secret-7d41';
export const PUBLIC_URL = 'https://nudge.example.com/livechat/webhooks';

/** Lines a command printed, for assertions. */
export const collect = () => {
  const lines: string[] = [];
  return { lines, out: (line: string) => lines.push(line), text: () => lines.join('\n') };
};

export type CliFixture = {
  sandbox: Sandbox;
  /** The operator's own view of LiveChat (the seeded account's PAT). */
  admin: LivechatClient;
  dir: string;
  rulesPath: string;
  env: Record<string, string>;
  /** Rewrites the rules file (organization fields merged over the PAT-only default). */
  writeRules: (
    organization?: Record<string, unknown>,
    defaults?: Record<string, unknown>,
  ) => Promise<void>;
  context: (requireBotIds?: boolean) => Promise<CliContext>;
  close: () => Promise<void>;
};

/**
 * A LiveChat sandbox and a rules file naming its organization with the seeded PAT, as an
 * operator writes it before the first `nudge setup` (no bot yet).
 */
export const startCliFixture = async ({
  redisUrl,
  sandbox: sandboxOptions,
}: {
  redisUrl: string;
  sandbox?: SandboxOptions;
}): Promise<CliFixture> => {
  const sandbox = await createSandbox(sandboxOptions);
  const { organizationId, clientId, accountId, pat } = sandbox.credentials;
  const admin = createLivechatClient({
    baseUrl: sandbox.url,
    auth: { type: 'pat', accountId, pat },
  });
  const dir = await mkdtemp(join(tmpdir(), 'nudge-cli-'));
  const rulesPath = join(dir, 'rules.yaml');
  const env = {
    NUDGE_CONFIG: rulesPath,
    LIVECHAT_API_URL: sandbox.url,
    LIVECHAT_WEBHOOK_SECRETS: SECRET,
    LIVECHAT_TIMEOUT_MS: '3000',
    NUDGE_PUBLIC_URL: PUBLIC_URL,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: `cli-${Math.random().toString(16).slice(2, 10)}`,
    TEST_PAT: pat,
  };
  const writeRules: CliFixture['writeRules'] = async (organization = {}, defaults = {}) => {
    await writeFile(
      rulesPath,
      stringify({
        livechat: { apiVersion: '3.6', clientId },
        defaults,
        organizations: {
          [organizationId]: { pat: { accountId, token: 'env:TEST_PAT' }, ...organization },
        },
      }),
    );
  };
  await writeRules();
  return {
    sandbox,
    admin,
    dir,
    rulesPath,
    env,
    writeRules,
    context: (requireBotIds = false) => loadCliContext({ env, requireBotIds }),
    close: () => sandbox.close(),
  };
};

/**
 * The fixture as after `nudge setup` and the operator adding the bot it printed to the rules
 * file (its secret in BOT_SECRET). Resolves with the bot's id.
 */
export const setUpFixture = async (fixture: CliFixture): Promise<string> => {
  const context = await fixture.context();
  const { bots } = await runSetup({
    rules: context.rules,
    adminClient: context.adminClient,
    url: PUBLIC_URL,
    secret: SECRET,
    out: () => undefined,
  });
  const [bot] = bots;
  if (!bot?.secret) {
    throw new Error('setup created no bot');
  }
  fixture.env.BOT_SECRET = bot.secret;
  await fixture.writeRules({ bot: { id: bot.id, secret: 'env:BOT_SECRET' } });
  return bot.id;
};

/** A webhook another integration of the same app registered: Nudge must leave it alone. */
export const registerForeignWebhook = async (fixture: CliFixture): Promise<string> =>
  (
    await fixture.admin.registerWebhook({
      action: 'incoming_chat',
      url: 'https://crm.example.com/hook',
      secret_key: 'crm-secret',
      owner_client_id: fixture.sandbox.credentials.clientId,
      type: 'license',
      description: 'CRM sync',
    })
  ).id;
