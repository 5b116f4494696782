import { z } from 'zod';

// Pieces every rule's settings schema is built from. Objects are strict so a typo
// (`afterSecond`) is reported instead of silently ignored. Each rule has a full schema (with
// defaults) and an override schema (everything optional, no defaults, so a merge can tell
// "unset" from "set to the default").

export const NonEmptyText = z.string().trim().min(1, { message: 'must not be empty' });

type Override<T> = { [K in keyof T]?: T[K] | null | undefined };

/**
 * Field by field, the override wins when set; `null` removes the default's (optional) value.
 * Values are replaced whole (a rule merges a map per key itself).
 */
export const mergeFields = <T extends object>(
  defaults: T,
  override: Override<T> | undefined,
): T => {
  const merged: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [field, value] of Object.entries(override ?? {})) {
    if (value === null) {
      delete merged[field];
    } else if (value !== undefined) {
      merged[field] = value;
    }
  }
  return merged as T;
};
