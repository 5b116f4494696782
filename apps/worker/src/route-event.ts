import type { OrganizationRules } from '@nudge/config';
import { isWebhookAction, parseWebhookPayload, type WebhookPayload } from '@nudge/livechat';
import { claimDelivery, LivechatEventJob, UnrecoverableError } from '@nudge/queues';
import { type RouteInput, type RouteIntent, routeWebhook } from '@nudge/rules';
import type { Job } from 'bullmq';
import type { JobOutcome, WorkerContext } from '../context.js';
import { jobIdFor } from '../ids.js';
import { CHAT_USERS_TTL_MS, chatUsersKey } from '../keys.js';
import { cancelIdleTimer, scheduleIdleTimer } from './idle-timer.js';
import { describeIssues, notConfigured, parseJobData } from './job-data.js';

const applyIntent = async (
  ctx: WorkerContext,
  organization: OrganizationRules,
  intent: RouteIntent,
): Promise<void> => {
  const { organizationId } = organization;
  switch (intent.kind) {
    case 'schedule-idle-reply': {
      const { chatId, threadId, eventId, delayMs } = intent;
      await scheduleIdleTimer(ctx, { organizationId, chatId, threadId, eventId, delayMs });
      return;
    }
    case 'cancel-idle-reply': {
      await cancelIdleTimer(ctx, {
        organizationId,
        chatId: intent.chatId,
        threadId: intent.threadId,
      });
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
  const { organizationId, envelope, dedupeKey } = parseJobData(job, LivechatEventJob);
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
