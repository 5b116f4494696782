import type { LivechatClient, RegisteredWebhook } from '@nudge/livechat';
import type { CliContext } from './cli-context.js';
import { findBot, findSetupBot, isNudgeWebhook, SETUP_BOT_JOB_TITLE } from './livechat-setup.js';

type TeardownOptions = {
  context: CliContext;
  /** Asked once, after the plan is printed; false stops with nothing changed. */
  confirm: (question: string) => Promise<boolean>;
  out: (line: string) => void;
};

type Step = { text: string; run: () => Promise<void> };

/**
 * `nudge teardown`: undoes `nudge setup` — unregisters Nudge's webhooks, sets its bots
 * offline and deletes the bots setup created (bots you made yourself stay, offline). Prints
 * the plan, asks, then acts. Resolves with the number of changes made, or undefined when the
 * plan was not confirmed.
 */
export const runTeardown = async ({
  context,
  confirm,
  out,
}: TeardownOptions): Promise<number | undefined> => {
  const steps: Step[] = [];
  const seenClients = new Set<string>();
  for (const organization of context.rules.organizations.values()) {
    const client: LivechatClient = context.adminClient(organization);
    const clientId = organization.clientId ?? '';
    if (!seenClients.has(clientId)) {
      seenClients.add(clientId);
      const webhooks: RegisteredWebhook[] = (
        await client.listWebhooks({ owner_client_id: clientId })
      ).filter((webhook) => isNudgeWebhook(webhook));
      for (const webhook of webhooks) {
        steps.push({
          text: `unregister webhook ${webhook.action} → ${webhook.url}`,
          run: () => client.unregisterWebhook({ id: webhook.id, owner_client_id: clientId }),
        });
      }
    }
    const ids = organization.bots.map((bot) => bot.id);
    const earlier = await findSetupBot(client, organization.botName);
    if (earlier && !ids.includes(earlier)) {
      ids.push(earlier);
    }
    for (const id of ids) {
      const bot = await findBot(client, id);
      if (!bot) {
        continue;
      }
      const details = await client.getBot({ id, fields: ['job_title'] });
      if (details.job_title === SETUP_BOT_JOB_TITLE) {
        steps.push({
          text: `delete bot ${bot.name} (${id}) in organization ${organization.organizationId} (created by setup)`,
          run: async () => {
            await client.setRoutingStatus({ agent_id: id, status: 'offline' });
            await client.deleteBot({ id });
          },
        });
      } else {
        steps.push({
          text: `set bot ${bot.name} (${id}) offline in organization ${organization.organizationId}`,
          run: () => client.setRoutingStatus({ agent_id: id, status: 'offline' }),
        });
      }
    }
  }
  if (steps.length === 0) {
    out('nothing to remove: no webhooks or bots of Nudge found');
    return 0;
  }
  out('teardown will:');
  for (const step of steps) {
    out(`  ${step.text}`);
  }
  if (!(await confirm(`Remove these ${steps.length} item(s)?`))) {
    out('nothing changed');
    return undefined;
  }
  for (const step of steps) {
    await step.run();
    out(`done: ${step.text}`);
  }
  out('remove the deleted bots from the rules file before starting Nudge again');
  return steps.length;
};
