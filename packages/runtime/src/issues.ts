import type { z } from 'zod';

type Issue = Pick<z.core.$ZodIssue, 'path' | 'message'>;

/** One zod issue as `path.to.key: message` (just the message at the root). */
export const formatIssue = ({ path, message }: Issue): string => {
  const where = path.map(String).join('.');
  return where ? `${where}: ${message}` : message;
};

/** Every issue, one line each: what a `ConfigError` lists. */
export const formatIssues = (issues: readonly Issue[]): string[] => issues.map(formatIssue);

/** The first `limit` issues on one line (`a: …; b: …`), for a log field or a job's failed reason. */
export const describeIssues = (issues: readonly Issue[], limit = 5): string =>
  issues.slice(0, limit).map(formatIssue).join('; ');
