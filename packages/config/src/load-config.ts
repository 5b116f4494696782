import { ConfigError, formatIssues } from '@nudge/runtime';
import type { z } from 'zod';

export { ConfigError };

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
