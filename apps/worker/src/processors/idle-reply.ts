import type { OrganizationRules } from '@nudge/config';
import { IdleReplyJob } from '@nudge/queues';
import { decideIdleReply } from '@nudge/rules';
import type { Job } from 'bullmq';
import { actOnce, type BotMessage } from '../act-once.js';
import type { JobOutcome, WorkerContext } from '../context.js';
import { scheduleIdleTimer } from './idle-timer.js';
import { runRuleJob } from './job-data.js';

const nudgeIfWaiting = async (
  { organizationId, chatId, threadId, eventId }: IdleReplyJob,
  organization: OrganizationRules,
  ctx: WorkerContext,
): Promise<JobOutcome> => {
  const settings = organization.rules.idleReply;
  const botIds = new Set(organization.bots.map((bot) => bot.id));
  let reschedule: { eventId: string; delayMs: number } | undefined;

  const outcome = await actOnce({
    ctx,
    organization,
    chatId,
    threadId,
    decide: ({ chat }) => {
      const now = ctx.now();
      const decision = decideIdleReply({
        chat,
        organizationId,
        threadId,
        eventId,
        settings,
        botIds,
        now,
      });
      if (decision.act) {
        const messages: BotMessage[] = [decision];
        if (decision.whisper) {
          messages.push(decision.whisper);
        }
        return { act: true, messages };
      }
      if (decision.reason === 'too early') {
        reschedule = { eventId, delayMs: decision.retryAfterMs };
      } else if (decision.reason === 'superseded') {
        reschedule = { eventId: decision.supersededBy, delayMs: decision.retryAfterMs };
      }
      return { act: false, reason: decision.reason };
    },
  });
  if (reschedule) {
    // While this job runs it holds the thread's timer, so BullMQ keeps this as its successor.
    await scheduleIdleTimer(ctx, { organizationId, chatId, threadId, ...reschedule });
    return {
      outcome: 'rescheduled',
      reason: outcome.outcome === 'skipped' ? outcome.reason : 'rescheduled',
      delayMs: reschedule.delayMs,
    };
  }
  return outcome;
};

/**
 * `idle-reply` / `nudge`: the thread's timer fired. Reads the chat and nudges the customer if
 * they are still waiting. Webhook order doesn't matter: when the chat shows a newer waiting
 * message than the one that started this timer (its webhook came late, or its timer was
 * replaced by an older one's), the timer moves to that message instead of giving up.
 */
export const sendIdleReply = (job: Job, ctx: WorkerContext): Promise<JobOutcome> =>
  runRuleJob(job, ctx, IdleReplyJob, (data, organization) =>
    nudgeIfWaiting(data, organization, ctx),
  );
