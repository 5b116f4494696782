import type { OrganizationRules } from '@nudge/config';
import type { AnyRule, JobOutcome, RuleJob, RuleJobContext } from '@nudge/rules';
import { describeIssues } from '@nudge/runtime';
import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import type { z } from 'zod';
import { actOnce } from './act-once.js';
import { queueOf, skipped, type WorkerContext } from './context.js';
import { applyJobRequest } from './job-requests.js';
import type { Handler } from './processor.js';

/** The job's data parsed with its schema; a mismatch fails the job without retries. */
export const parseJobData = <T>(job: Job, schema: z.ZodType<T>): T => {
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) {
    throw new UnrecoverableError(`invalid job data: ${describeIssues(parsed.error.issues)}`);
  }
  return parsed.data;
};

export const notConfigured = (organizationId: string): JobOutcome =>
  skipped(`organization ${organizationId} is not in the rules file`);

/**
 * What a rule's job may do, for one organization: its settings, LiveChat, its queue.
 * `lockWaitMs`: how long acting waits for the chat's lock (default: two LiveChat timeouts).
 */
export const ruleJobContext = (
  ctx: WorkerContext,
  rule: AnyRule,
  organization: OrganizationRules,
  lockWaitMs?: number,
): RuleJobContext<unknown> => ({
  organizationId: organization.organizationId,
  botIds: organization.botIds,
  settings: (organization.rules as Record<string, unknown>)[rule.key],
  now: ctx.now,
  actOnce: ({ chatId, threadId }, decide) =>
    actOnce({
      ctx,
      organization,
      chatId,
      threadId,
      decide,
      ...(lockWaitMs === undefined ? {} : { lockWaitMs }),
    }),
  request: (request) => applyJobRequest(queueOf(ctx, rule), request, ctx.chatJobs),
});

/**
 * A rule job: parses its data, finds its organization in the rules file (skipping the job when
 * it isn't there, e.g. removed since the job was queued), then runs it.
 */
const runRuleJob = async (
  rule: AnyRule,
  ruleJob: RuleJob<unknown, unknown>,
  job: Job,
  ctx: WorkerContext,
): Promise<JobOutcome> => {
  const data = parseJobData(job, ruleJob.data);
  const { organizationId } = data as { organizationId?: unknown };
  if (typeof organizationId !== 'string') {
    throw new UnrecoverableError('invalid job data: organizationId: missing');
  }
  const organization = ctx.rules.organizations.get(organizationId);
  return organization
    ? ruleJob.run(data, ruleJobContext(ctx, rule, organization))
    : notConfigured(organizationId);
};

/** A rule's queue: one handler per job name of the rule. */
export const ruleHandlers = (rule: AnyRule): Record<string, Handler> =>
  Object.fromEntries(
    Object.entries(rule.jobs).map(([name, ruleJob]): [string, Handler] => [
      name,
      (job, ctx) => runRuleJob(rule, ruleJob, job, ctx),
    ]),
  );
