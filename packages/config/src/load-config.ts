import type { z } from 'zod';

/** Thrown when the environment is invalid; the message lists every bad key at once. */
export class ConfigError extends Error {
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(`Invalid configuration:\n${issues.map((issue) => `  - ${issue}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

/** Formats zod issues as `KEY: message` lines. */
export const formatIssues = (issues: readonly z.core.$ZodIssue[]): string[] =>
  issues.map((issue) => {
    const path = issue.path.map(String).join('.');
    return path ? `${path}: ${issue.message}` : issue.message;
  });

/**
 * Parses `env` with `schema`, reporting every bad key in one `ConfigError`.
 * Empty strings count as unset, so `PORT=` falls back to the default instead of 0.
 */
export const loadConfig = <S extends z.ZodType>(
  schema: S,
  env: Record<string, string | undefined>,
): z.output<S> => {
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''));
  const result = schema.safeParse(present);
  if (!result.success) {
    throw new ConfigError(formatIssues(result.error.issues));
  }
  return result.data;
};
