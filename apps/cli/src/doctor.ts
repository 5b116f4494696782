import { CliEnv, ConfigError, loadConfig, type OrganizationRules } from '@nudge/config';
import { type LivechatClient, LivechatError } from '@nudge/livechat';
import { readRedisPolicy } from '@nudge/queues';
import { loadCliContext } from './cli-context.js';
import {
  desiredWebhooks,
  findBot,
  isNudgeWebhook,
  routedGroups,
  secretFingerprint,
  uncoveredGroups,
} from './livechat-setup.js';
import { connectOnce } from './redis-probe.js';

export type Check = { ok: boolean; label: string; fix?: string };

type DoctorOptions = {
  env: Record<string, string | undefined>;
  /** The public webhook URL to check the webhooks against (`--url` / NUDGE_PUBLIC_URL). */
  url: string | undefined;
  out: (line: string) => void;
};

const reasonOf = (err: unknown): string =>
  err instanceof LivechatError
    ? `${err.type}: ${err.message.replace(/^LiveChat .*? failed: [a-z_]+: /, '')}`
    : err instanceof Error
      ? err.message
      : String(err);

const redisChecks = async (url: string, cluster: boolean): Promise<Check[]> => {
  let redis: Awaited<ReturnType<typeof connectOnce>> | undefined;
  try {
    redis = await connectOnce(url, { cluster });
    const { evictionPolicy, aofEnabled, node, servers, clusterNode } = await readRedisPolicy(redis);
    if (clusterNode === true) {
      return [
        {
          ok: false,
          label: `Redis at ${url} is a Redis Cluster node`,
          fix: 'set REDIS_CLUSTER=true (REDIS_URL: one or more of its nodes, comma-separated)',
        },
      ];
    }
    // On a cluster every primary is read; a finding names the one it is about.
    const on = node === undefined ? '' : ` on primary ${node}`;
    return [
      {
        ok: true,
        label: cluster
          ? `Redis Cluster reachable at ${url} (${servers} primaries)`
          : `Redis reachable at ${url}`,
      },
      evictionPolicy === undefined || evictionPolicy === 'noeviction'
        ? { ok: true, label: `Redis maxmemory-policy ${evictionPolicy ?? 'not reported'}` }
        : {
            ok: false,
            label: `Redis maxmemory-policy is ${evictionPolicy}${on}`,
            fix: 'set maxmemory-policy noeviction: any other policy may delete queued jobs',
          },
      aofEnabled === false
        ? {
            ok: false,
            label: `Redis persistence is off (appendonly no)${on}`,
            fix: 'set appendonly yes: a Redis restart would lose webhooks already answered 200',
          }
        : { ok: true, label: 'Redis persistence on (AOF)' },
    ];
  } catch (err) {
    return [
      {
        ok: false,
        label: `Redis unreachable at ${url}: ${reasonOf(err)}`,
        fix: 'start Redis, or point REDIS_URL at it',
      },
    ];
  } finally {
    redis?.disconnect();
  }
};

const SCOPES_HINT =
  'the PAT needs webhooks.configuration:rw, agents-bot--all:rw and agents--all:ro';

const organizationChecks = async ({
  organization,
  client,
  url,
  secrets,
}: {
  organization: OrganizationRules;
  client: LivechatClient;
  url: string | undefined;
  secrets: readonly string[];
}): Promise<Check[]> => {
  const name = `organization ${organization.organizationId}`;
  const checks: Check[] = [];
  try {
    await client.listBots();
    checks.push({ ok: true, label: `${name}: personal access token accepted` });
  } catch (err) {
    return [
      {
        ok: false,
        label: `${name}: personal access token refused (${reasonOf(err)})`,
        fix: `create a PAT for an account of this organization; ${SCOPES_HINT}`,
      },
    ];
  }
  const clientId = organization.clientId ?? '';

  for (const configured of organization.bots) {
    const bot = `${name}: bot ${configured.id}`;
    if (configured.secret === undefined) {
      checks.push({ ok: false, label: `${bot} has no secret`, fix: 'add bot.secret (env:NAME)' });
    } else {
      try {
        await client.issueBotToken({
          bot_id: configured.id,
          client_id: clientId,
          bot_secret: configured.secret,
          organization_id: organization.organizationId,
        });
        checks.push({ ok: true, label: `${bot}: bot token issued` });
      } catch (err) {
        checks.push({
          ok: false,
          label: `${bot}: no bot token (${reasonOf(err)})`,
          fix: 'check the bot id, its secret and livechat.clientId (the bot must belong to that app)',
        });
      }
    }
    let found: Awaited<ReturnType<typeof findBot>>;
    try {
      found = await findBot(client, configured.id);
    } catch (err) {
      // Only not_found means "no such bot"; anything else is a failure to read it.
      checks.push({ ok: false, label: `${bot}: unreadable (${reasonOf(err)})`, fix: SCOPES_HINT });
      continue;
    }
    if (!found) {
      checks.push({
        ok: false,
        label: `${bot} not found in LiveChat`,
        fix: 'remove its id from the rules file and run `nudge setup` to create one',
      });
      continue;
    }
    const uncovered = uncoveredGroups(found, organization.groups);
    checks.push(
      uncovered.length === 0
        ? { ok: true, label: `${bot} is in the served group(s) ${organization.groups.join(', ')}` }
        : {
            ok: false,
            label: `${bot} is not in group(s) ${uncovered.join(', ')}: its token can't reach those chats`,
            fix: 'run `nudge setup` (it adds the bot to the served groups)',
          },
    );
    const routed = routedGroups(found, organization.botPriority);
    if (routed.length > 0) {
      checks.push({
        ok: false,
        label: `${bot} would be assigned customer chats in group(s) ${routed.join(', ')} (priority not supervisor)`,
        fix: 'run `nudge setup`, or set botPriority in the rules file to opt in',
      });
    }
    try {
      const statuses = await client.listRoutingStatuses();
      const status = statuses.find((entry) => entry.agent_id === configured.id)?.status;
      checks.push(
        status === 'accepting_chats'
          ? { ok: true, label: `${bot} is accepting chats` }
          : {
              ok: false,
              label: `${bot} is ${status ?? 'not listed'}: it acts only while accepting chats`,
              fix: 'run `nudge setup`',
            },
      );
    } catch (err) {
      checks.push({
        ok: false,
        label: `${bot}: routing status unreadable (${reasonOf(err)})`,
        fix: SCOPES_HINT,
      });
    }
  }

  try {
    const registered = (await client.listWebhooks({ owner_client_id: clientId })).filter(
      (webhook) => isNudgeWebhook(webhook, url),
    );
    const needed = desiredWebhooks({ organizations: [organization], url: url ?? '', secret: '' });
    const missing = needed.filter(
      (wanted) => !registered.some((webhook) => webhook.action === wanted.action),
    );
    const fingerprints = new Set(secrets.map(secretFingerprint));
    const elsewhere = url ? registered.filter((webhook) => webhook.url !== url) : [];
    const staleSecret = registered.filter(
      (webhook) => ![...fingerprints].some((fp) => webhook.description?.includes(`secret ${fp}`)),
    );
    const target = url ?? [...new Set(registered.map((webhook) => webhook.url))].join(', ');
    if (missing.length > 0) {
      checks.push({
        ok: false,
        label: `${name}: webhooks missing: ${missing.map((webhook) => webhook.action).join(', ')}`,
        fix: 'run `nudge setup --url <public webhook URL>`',
      });
    } else if (elsewhere.length > 0) {
      checks.push({
        ok: false,
        label: `${name}: webhooks point at ${[...new Set(elsewhere.map((webhook) => webhook.url))].join(', ')}, not ${url}`,
        fix: 'run `nudge setup --url <public webhook URL>`',
      });
    } else if (staleSecret.length > 0) {
      checks.push({
        ok: false,
        label: `${name}: webhooks carry a secret that is not in LIVECHAT_WEBHOOK_SECRETS (ingest answers 401)`,
        fix: 'run `nudge setup` with the secret ingest has',
      });
    } else {
      checks.push({
        ok: true,
        label: `${name}: ${needed.length} webhooks registered → ${target || '(none)'}${url ? '' : ' (pass --url to check the address)'}`,
      });
    }
  } catch (err) {
    checks.push({
      ok: false,
      label: `${name}: webhooks unreadable (${reasonOf(err)})`,
      fix: SCOPES_HINT,
    });
  }
  return checks;
};

/**
 * `nudge doctor`: Redis, the rules file, and each organization's LiveChat set-up, one line per
 * check (✓, or ✗ with the fix). Resolves with the number of failed checks.
 */
export const runDoctor = async ({ env, url, out }: DoctorOptions): Promise<number> => {
  const print = (check: Check) =>
    out(check.ok ? `✓ ${check.label}` : `✗ ${check.label}${check.fix ? ` — ${check.fix}` : ''}`);
  let failed = 0;
  const report = (checks: Check[]) => {
    for (const check of checks) {
      print(check);
      failed += check.ok ? 0 : 1;
    }
  };

  let config: CliEnv;
  try {
    config = loadConfig(CliEnv, env);
  } catch (err) {
    report([{ ok: false, label: `environment: ${reasonOf(err)}` }]);
    return failed;
  }
  report(await redisChecks(config.REDIS_URL, config.REDIS_CLUSTER));
  let context: Awaited<ReturnType<typeof loadCliContext>>;
  try {
    context = await loadCliContext({ env });
    report([
      {
        ok: true,
        label: `rules file ${config.NUDGE_CONFIG}: ${context.rules.organizations.size} organization(s)`,
      },
    ]);
  } catch (err) {
    const issues = err instanceof ConfigError ? err.issues : [reasonOf(err)];
    report([{ ok: false, label: `rules file ${config.NUDGE_CONFIG} is invalid` }]);
    for (const issue of issues) {
      out(`    ${issue}`);
    }
    return failed;
  }
  const secrets = config.LIVECHAT_WEBHOOK_SECRETS ?? [];
  if (secrets.length === 0) {
    report([
      {
        ok: false,
        label: 'LIVECHAT_WEBHOOK_SECRETS is not set',
        fix: 'set the secret ingest accepts (the one setup registers)',
      },
    ]);
  }
  for (const organization of context.rules.organizations.values()) {
    const credentials = organization.pat ?? organization.accessToken;
    if (!credentials || !organization.clientId) {
      report([
        {
          ok: false,
          label: `organization ${organization.organizationId}: no ${credentials ? 'livechat.clientId' : 'pat (or accessToken)'} in the rules file`,
          fix: 'doctor and setup act with the organization PAT and your app Client ID',
        },
      ]);
      continue;
    }
    report(
      await organizationChecks({
        organization,
        client: context.adminClient(organization),
        url,
        secrets,
      }),
    );
  }
  out(failed === 0 ? 'all checks passed' : `${failed} check(s) failed`);
  return failed;
};
