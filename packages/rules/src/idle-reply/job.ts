import { z } from 'zod';
import { defineJob } from '../rule.js';
import { decideIdleReply } from './decide.js';
import { scheduleNudge } from './route.js';
import type { IdleReplySettings } from './settings.js';

/** `idle-reply` / `nudge`: fires `afterSeconds` after the last unanswered customer message. */
const IdleReplyJob = z.object({
  organizationId: z.string().min(1),
  chatId: z.string().min(1),
  threadId: z.string().min(1),
  // The customer message that (re)started the timer.
  eventId: z.string().min(1),
  // That message's created_at (ms), when known: an agent's answer routed late keeps the timer.
  startedAt: z.number().optional(),
});
type IdleReplyJob = z.output<typeof IdleReplyJob>;

/**
 * The thread's timer fired: nudge the customer if they are still waiting. Webhook order
 * doesn't matter: when the chat shows a newer waiting message than the one that started this
 * timer (its webhook came late, or its timer was replaced by an older one's), the timer moves
 * to that message instead of giving up; fired too early by the message's clock, it waits on.
 */
export const nudgeJob = defineJob<IdleReplySettings, IdleReplyJob>(
  IdleReplyJob,
  async ({ organizationId, chatId, threadId, eventId, startedAt }, ctx) => {
    let decided: ReturnType<typeof decideIdleReply> | undefined;
    const outcome = await ctx.actOnce({ chatId, threadId }, (chat) => {
      decided = decideIdleReply({
        chat,
        organizationId,
        threadId,
        eventId,
        settings: ctx.settings,
        botIds: ctx.botIds,
        now: ctx.now(),
      });
      return decided;
    });
    // Only when the decision itself said "not yet" (not, say, the bot's status).
    const waited =
      outcome.outcome === 'skipped' && decided?.act === false && outcome.reason === decided.reason
        ? decided
        : undefined;
    const reschedule =
      waited?.reason === 'too early'
        ? { eventId, startedAt, delayMs: waited.retryAfterMs }
        : waited?.reason === 'superseded'
          ? {
              eventId: waited.supersededBy,
              startedAt: waited.supersededAt,
              delayMs: waited.retryAfterMs,
            }
          : undefined;
    if (reschedule === undefined) {
      return outcome;
    }
    // While this job runs it holds the thread's timer, so BullMQ keeps this as its successor.
    await ctx.request(scheduleNudge(organizationId, { chatId, threadId, ...reschedule }));
    return {
      outcome: 'rescheduled',
      reason: outcome.outcome === 'skipped' ? outcome.reason : 'rescheduled',
      delayMs: reschedule.delayMs,
    };
  },
);
