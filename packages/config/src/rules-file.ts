import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { mergeRuleSettings, PartialRuleSettings, RuleSettings } from '@nudge/rules';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ConfigError, formatIssues } from './load-config.js';

// The rules file: which bot acts in which LiveChat organization, with which credentials, and
// each rule's settings (defaults, overridden per organization). JSON or YAML. Secrets may be
// written as `env:NAME` to be read from the environment at load time.

const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;
const Secret = z.string().min(1).describe('A value, or env:NAME to read it from the environment');
const ApiVersion = z
  .enum(['3.5', '3.6'])
  .describe('3.6: bot tokens; 3.5 (legacy): also PAT + X-Author-Id');

const Bot = z.strictObject({
  // The bot's agent id (32 hex characters), from create_bot.
  id: z.string().min(1),
  // Its secret (create_bot), exchanged for a bot token with issue_bot_token. Required on 3.6.
  secret: Secret.optional(),
});

const Pat = z.strictObject({
  // The account id the personal access token belongs to.
  accountId: z.string().min(1),
  token: Secret,
});

const Organization = PartialRuleSettings.extend({
  // The bot that acts here; `bots` when the application owns several (the one present in
  // the chat acts, else the first).
  bot: Bot.optional(),
  bots: z.array(Bot).min(1).optional(),
  // A personal access token of an agent here: the credentials issue_bot_token is called with
  // (it needs an Authorization header even though it needs no scope), legacy v3.5
  // impersonation, and reading bot routing statuses.
  pat: Pat.optional(),
  // Instead of a PAT: an agent's OAuth access token (sent as Bearer). It expires, so a PAT is
  // the better choice for a long-running worker.
  accessToken: Secret.optional(),
  apiVersion: ApiVersion.optional(),
  // X-Region for organizations outside the default data center (e.g. fra).
  region: z.string().min(1).optional(),
});

export const RulesFile = z
  .strictObject({
    $schema: z.string().optional(),
    livechat: z
      .strictObject({
        apiVersion: ApiVersion.default('3.6'),
        // The application's Client ID (Developer Console); issue_bot_token needs it.
        clientId: Secret.optional(),
        region: z.string().min(1).optional(),
      })
      .prefault({}),
    // Settings for every organization, unless overridden below.
    defaults: RuleSettings.prefault({}),
    // Keyed by LiveChat organization id.
    organizations: z.record(z.string().min(1), Organization).default({}),
  })
  .superRefine((file, ctx) => {
    for (const [organizationId, organization] of Object.entries(file.organizations)) {
      const path = ['organizations', organizationId];
      if ((organization.bot === undefined) === (organization.bots === undefined)) {
        ctx.addIssue({ code: 'custom', path, message: 'give exactly one of `bot` or `bots`' });
        continue;
      }
      const version = organization.apiVersion ?? file.livechat.apiVersion;
      const bots = organization.bots ?? (organization.bot ? [organization.bot] : []);
      const hasCredentials =
        organization.pat !== undefined || organization.accessToken !== undefined;
      for (const bot of bots) {
        const canIssueToken = bot.secret !== undefined && file.livechat.clientId !== undefined;
        const canImpersonate = version === '3.5' && organization.pat !== undefined;
        if (!canIssueToken && !canImpersonate) {
          ctx.addIssue({
            code: 'custom',
            path,
            message:
              version === '3.6'
                ? `bot ${bot.id} needs a secret (and livechat.clientId) to get a bot token on v3.6`
                : `bot ${bot.id} needs a secret (and livechat.clientId) or the organization's pat`,
          });
        } else if (canIssueToken && !hasCredentials) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `bot ${bot.id} gets its token from issue_bot_token, which needs the organization's credentials: add pat: { accountId, token } (or accessToken)`,
          });
        }
      }
    }
  });
export type RulesFile = z.input<typeof RulesFile>;

export type OrganizationRules = {
  organizationId: string;
  apiVersion: '3.5' | '3.6';
  region: string | undefined;
  clientId: string | undefined;
  /** At least one; the first is the default. */
  bots: { id: string; secret: string | undefined }[];
  pat: { accountId: string; token: string } | undefined;
  /** An agent's OAuth access token (Bearer), when given instead of (or with) a PAT. */
  accessToken: string | undefined;
  rules: RuleSettings;
};

/** The rules file, validated, secrets resolved, defaults merged into each organization. */
export type NudgeRules = {
  defaults: RuleSettings;
  organizations: ReadonlyMap<string, OrganizationRules>;
};

/** Validates and resolves an already-parsed rules file; throws `ConfigError` listing every problem. */
export const resolveRules = (
  raw: unknown,
  env: Record<string, string | undefined>,
  source = 'rules file',
): NudgeRules => {
  const parsed = RulesFile.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(formatIssues(parsed.error.issues).map((issue) => `${source}: ${issue}`));
  }
  const file = parsed.data;
  const problems: string[] = [];
  const secret = <T extends string | undefined>(value: T, where: string): T => {
    const match = value === undefined ? null : ENV_REF.exec(value);
    if (!match?.[1]) {
      return value;
    }
    const resolved = env[match[1]];
    if (!resolved) {
      problems.push(`${source}: ${where}: environment variable ${match[1]} is not set`);
    }
    return (resolved ?? '') as T;
  };

  const clientId = secret(file.livechat.clientId, 'livechat.clientId');
  const organizations = new Map<string, OrganizationRules>();
  for (const [organizationId, organization] of Object.entries(file.organizations)) {
    const where = `organizations.${organizationId}`;
    const {
      bot,
      bots,
      pat,
      accessToken,
      apiVersion,
      region,
      idleReply,
      cannedResponses,
      ratingReactions,
    } = organization;
    let rules: RuleSettings;
    try {
      rules = mergeRuleSettings(file.defaults, { idleReply, cannedResponses, ratingReactions });
    } catch (err) {
      const issues = err instanceof z.ZodError ? formatIssues(err.issues) : [String(err)];
      problems.push(...issues.map((issue) => `${source}: ${where}: ${issue}`));
      continue;
    }
    organizations.set(organizationId, {
      organizationId,
      apiVersion: apiVersion ?? file.livechat.apiVersion,
      region: region ?? file.livechat.region,
      clientId,
      bots: (bots ?? (bot ? [bot] : [])).map((entry, i) => ({
        id: entry.id,
        secret: secret(entry.secret, `${where}.bots[${i}].secret`),
      })),
      pat: pat
        ? { accountId: pat.accountId, token: secret(pat.token, `${where}.pat.token`) }
        : undefined,
      accessToken: secret(accessToken, `${where}.accessToken`),
      rules,
    });
  }
  if (problems.length > 0) {
    throw new ConfigError(problems);
  }
  return { defaults: file.defaults, organizations };
};

/** Reads a rules file (`.json`, else YAML) and resolves it (see `resolveRules`). */
export const loadRulesFile = async (
  path: string,
  env: Record<string, string | undefined>,
): Promise<NudgeRules> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason =
      err instanceof Error && 'code' in err && err.code === 'ENOENT' ? 'not found' : String(err);
    throw new ConfigError([`rules file ${path}: ${reason} (start from nudge.rules.example.yaml)`]);
  }
  let raw: unknown;
  try {
    raw = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError([
      `rules file ${path}: not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${err instanceof Error ? err.message : String(err)}`,
    ]);
  }
  return resolveRules(raw ?? {}, env, `rules file ${path}`);
};

/** JSON Schema of the rules file, for editor completion (`$schema` / yaml-language-server). */
export const rulesFileJsonSchema = (): Record<string, unknown> =>
  z.toJSONSchema(RulesFile, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
