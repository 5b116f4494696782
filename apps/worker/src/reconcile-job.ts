import { ReconcileJob } from '@nudge/queues';
import type { WorkerOutcome } from './context.js';
import type { Handler } from './processor.js';
import { reconcileOrganization } from './reconcile.js';
import { parseJobData } from './rule-jobs.js';

/**
 * `nudge-reconcile` on the events queue: every organization of the rules file reconciled
 * since the job's `sinceMs` (see reconcile.ts), with the account's credentials where the rules
 * file has them, else as the organization's first bot.
 */
export const reconcileJob: Handler = async (job, ctx): Promise<WorkerOutcome> => {
  const { sinceMs, reason } = parseJobData(job, ReconcileJob);
  ctx.log.warn({ since: new Date(sinceMs).toISOString(), reason }, 'reconciling after an outage');
  const outcome = { outcome: 'reconciled' as const, organizations: 0, chats: 0, webhooks: 0 };
  for (const organization of ctx.rules.organizations.values()) {
    const [botId] = organization.botIds;
    const client =
      ctx.livechat.asAccount(organization) ??
      (botId === undefined ? undefined : ctx.livechat.asBot(organization, botId));
    if (client === undefined) {
      ctx.log.warn(
        { organizationId: organization.organizationId },
        'cannot reconcile: no credentials to list chats with',
      );
      continue;
    }
    const { chats, webhooks } = await reconcileOrganization({
      organization,
      client,
      sinceMs,
      store: ctx.storeWebhooks,
      callsPerSecond: ctx.reconcileCallsPerSecond,
      now: ctx.now,
      log: ctx.log,
    });
    outcome.organizations += 1;
    outcome.chats += chats;
    outcome.webhooks += webhooks;
  }
  return outcome;
};
