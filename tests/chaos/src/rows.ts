import { QUEUE_NAMES } from '@nudge/queues';
import { customIdFor, normaliseKeyword } from '@nudge/rules';
import { afterEach, expect } from 'vitest';
import { type ChaosStack, type ChaosStackOptions, startChaosStack } from './chaos-stack.js';
import {
  checkInvariants,
  type Expectations,
  type ExpectedAction,
  type InvariantReport,
} from './invariants.js';

type ThreadRef = { chatId: string; threadId: string };

/** The bot messages a row expects, by custom_id, as `checkInvariants` takes them. */
export const expectedActions = (chaos: Pick<ChaosStack, 'organizationId'>) => {
  const actions = new Map<string, ExpectedAction>();
  const add = (
    rule: 'tag' | 'keyword' | 'rating' | 'idle-reply',
    queue: string,
    { chatId, threadId }: ThreadRef,
    key: string,
  ) => {
    const customId = customIdFor({
      rule,
      organizationId: chaos.organizationId,
      chatId,
      threadId,
      key,
    });
    actions.set(customId, { queue, chatId });
    return customId;
  };
  return {
    actions,
    tag: (ref: ThreadRef, tag = 'refund') => add('tag', QUEUE_NAMES.cannedResponses, ref, tag),
    keyword: (ref: ThreadRef, keyword: string) =>
      add('keyword', QUEUE_NAMES.cannedResponses, ref, normaliseKeyword(keyword)),
    rating: (ref: ThreadRef, score: number) =>
      add('rating', QUEUE_NAMES.ratingReactions, ref, String(score)),
    /** The idle nudge answering the customer message `eventId`. */
    idle: (ref: ThreadRef, eventId: string) =>
      add('idle-reply', QUEUE_NAMES.idleReply, ref, eventId),
  };
};

/** With CHAOS_VERBOSE set, one line per row: what was delivered, sent, failed and kept. */
export const logReport = (row: string, report: InvariantReport) => {
  if (process.env.CHAOS_VERBOSE) {
    const { census } = report;
    console.log(
      `[chaos] ${row}: ${report.acknowledged}/${report.webhooks} webhooks answered 200, ${report.botMessages} bot messages, ${report.failedJobs.length} failed jobs, ${report.lost.length} lost, ${report.duplicated.length} duplicated; Redis ${census.keys} keys (${census.expiring} expiring, ${census.retainedJobKeys} retained job keys), used_memory ${census.usedMemory}; violations: ${report.violations.length}`,
    );
  }
};

/**
 * One chaos stack per test: `start` it in the test; after the test (unless it failed already)
 * the invariants are checked with what the row said to `expect`, and the stack stops.
 */
export const chaosRows = () => {
  let current: { chaos: ChaosStack; expectations: Expectations } | undefined;
  afterEach(async ({ task }) => {
    const row = current;
    current = undefined;
    if (!row) {
      return;
    }
    try {
      if (task.result?.state !== 'fail') {
        const report = await checkInvariants(row.chaos, row.expectations);
        logReport(task.name, report);
        expect(report.violations).toEqual([]);
      }
    } finally {
      await row.chaos.stop();
    }
  });
  return {
    start: async (options?: ChaosStackOptions): Promise<ChaosStack> => {
      const chaos = await startChaosStack(options);
      current = { chaos, expectations: {} };
      return chaos;
    },
    /** What the invariants expect of this row (merged over what was said before). */
    expect: (expectations: Expectations) => {
      if (!current) {
        throw new Error('start the row first');
      }
      Object.assign(current.expectations, expectations);
    },
  };
};
