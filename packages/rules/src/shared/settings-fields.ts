import { z } from 'zod';

// Pieces every rule's settings schema is built from. Objects are strict so a typo
// (`afterSecond`) is reported instead of silently ignored. Each rule has a full schema (with
// defaults) and an override schema (everything optional, no defaults, so a merge can tell
// "unset" from "set to the default").

export const NonEmptyText = z.string().trim().min(1, { message: 'must not be empty' });

/** Scalars: the override wins when set. `null`: removes the default's optional value. */
export const pick = <T>(base: T | undefined, override: T | null | undefined): T | undefined =>
  override === null ? undefined : (override ?? base);

export const withoutUndefined = <T extends Record<string, unknown>>(value: T): T =>
  Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
