import type { ChatEvent } from '@nudge/livechat';
import type { JobRequest } from '../rule.js';
import { isAnswerEvent, isWaitingEvent } from '../shared/classify.js';
import { parseTimestamp } from '../shared/snapshot.js';
import { isCustomerLike, type RoutedWebhook } from '../shared/webhook.js';
import type { IdleReplySettings } from './settings.js';

/** (Re)start the chat's idle timer: the job fires `delayMs` from now. */
type ScheduleIdleReplyIntent = {
  kind: 'schedule-idle-reply';
  chatId: string;
  threadId: string;
  /** The customer event that starts the timer (the idle nudge's once-key). */
  eventId: string;
  /** The event's `created_at` (ms), when it has one: a cancel routed late keeps this timer. */
  startedAt?: number;
  delayMs: number;
};
/** Drop the chat's pending idle timer (an optimisation: the fire-time decision re-checks). */
type CancelIdleReplyIntent = {
  kind: 'cancel-idle-reply';
  chatId: string;
  threadId: string;
  reason: 'agent answered' | 'chat deactivated';
  /** The answer's `created_at` (ms): a timer a later customer message started stays. */
  startedBefore?: number;
};
export type IdleReplyIntent = ScheduleIdleReplyIntent | CancelIdleReplyIntent;

/** The idle timer's delay for a customer event: `afterSeconds`, less the event's age. */
const idleDelayMs = (settings: IdleReplySettings, event: ChatEvent, now: number | undefined) => {
  const full = settings.afterSeconds * 1000;
  const createdAt = parseTimestamp(event.created_at);
  if (now === undefined || createdAt === undefined) {
    return full;
  }
  return Math.min(full, Math.max(0, full - (now - createdAt)));
};

const schedule = (
  webhook: RoutedWebhook,
  settings: IdleReplySettings,
  { chatId, threadId }: { chatId: string; threadId: string },
  event: ChatEvent,
): ScheduleIdleReplyIntent => ({
  kind: 'schedule-idle-reply',
  chatId,
  threadId,
  eventId: event.id,
  startedAt: parseTimestamp(event.created_at),
  delayMs: idleDelayMs(settings, event, webhook.now),
});

const cancel = (
  chatId: string,
  threadId: string,
  reason: CancelIdleReplyIntent['reason'],
  startedBefore?: number,
): CancelIdleReplyIntent => ({
  kind: 'cancel-idle-reply',
  chatId,
  threadId,
  reason,
  startedBefore,
});

/**
 * Customer messages (re)start the thread's timer; a human agent's answer and the thread
 * closing stop it. An unknown author may be a human agent: scheduling is still safe, because
 * the fire-time decision reads the chat's users and never nudges after an agent's message.
 */
export const routeIdleReply = (
  webhook: RoutedWebhook,
  settings: IdleReplySettings,
): IdleReplyIntent[] => {
  const { thread } = webhook;
  if (!settings.enabled) {
    return [];
  }
  switch (webhook.action) {
    case 'incoming_chat': {
      if (thread === undefined) {
        return [];
      }
      // The timer starts from the last customer message, unless a human agent answered it.
      let lastWaiting: ChatEvent | undefined;
      for (const { event, kind } of thread.events) {
        if (isCustomerLike(kind) && isWaitingEvent(event)) {
          lastWaiting = event;
        } else if (kind === 'agent' && isAnswerEvent(event)) {
          lastWaiting = undefined;
        }
      }
      return lastWaiting === undefined ? [] : [schedule(webhook, settings, thread, lastWaiting)];
    }
    case 'incoming_event': {
      const [authored] = thread?.events ?? [];
      if (thread === undefined || authored === undefined) {
        return [];
      }
      const { event, kind } = authored;
      if (kind === 'agent') {
        return isAnswerEvent(event)
          ? [
              cancel(
                thread.chatId,
                thread.threadId,
                'agent answered',
                parseTimestamp(event.created_at),
              ),
            ]
          : [];
      }
      return isCustomerLike(kind) && isWaitingEvent(event)
        ? [schedule(webhook, settings, thread, event)]
        : [];
    }
    case 'chat_deactivated':
      // Every message of a thread precedes its closing: its timer goes, whatever started it.
      return [cancel(webhook.payload.chat_id, webhook.payload.thread_id, 'chat deactivated')];
    default:
      return [];
  }
};

/** The thread's timer: one pending nudge per thread. */
const timerOf = (organizationId: string, chatId: string, threadId: string) =>
  ['idle-timer', organizationId, chatId, threadId] as const;

/**
 * (Re)starts a thread's timer for the customer message `eventId`. The job id names the
 * message, so a duplicate webhook is a no-op; the timer id makes each message replace the
 * pending nudge and start the delay again.
 */
export const scheduleNudge = (
  organizationId: string,
  { chatId, threadId, eventId, startedAt, delayMs }: Omit<ScheduleIdleReplyIntent, 'kind'>,
): JobRequest => ({
  op: 'add',
  name: 'nudge',
  data: { organizationId, chatId, threadId, eventId, startedAt },
  id: ['idle', organizationId, chatId, threadId, eventId],
  delayMs: Math.max(0, delayMs),
  timer: timerOf(organizationId, chatId, threadId),
});

export const idleReplyRequest = (intent: IdleReplyIntent, organizationId: string): JobRequest =>
  intent.kind === 'schedule-idle-reply'
    ? scheduleNudge(organizationId, intent)
    : {
        op: 'cancel-timer',
        timer: timerOf(organizationId, intent.chatId, intent.threadId),
        startedBefore: intent.startedBefore,
      };
