import { QUEUE_NAMES } from '@nudge/queues';
import { createRedisLayout } from '@nudge/runtime';
import { Queue } from 'bullmq';
import type { CliContext } from './cli-context.js';
import { findBot, isNudgeWebhook } from './livechat-setup.js';
import { connectOnce } from './redis-probe.js';

type StatusOptions = {
  context: CliContext;
  out: (line: string) => void;
};

const reasonOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * `nudge status`: per organization, Nudge's webhooks and where they point, its bots and their
 * routing statuses; then each queue's counts and the workers connected. Resolves with the
 * number of parts that could not be read.
 */
export const runStatus = async ({ context, out }: StatusOptions): Promise<number> => {
  let unreadable = 0;
  const { rules, env } = context;
  for (const organization of rules.organizations.values()) {
    out(`organization ${organization.organizationId}`);
    let client: ReturnType<CliContext['adminClient']>;
    try {
      client = context.adminClient(organization);
    } catch (err) {
      out(`  ${reasonOf(err)}`);
      unreadable += 1;
      continue;
    }
    try {
      const statuses = await client.listRoutingStatuses().catch(() => undefined);
      for (const { id } of organization.bots) {
        const bot = await findBot(client, id);
        const status = statuses?.find((entry) => entry.agent_id === id)?.status ?? 'unknown';
        const groups = bot?.groups.map((group) => `${group.id} ${group.priority}`).join(', ');
        out(
          bot
            ? `  bot ${bot.name} (${id}): ${status}; groups ${groups || 'none'}`
            : `  bot ${id}: not found in LiveChat`,
        );
      }
      const webhooks = (
        await client.listWebhooks({ owner_client_id: organization.clientId ?? '' })
      ).filter((webhook) => isNudgeWebhook(webhook));
      out(`  webhooks: ${webhooks.length}`);
      for (const webhook of webhooks) {
        out(`    ${webhook.action.padEnd(26)} ${webhook.type ?? ''} → ${webhook.url}`);
      }
    } catch (err) {
      out(`  LiveChat unreadable: ${reasonOf(err)}`);
      unreadable += 1;
    }
  }

  const cluster = env.REDIS_CLUSTER;
  out(`queues (${env.REDIS_URL}${cluster ? ', cluster' : ''}, prefix ${env.QUEUE_PREFIX})`);
  const layout = createRedisLayout(env.QUEUE_PREFIX, { cluster });
  let redis: Awaited<ReturnType<typeof connectOnce>> | undefined;
  try {
    redis = await connectOnce(env.REDIS_URL, { cluster });
    for (const name of Object.values(QUEUE_NAMES)) {
      const queue = new Queue(name, { connection: redis, prefix: layout.queuePrefix(name) });
      try {
        const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'failed');
        const workers = await queue.getWorkersCount();
        out(
          `  ${name.padEnd(17)} waiting ${counts.waiting ?? 0}  delayed ${counts.delayed ?? 0}  active ${counts.active ?? 0}  failed ${counts.failed ?? 0}  workers ${workers}`,
        );
      } finally {
        await queue.close();
      }
    }
  } catch (err) {
    out(`  Redis unreadable: ${reasonOf(err)}`);
    unreadable += 1;
  } finally {
    redis?.disconnect();
  }
  return unreadable;
};
