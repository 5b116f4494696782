import type { OrganizationRules } from '@nudge/config';
import { isWebhookAction, parseWebhookPayload } from '@nudge/livechat';
import { claimDelivery, LivechatEventJob, UnrecoverableError } from '@nudge/queues';
import { type RouteInput, type RouteIntent, routeWebhook } from '@nudge/rules';
import type { Job } from 'bullmq';
import type { JobOutcome, WorkerContext } from '../context.js';
import { jobIdFor } from '../ids.js';
import { CHAT_USERS_TTL_MS, chatUsersKey } from '../keys.js';

const describeIssues = (issues: readonly { path: PropertyKey[]; message: string }[]): string =>
  issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');

/** The idle timer of one thread: BullMQ debounces on this id (a newer message replaces it). */
export const idleTimerId = (organizationId: string, chatId: string, threadId: string) =>
  jobIdFor('idle-timer', organizationId, chatId, threadId);

const applyIntent = async (
  ctx: WorkerContext,
  organization: OrganizationRules,
  intent: RouteIntent,
): Promise<void> => {
  const { organizationId } = organization;
  switch (intent.kind) {
    case 'schedule-idle-reply': {
      const { chatId, threadId, eventId, delayMs } = intent;
      // Debounce: one pending timer per thread; each customer message replaces it and starts
      // the delay again (a timer already running keeps the newest as its successor). The job
      // id names the message, so a duplicate webhook is a no-op.
      await ctx.queues.idleReply.add(
        'nudge',
        { organizationId, chatId, threadId, eventId },
        {
          jobId: jobIdFor('idle', organizationId, chatId, threadId, eventId),
          delay: delayMs,
          deduplication: {
            id: idleTimerId(organizationId, chatId, threadId),
            replace: true,
            keepLastIfActive: true,
          },
        },
      );
      return;
    }
    case 'cancel-idle-reply': {
      const { chatId, threadId } = intent;
      const timerId = idleTimerId(organizationId, chatId, threadId);
      const jobId = await ctx.queues.idleReply.getDeduplicationJobId(timerId);
      const job = jobId ? await ctx.queues.idleReply.getJob(jobId) : undefined;
      // Only a timer still waiting is removed; one already running re-reads the chat and sees
      // the agent's answer (or the closed thread) itself.
      if (job && (await job.isDelayed())) {
        await job.remove().catch(() => undefined);
      }
      return;
    }
    case 'suggest-for-tag': {
      const { chatId, threadId, tag } = intent;
      await ctx.queues.cannedResponses.add(
        'tag-suggestions',
        { organizationId, chatId, threadId, tag },
        { jobId: jobIdFor('tag', organizationId, chatId, threadId, tag) },
      );
      return;
    }
    case 'suggest-for-keyword': {
      const { chatId, threadId, eventId, keyword } = intent;
      // One job per mentioning message (the custom_id keeps the whisper once per thread): a
      // mention skipped at fire time (an agent's message) must not block a later customer's.
      await ctx.queues.cannedResponses.add(
        'keyword-suggestions',
        { organizationId, chatId, threadId, eventId, keyword },
        { jobId: jobIdFor('keyword', organizationId, chatId, threadId, keyword, eventId) },
      );
      return;
    }
    case 'react-to-rating': {
      const { chatId, threadId, score, comment } = intent;
      await ctx.queues.ratingReactions.add(
        'react',
        { organizationId, chatId, threadId, score, ...(comment === undefined ? {} : { comment }) },
        { jobId: jobIdFor('rating', organizationId, chatId, threadId, String(score)) },
      );
      return;
    }
    case 'remember-users': {
      const key = chatUsersKey(ctx.prefix, organizationId, intent.chatId);
      const fields = intent.users.flatMap((user) => [user.id, user.type]);
      if (fields.length > 0) {
        await ctx.redis
          .multi()
          .hset(key, ...fields)
          .pexpire(key, CHAT_USERS_TTL_MS)
          .exec();
      }
      return;
    }
    case 'set-routing-status': {
      if (organization.bots.some((bot) => bot.id === intent.agentId)) {
        await ctx.botStatus.record(organizationId, intent.agentId, intent.status);
      }
      return;
    }
  }
};

const chatIdOf = (payload: Record<string, unknown>): string | undefined => {
  const chatId = payload.chat_id;
  return typeof chatId === 'string' ? chatId : undefined;
};

/**
 * `livechat-events`: one stored webhook → the rule jobs it calls for. Validates the payload
 * for its action (a mismatch fails the job visibly, without retries, so it can be replayed
 * after a fix), skips a copy of an event already handled within 24 h, and never reacts to
 * the organization's own bots.
 */
export const routeEvent = async (job: Job, ctx: WorkerContext): Promise<JobOutcome> => {
  const data = LivechatEventJob.safeParse(job.data);
  if (!data.success) {
    throw new UnrecoverableError(`invalid job data: ${describeIssues(data.error.issues)}`);
  }
  const { organizationId, envelope, dedupeKey } = data.data;
  const action = job.name;
  if (!isWebhookAction(action)) {
    return { outcome: 'skipped', reason: `action ${action} is not handled` };
  }
  const claim = await claimDelivery({
    redis: ctx.redis,
    prefix: ctx.prefix,
    dedupeKey,
    action,
    claimant: `${job.id}@${job.timestamp}`,
  });
  if (claim === 'duplicate') {
    return { outcome: 'skipped', reason: 'duplicate delivery of an event already handled' };
  }
  const payload = parseWebhookPayload(action, envelope.payload);
  if (!payload.success) {
    throw new UnrecoverableError(
      `payload does not match the ${action} schema: ${describeIssues(payload.error.issues)}`,
    );
  }
  const organization = ctx.rules.organizations.get(organizationId);
  if (!organization) {
    return {
      outcome: 'skipped',
      reason: `organization ${organizationId} is not in the rules file`,
    };
  }

  const chatId = chatIdOf(envelope.payload);
  const knownUsers =
    action === 'incoming_event' && chatId
      ? new Map(
          Object.entries(
            await ctx.redis.hgetall(chatUsersKey(ctx.prefix, organizationId, chatId)),
          ) as [string, 'customer' | 'agent'][],
        )
      : new Map<string, 'customer' | 'agent'>();
  // The payload was parsed with this action's schema: the pair is a valid RouteInput.
  const intents = routeWebhook({
    action,
    payload: payload.data,
    organizationId,
    botIds: new Set(organization.bots.map((bot) => bot.id)),
    knownUsers,
    settings: organization.rules,
    now: ctx.now(),
  } as RouteInput);
  for (const intent of intents) {
    await applyIntent(ctx, organization, intent);
  }
  return { outcome: 'routed', intents: intents.map((intent) => intent.kind) };
};
