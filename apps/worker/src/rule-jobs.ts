import type { OrganizationRules } from '@nudge/config';
import { UnrecoverableError } from '@nudge/queues';
import type { Job } from 'bullmq';
import type { z } from 'zod';
import { type JobOutcome, skipped, type WorkerContext } from '../context.js';

/** The first few zod issues as `path: message; …`, for a job's failed reason. */
export const describeIssues = (
  issues: readonly { path: PropertyKey[]; message: string }[],
): string =>
  issues
    .slice(0, 5)
    .map((issue) => `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`)
    .join('; ');

/** The job's data parsed with its catalog schema; a mismatch fails the job without retries. */
export const parseJobData = <S extends z.ZodType>(job: Job, schema: S): z.output<S> => {
  const parsed = schema.safeParse(job.data);
  if (!parsed.success) {
    throw new UnrecoverableError(`invalid job data: ${describeIssues(parsed.error.issues)}`);
  }
  return parsed.data;
};

export const notConfigured = (organizationId: string): JobOutcome =>
  skipped(`organization ${organizationId} is not in the rules file`);

/**
 * A rule job: parses its data, finds its organization in the rules file (skipping the job when
 * it isn't there, e.g. removed since the job was queued), then runs `act`.
 */
export const runRuleJob = async <S extends z.ZodType<{ organizationId: string }>>(
  job: Job,
  ctx: WorkerContext,
  schema: S,
  act: (data: z.output<S>, organization: OrganizationRules) => Promise<JobOutcome>,
): Promise<JobOutcome> => {
  const data = parseJobData(job, schema);
  const organization = ctx.rules.organizations.get(data.organizationId);
  return organization ? act(data, organization) : notConfigured(data.organizationId);
};
