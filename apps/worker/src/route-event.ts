import type { OrganizationRules } from '@nudge/config';
import {
  chatIdOfEnvelope,
  isWebhookAction,
  parseWebhookPayload,
  type WebhookPayload,
} from '@nudge/livechat';
import { claimDelivery, LivechatEventJob } from '@nudge/queues';
import type { CoreIntent, InlineOutcome, JobOutcome } from '@nudge/rules';
import { describeIssues, parseStoredHash, REDIS_TTL_MS, StoredUserType } from '@nudge/runtime';
import { type Job, UnrecoverableError } from 'bullmq';
import { queueOf, type WorkerContext } from './context.js';
import { applyJobRequest } from './job-requests.js';
import { notConfigured, parseJobData } from './rule-jobs.js';

/** What Nudge keeps from a webhook for itself: who is who in a chat, its bots' statuses. */
const applyCoreIntent = async (
  ctx: WorkerContext,
  organization: OrganizationRules,
  intent: CoreIntent,
): Promise<void> => {
  const { organizationId } = organization;
  if (intent.kind === 'remember-users') {
    const key = ctx.keys.chatUsers(organizationId, intent.chatId);
    const fields = intent.users.flatMap((user) => [user.id, user.type]);
    if (fields.length > 0) {
      await ctx.redis
        .multi()
        .hset(key, ...fields)
        .pexpire(key, REDIS_TTL_MS.chatUsers)
        .exec();
    }
    return;
  }
  if (organization.botIds.has(intent.agentId)) {
    await ctx.botStatus.record(organizationId, intent.agentId, intent.status);
  }
};

/**
 * `livechat-events`: one stored webhook → the rule jobs it calls for. Validates the payload
 * for its action (a mismatch fails the job visibly, without retries, so it can be replayed
 * after a fix), skips a copy of an event already handled within 24 h, and never reacts to
 * the organization's own bots.
 */
export const routeEvent = async (job: Job, ctx: WorkerContext): Promise<JobOutcome> => {
  const { organizationId, envelope, dedupeKey } = parseJobData(job, LivechatEventJob);
  const action = job.name;
  if (!isWebhookAction(action)) {
    return { outcome: 'skipped', reason: `action ${action} is not handled` };
  }
  const chatId = chatIdOfEnvelope(envelope);
  // Who is who in the chat (to tell a customer's message from an agent's), read in the same
  // round trip as the claim.
  const usersKey =
    action === 'incoming_event' && chatId && ctx.rules.organizations.has(organizationId)
      ? ctx.keys.chatUsers(organizationId, chatId)
      : undefined;
  const [claim, storedUsers] = await Promise.all([
    claimDelivery({
      redis: ctx.redis,
      prefix: ctx.prefix,
      dedupeKey,
      action,
      claimant: `${job.id}@${job.timestamp}`,
    }),
    usersKey === undefined ? undefined : ctx.redis.hgetall(usersKey),
  ]);
  if (claim === 'duplicate') {
    return { outcome: 'skipped', reason: 'duplicate delivery of an event already handled' };
  }
  const payload = parseWebhookPayload(action, envelope.payload);
  if (!payload.success) {
    throw new UnrecoverableError(
      `payload does not match the ${action} schema: ${describeIssues(payload.error.issues)}`,
    );
  }
  if (action === 'incoming_chat') {
    // Its events were parsed one by one: the odd one out is reported, the chat still routed.
    const { chat } = payload.data as WebhookPayload<'incoming_chat'>;
    for (const skipped of chat.thread.skippedEvents) {
      ctx.reportSkippedEvent(
        { ...skipped, action, chatId: chat.id, threadId: chat.thread.id },
        ctx.log,
      );
    }
  }
  const organization = ctx.rules.organizations.get(organizationId);
  if (!organization) {
    return notConfigured(organizationId);
  }

  const knownUsers =
    storedUsers === undefined ? undefined : parseStoredHash(StoredUserType, storedUsers);
  // The payload was parsed with this action's schema: the pair is a valid route input.
  const plan = ctx.ruleSet.plan({
    action,
    payload: payload.data,
    organizationId,
    botIds: organization.botIds,
    knownUsers,
    settings: organization.rules,
    now: ctx.now(),
  } as Parameters<WorkerContext['ruleSet']['plan']>[0]);
  for (const intent of plan.core) {
    await applyCoreIntent(ctx, organization, intent);
  }
  // Only a route job's first run acts itself: one re-run after a crash or a failure hands its
  // rule jobs to their queues, so a job that kills its worker fails in its rule's queue (where
  // it is replayed) rather than taking the webhook's other rules down with it.
  const firstRun = job.attemptsStarted <= 1 && job.stalledCounter === 0;
  const acted: InlineOutcome[] = [];
  for (const { rule, request } of plan.jobs) {
    const done = firstRun ? await ctx.inline.tryRun(ctx, rule, organization, request) : undefined;
    if (done === undefined) {
      await applyJobRequest(queueOf(ctx, rule), request, ctx.chatJobs);
    } else {
      acted.push(done);
    }
  }
  return {
    outcome: 'routed',
    intents: plan.intents.map((intent) => intent.kind),
    ...(acted.length === 0 ? {} : { acted }),
  };
};
