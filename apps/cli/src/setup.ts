import type { NudgeRules, OrganizationRules } from '@nudge/config';
import type { LivechatClient } from '@nudge/livechat';
import {
  type BotGroups,
  desiredBotGroups,
  desiredWebhooks,
  findBot,
  findSetupBot,
  planWebhooks,
  SETUP_BOT_JOB_TITLE,
  sameGroups,
} from './livechat-setup.js';

export type SetupOptions = {
  /** Loaded without requiring bot ids: setup creates a bot the file doesn't name yet. */
  rules: NudgeRules;
  /** The organization's own credentials (its PAT) for the Configuration API. */
  adminClient: (organization: OrganizationRules) => LivechatClient;
  /** The public webhook URL LiveChat posts to. */
  url: string;
  /** The `secret_key` to register (the first of LIVECHAT_WEBHOOK_SECRETS). */
  secret: string;
  dryRun?: boolean;
  out: (line: string) => void;
};

export type SetupBot = {
  organizationId: string;
  id: string;
  /** Only for a bot this run created: LiveChat shows a secret once. */
  secret: string | undefined;
  created: boolean;
};

export type SetupReport = { bots: SetupBot[]; changes: number };

/** A problem setup can't fix itself: reported as one line, nothing half-done after it. */
export class SetupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SetupError';
  }
}

const groupsText = (groups: BotGroups) =>
  groups.map((group) => `${group.id} ${group.priority ?? 'normal'}`).join(', ') || 'none';

/** What setup needs of each organization before it changes anything. */
const checkCredentials = (organization: OrganizationRules): string => {
  const where = `organizations.${organization.organizationId}`;
  if (!organization.clientId) {
    throw new SetupError(
      'livechat.clientId is not set: setup registers webhooks and bots for your app (Developer Console → your app → Client ID)',
    );
  }
  if (!organization.pat && !organization.accessToken) {
    throw new SetupError(
      `${where}.pat is not set: setup acts with the organization's personal access token, or an accessToken (see README, "Connect a real LiveChat account")`,
    );
  }
  return organization.clientId;
};

/**
 * `nudge setup`: for each organization, the bot (created if the rules file names none, its
 * groups and routing priority as configured), the webhooks the enabled rules need, and the
 * bot accepting chats — in the order LiveChat documents. Idempotent: what already is as it
 * should be is left alone and reported as kept. `dryRun` reports and changes nothing.
 */
export const runSetup = async ({
  rules,
  adminClient,
  url,
  secret,
  dryRun = false,
  out,
}: SetupOptions): Promise<SetupReport> => {
  const would = (text: string) => (dryRun ? `would ${text}` : text);
  const organizations = [...rules.organizations.values()];
  if (organizations.length === 0) {
    throw new SetupError('the rules file lists no organizations: add yours under organizations:');
  }
  const bots: SetupBot[] = [];
  let changes = 0;

  for (const organization of organizations) {
    const clientId = checkCredentials(organization);
    const client = adminClient(organization);
    const where = `organizations.${organization.organizationId}`;
    out(`organization ${organization.organizationId}`);
    const wanted = organization.groups.map((id) => ({ id, priority: organization.botPriority }));

    const configured = organization.bots.map((bot) => bot.id);
    if (configured.length === 0) {
      const earlier = await findSetupBot(client, organization.botName);
      if (earlier) {
        out(`  found bot ${organization.botName} (${earlier}), created by an earlier setup`);
        out(`    add it to the rules file: ${where}.bot: { id: ${earlier}, secret: env:… }`);
        out(
          '    (its secret was printed when it was created; lost it? `nudge teardown`, then setup)',
        );
        configured.push(earlier);
        bots.push({
          organizationId: organization.organizationId,
          id: earlier,
          secret: undefined,
          created: false,
        });
      } else if (dryRun) {
        out(
          `  would create bot ${organization.botName} (priority ${organization.botPriority} in groups ${organization.groups.join(', ')})`,
        );
        changes += 1;
        continue;
      } else {
        const created = await client.createBot({
          name: organization.botName,
          owner_client_id: clientId,
          job_title: SETUP_BOT_JOB_TITLE,
          default_group_priority: organization.botPriority,
          groups: wanted,
        });
        changes += 1;
        out(`  created bot ${organization.botName} (${created.id}): ${groupsText(wanted)}`);
        out(
          `    add it to the rules file: ${where}.bot: { id: ${created.id}, secret: env:NUDGE_BOT_SECRET }`,
        );
        out(`    and set NUDGE_BOT_SECRET=${created.secret} (LiveChat shows it only now)`);
        bots.push({
          organizationId: organization.organizationId,
          id: created.id,
          secret: created.secret,
          created: true,
        });
        continue;
      }
    }

    for (const id of configured) {
      const bot = await findBot(client, id);
      if (!bot) {
        throw new SetupError(
          `${where}: bot ${id} does not exist in LiveChat: remove its id from the rules file to let setup create one`,
        );
      }
      if (bot.owner_client_id !== undefined && bot.owner_client_id !== clientId) {
        throw new SetupError(
          `${where}: bot ${id} belongs to client ${bot.owner_client_id}, not livechat.clientId ${clientId}: its bot webhooks would never flow`,
        );
      }
      const groups = desiredBotGroups(bot.groups, organization.groups, organization.botPriority);
      if (
        sameGroups(bot.groups, groups) &&
        bot.default_group_priority === organization.botPriority
      ) {
        out(`  kept bot ${bot.name} (${id}): ${groupsText(bot.groups)}`);
      } else {
        if (!dryRun) {
          await client.updateBot({
            id,
            groups: groups.map((group) => ({ id: group.id, priority: organization.botPriority })),
            default_group_priority: organization.botPriority,
          });
        }
        changes += 1;
        out(
          `  ${would('update')} bot ${bot.name} (${id}): ${groupsText(groups)} (was ${groupsText(bot.groups)})`,
        );
      }
      if (!bots.some((known) => known.id === id)) {
        bots.push({
          organizationId: organization.organizationId,
          id,
          secret: undefined,
          created: false,
        });
      }
    }
  }

  // Webhooks belong to the app (Client ID), not to one organization: one set per app.
  const byClient = new Map<string, OrganizationRules[]>();
  for (const organization of organizations) {
    const clientId = checkCredentials(organization);
    byClient.set(clientId, [...(byClient.get(clientId) ?? []), organization]);
  }
  for (const [clientId, members] of byClient) {
    const [first] = members;
    if (!first) {
      continue;
    }
    const client = adminClient(first);
    const registered = await client.listWebhooks({ owner_client_id: clientId });
    const plan = planWebhooks(registered, desiredWebhooks({ organizations: members, url, secret }));
    out(`webhooks of app ${clientId} → ${url}`);
    for (const webhook of plan.unregister) {
      if (!dryRun) {
        await client.unregisterWebhook({ id: webhook.id, owner_client_id: clientId });
      }
      changes += 1;
      out(
        `  ${would('remove')} ${webhook.action} → ${webhook.url} (${webhook.description ?? 'no description'})`,
      );
    }
    for (const webhook of plan.keep) {
      out(`  kept ${webhook.action}`);
    }
    for (const webhook of plan.register) {
      if (!dryRun) {
        await client.registerWebhook({
          url: webhook.url,
          action: webhook.action,
          secret_key: secret,
          owner_client_id: clientId,
          type: webhook.type,
          description: webhook.description,
          ...(Object.keys(webhook.filters).length > 0 ? { filters: webhook.filters } : {}),
        });
      }
      changes += 1;
      out(`  ${would('register')} ${webhook.action}`);
    }
  }

  // Last, as documented: bot webhooks flow once a bot of the app is online.
  for (const bot of bots) {
    const organization = rules.organizations.get(bot.organizationId);
    if (!organization) {
      continue;
    }
    const client = adminClient(organization);
    const status = await client
      .listRoutingStatuses()
      .then((statuses) => statuses.find((entry) => entry.agent_id === bot.id)?.status)
      .catch(() => undefined);
    if (status === 'accepting_chats') {
      out(`  kept bot ${bot.id} accepting chats`);
      continue;
    }
    if (!dryRun) {
      await client.setRoutingStatus({ agent_id: bot.id, status: 'accepting_chats' });
    }
    changes += 1;
    out(`  ${would('set')} bot ${bot.id} to accepting chats${status ? ` (was ${status})` : ''}`);
  }
  out(dryRun ? `dry run: ${changes} change(s) to make` : `done: ${changes} change(s)`);
  return { bots, changes };
};
