import type { LivechatSkippedEvent } from '@nudge/livechat';
import { describeIssues } from '@nudge/runtime';
import { Counter, type Logger, type Registry } from '@nudge/telemetry';

export const EVENTS_SKIPPED_METRIC = 'nudge_livechat_events_skipped_total';

/** Reports one skipped event: a warning (on `log`, else the reporter's) and the counter. */
export type SkippedEventReporter = (skipped: LivechatSkippedEvent, log?: Logger) => void;

type CreateSkippedEventReporterOptions = { registry: Registry; log: Logger };

/**
 * Events of a thread (get_chat, list_threads, incoming_chat) that don't parse are left out so
 * the chat's rules still run; each one is a schema drift worth seeing, so it is logged and
 * counted by reason.
 */
export const createSkippedEventReporter = ({
  registry,
  log,
}: CreateSkippedEventReporterOptions): SkippedEventReporter => {
  const skippedTotal = new Counter({
    name: EVENTS_SKIPPED_METRIC,
    help: 'LiveChat thread events left out because they do not match our schemas',
    labelNames: ['reason'],
    registers: [registry],
  });
  return (skipped, eventLog = log) => {
    skippedTotal.inc({ reason: skipped.reason });
    eventLog.warn(
      {
        action: skipped.action,
        chatId: skipped.chatId,
        threadId: skipped.threadId,
        eventId: skipped.id,
        eventType: skipped.type,
        index: skipped.index,
        reason: skipped.reason,
        issues: describeIssues(skipped.issues),
      },
      'LiveChat event skipped: it does not match our schema',
    );
  };
};
