import { createEventProducer } from '@nudge/queues';
import type { RedisClient, RedisLayout } from '@nudge/runtime';
import { reconcileOrganization } from '@nudge/worker';
import type { CliContext } from './cli-context.js';

export type RunReconcileOptions = {
  context: CliContext;
  redis: RedisClient;
  /** Where the events queue lives (`createRedisLayout`). */
  layout: RedisLayout;
  /** Events created this long ago or later are looked for. */
  sinceMs: number;
  /** LiveChat calls per second. */
  perSecond: number;
  /** Read LiveChat, count, store nothing. */
  dryRun: boolean;
  out: (line: string) => void;
  now?: () => number;
};

/**
 * `nudge reconcile`: what the workers do on their own after an outage ingest noticed, on
 * demand — each organization's active chats read from LiveChat and the webhooks they imply
 * stored again; the workers skip those already handled and act on the rest, once.
 */
export const runReconcile = async ({
  context,
  redis,
  layout,
  sinceMs,
  perSecond,
  dryRun,
  out,
  now = Date.now,
}: RunReconcileOptions): Promise<void> => {
  let storeError: Error | undefined;
  const producer = createEventProducer({
    connection: redis,
    layout,
    onError: (err) => {
      storeError ??= err;
    },
  });
  try {
    const since = now() - sinceMs;
    out(
      `Looking for what webhooks lost since ${new Date(since).toISOString()}${dryRun ? ' (dry run: nothing is stored)' : ''}`,
    );
    for (const organization of context.rules.organizations.values()) {
      const { chats, webhooks } = await reconcileOrganization({
        organization,
        client: context.adminClient(organization),
        sinceMs: since,
        store: async (jobs) => {
          if (!dryRun) {
            await Promise.all(jobs.map((job) => producer.enqueue(job)));
          }
        },
        callsPerSecond: perSecond,
        now,
      });
      out(
        `  organization ${organization.organizationId}: ${chats} active chat(s), ${webhooks} webhook(s) ${dryRun ? 'to store' : 'stored'} again`,
      );
    }
    if (storeError) {
      throw storeError;
    }
    if (!dryRun) {
      out('The workers skip what they already handled and act on the rest, once.');
    }
  } finally {
    await producer.close();
  }
};
