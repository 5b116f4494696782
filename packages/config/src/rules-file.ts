import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { type AnyRule, RULE_SET, type RuleSet, type RuleSettings } from '@nudge/rules';
import { ConfigError, formatIssue, formatIssues } from '@nudge/runtime';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

// The rules file: which bot acts in which LiveChat organization, with which credentials, and
// each rule's settings (defaults, overridden per organization). JSON or YAML. Secrets may be
// written as `env:NAME` to be read from the environment at load time.

const ENV_REF = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;
const Secret = z.string().min(1).describe('A value, or env:NAME to read it from the environment');
const ApiVersion = z
  .enum(['3.5', '3.6'])
  .describe('3.6: bot tokens; 3.5 (legacy): also PAT + X-Author-Id');

const Bot = z.strictObject({
  // The bot's agent id (32 hex characters), from create_bot. Leave it out and `nudge setup`
  // creates the bot and prints the id and secret to write here.
  id: z.string().min(1).optional(),
  // Its secret (create_bot), exchanged for a bot token with issue_bot_token. Required on 3.6.
  secret: Secret.optional(),
  // The name `nudge setup` gives the bot it creates (customers see it). Default Nudge.
  name: z.string().trim().min(1).optional(),
});

/** Bot routing priority in a group (Configuration API `groups[].priority`). */
export const BOT_PRIORITIES = ['supervisor', 'first', 'normal', 'last'] as const;
export type BotPriority = (typeof BOT_PRIORITIES)[number];
export const DEFAULT_BOT_NAME = 'Nudge';

const Pat = z.strictObject({
  // The account id the personal access token belongs to.
  accountId: z.string().min(1),
  token: Secret,
});

// An organization: its rule settings' overrides, plus these.
const ORGANIZATION_FIELDS = {
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
  // The LiveChat groups whose chats Nudge serves. The bot's groups must cover them: a bot
  // token reaches only chats of the bot's groups. Default [0] (the General group).
  groups: z.array(z.number().int().min(0)).min(1).optional(),
  // The bot's routing priority in those groups. supervisor (default): LiveChat never routes
  // customer chats to the bot, which talks only in Nudge's rules. first, normal or last opt in
  // to LiveChat assigning the bot customer chats like an agent while it accepts chats.
  botPriority: z.enum(BOT_PRIORITIES).optional(),
};

/** The rules file's schema for a set of rules (each rule's settings under its key). */
const rulesFileSchema = (ruleSet: RuleSet<readonly AnyRule[]>) => {
  // Typed as the registry's rules: another set (a test's) only adds settings keys.
  const { settings, overrides } = ruleSet as unknown as typeof RULE_SET;
  return z
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
      defaults: settings.prefault({}),
      // Keyed by LiveChat organization id.
      organizations: z.record(z.string().min(1), overrides.extend(ORGANIZATION_FIELDS)).default({}),
    })
    .superRefine((file, ctx) => {
      for (const [organizationId, organization] of Object.entries(file.organizations)) {
        const path = ['organizations', organizationId];
        if (organization.bot !== undefined && organization.bots !== undefined) {
          ctx.addIssue({ code: 'custom', path, message: 'give exactly one of `bot` or `bots`' });
          continue;
        }
        const version = organization.apiVersion ?? file.livechat.apiVersion;
        const bots = organization.bots ?? (organization.bot ? [organization.bot] : []);
        const hasCredentials =
          organization.pat !== undefined || organization.accessToken !== undefined;
        // A bot without an id is one `nudge setup` is to create; it has no secret yet.
        for (const bot of bots.filter((candidate) => candidate.id !== undefined)) {
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
};

/** The rules file of the registry's rules. */
export const RulesFile = rulesFileSchema(RULE_SET);
export type RulesFile = z.input<typeof RulesFile>;

export type BotRules = { id: string; secret: string | undefined };

export type OrganizationRules = {
  organizationId: string;
  apiVersion: '3.5' | '3.6';
  region: string | undefined;
  clientId: string | undefined;
  /** The configured bots; the first is the default. Empty only when bot ids are not required. */
  bots: BotRules[];
  /** Their ids: events by these are never a customer's or an agent's. */
  botIds: ReadonlySet<string>;
  /** The name `nudge setup` gives the bot it creates. */
  botName: string;
  /** The LiveChat groups whose chats Nudge serves. */
  groups: number[];
  /** The bot's routing priority in those groups. */
  botPriority: BotPriority;
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

export type ResolveRulesOptions = {
  /** Where the rules came from, prefixed to every problem. */
  source?: string;
  /**
   * The worker needs every bot's id; `nudge setup` does not (it creates a bot without one).
   * Default true.
   */
  requireBotIds?: boolean;
  /** The rules whose settings the file holds; default the registry's. */
  ruleSet?: RuleSet<readonly AnyRule[]>;
};

const joinPath = (path: readonly PropertyKey[]): string => path.map(String).join('.');

/**
 * Replaces every `env:NAME` string in the parsed file with the variable's value, recording
 * the unset ones with their key path. An unset reference stays as written, so the schema pass
 * that follows reports only what is really wrong with the value.
 */
const resolveEnvReferences = (
  value: unknown,
  env: Record<string, string | undefined>,
  missing: string[],
  path: PropertyKey[] = [],
): unknown => {
  if (typeof value === 'string') {
    const name = ENV_REF.exec(value)?.[1];
    if (name === undefined) {
      return value;
    }
    const resolved = env[name];
    if (!resolved) {
      missing.push(`${joinPath(path)}: environment variable ${name} is not set`);
      return value;
    }
    return resolved;
  }
  if (Array.isArray(value)) {
    return value.map((item, i) => resolveEnvReferences(item, env, missing, [...path, i]));
  }
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        resolveEnvReferences(item, env, missing, [...path, key]),
      ]),
    );
  }
  return value;
};

/**
 * Validates and resolves an already-parsed rules file; throws `ConfigError` listing every
 * problem once, under its key path in the file: schema errors and unset `env:` references
 * are found in the same pass.
 */
export const resolveRules = (
  raw: unknown,
  env: Record<string, string | undefined>,
  { source = 'rules file', requireBotIds = true, ruleSet = RULE_SET }: ResolveRulesOptions = {},
): NudgeRules => {
  const problems: string[] = [];
  const resolved = resolveEnvReferences(raw, env, problems);
  // Typed as the registry's file: another rule set (a test's) only adds settings keys.
  const parsed = rulesFileSchema(ruleSet).safeParse(resolved);
  if (!parsed.success) {
    problems.push(...formatIssues(parsed.error.issues));
  }
  const file = parsed.data;
  const organizations = new Map<string, OrganizationRules>();
  for (const [organizationId, organization] of Object.entries(file?.organizations ?? {})) {
    if (!file) {
      break;
    }
    const where = `organizations.${organizationId}`;
    const { bot, bots, pat, accessToken, apiVersion, region, groups, botPriority, ...overrides } =
      organization;
    let rules: RuleSettings;
    try {
      // A rule set other than the registry's (a test's) holds more keys than RuleSettings names.
      rules = ruleSet.merge(file.defaults, overrides) as RuleSettings;
    } catch (err) {
      problems.push(
        ...(err instanceof z.ZodError
          ? err.issues.map((issue) => `${where}.${formatIssue(issue)}`)
          : [`${where}: ${String(err)}`]),
      );
      continue;
    }
    const configured = bots ?? (bot ? [bot] : []);
    if (configured.length === 0 && requireBotIds) {
      problems.push(
        `${where}.bot: missing: run \`nudge setup\` to create the bot, then add the id and secret it prints`,
      );
    }
    const withIds: BotRules[] = [];
    configured.forEach((entry, i) => {
      if (entry.id !== undefined) {
        withIds.push({ id: entry.id, secret: entry.secret });
      } else if (requireBotIds) {
        problems.push(
          `${bots ? `${where}.bots.${i}` : `${where}.bot`}.id: missing: run \`nudge setup\` to create the bot, then add the id and secret it prints`,
        );
      }
    });
    organizations.set(organizationId, {
      organizationId,
      apiVersion: apiVersion ?? file.livechat.apiVersion,
      region: region ?? file.livechat.region,
      clientId: file.livechat.clientId,
      bots: withIds,
      botIds: new Set(withIds.map((entry) => entry.id)),
      botName: configured[0]?.name ?? DEFAULT_BOT_NAME,
      groups: groups ?? [0],
      botPriority: botPriority ?? 'supervisor',
      pat,
      accessToken,
      rules,
    });
  }
  if (problems.length > 0 || !file) {
    throw new ConfigError(problems.map((problem) => `${source}: ${problem}`));
  }
  return { defaults: file.defaults, organizations };
};

/** Reads a rules file (`.json`, else YAML) and resolves it (see `resolveRules`). */
export const loadRulesFile = async (
  path: string,
  env: Record<string, string | undefined>,
  options: Omit<ResolveRulesOptions, 'source'> = {},
): Promise<NudgeRules> => {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const reason =
      err instanceof Error && 'code' in err && err.code === 'ENOENT' ? 'not found' : String(err);
    throw new ConfigError([
      `rules file ${path}: ${reason} (start from packages/config/nudge.rules.example.yaml)`,
    ]);
  }
  let raw: unknown;
  try {
    raw = extname(path) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError([
      `rules file ${path}: not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${err instanceof Error ? err.message : String(err)}`,
    ]);
  }
  return resolveRules(raw ?? {}, env, { ...options, source: `rules file ${path}` });
};

/** JSON Schema of the rules file, for editor completion (`$schema` / yaml-language-server). */
export const rulesFileJsonSchema = (): Record<string, unknown> =>
  z.toJSONSchema(RulesFile, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
