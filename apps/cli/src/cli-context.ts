import {
  CliEnv,
  loadConfig,
  loadRulesFile,
  type NudgeRules,
  type OrganizationRules,
} from '@nudge/config';
import type { LivechatClient } from '@nudge/livechat';
import { createLivechatClients } from '@nudge/worker';

// What the LiveChat commands (setup, status, doctor, teardown) share: the same environment
// and rules file as the worker, and one client per organization acting with its own PAT.

export type CliContext = {
  env: CliEnv;
  rules: NudgeRules;
  /** The organization's PAT (or access token) client: Configuration API, routing statuses. */
  adminClient: (organization: OrganizationRules) => LivechatClient;
};

type LoadCliContextOptions = {
  env: Record<string, string | undefined>;
  /** The worker needs every bot's id; setup creates a bot the file doesn't name yet. */
  requireBotIds?: boolean;
};

/** Reads the environment and the rules file (`NUDGE_CONFIG`); throws `ConfigError`. */
export const loadCliContext = async ({
  env,
  requireBotIds = true,
}: LoadCliContextOptions): Promise<CliContext> => {
  const config = loadConfig(CliEnv, env);
  const rules = await loadRulesFile(config.NUDGE_CONFIG, env, { requireBotIds });
  const clients = createLivechatClients({
    baseUrl: config.LIVECHAT_API_URL,
    timeoutMs: config.LIVECHAT_TIMEOUT_MS,
    // LiveChat's Legacy/Deprecation notices, as the worker logs them.
    log: { warn: (_details, message) => process.stderr.write(`nudge: ${message}\n`) },
  });
  return {
    env: config,
    rules,
    adminClient: (organization) => {
      const client = clients.asAccount(organization);
      if (!client) {
        throw new Error(
          `organizations.${organization.organizationId}.pat is not set: this command acts with the organization's personal access token (or accessToken)`,
        );
      }
      return client;
    },
  };
};

/** The public webhook URL: `--url`, else `NUDGE_PUBLIC_URL`. */
export const publicUrlOf = (env: CliEnv, url: string | undefined): string => {
  const chosen = url ?? env.NUDGE_PUBLIC_URL;
  if (!chosen) {
    throw new Error(
      'no public webhook URL: pass --url https://<your host>/livechat/webhooks or set NUDGE_PUBLIC_URL',
    );
  }
  try {
    const parsed = new URL(chosen);
    if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
      throw new Error('not http(s)');
    }
  } catch {
    throw new Error(`--url / NUDGE_PUBLIC_URL is not an http(s) URL: ${chosen}`);
  }
  return chosen;
};

/** The secret setup registers: the first of LIVECHAT_WEBHOOK_SECRETS (the newest on rotation). */
export const webhookSecretOf = (env: CliEnv): string => {
  const secret = env.LIVECHAT_WEBHOOK_SECRETS?.[0];
  if (!secret) {
    throw new Error(
      'LIVECHAT_WEBHOOK_SECRETS is not set: choose a long random secret (e.g. `openssl rand -hex 24`) and give ingest the same',
    );
  }
  return secret;
};
