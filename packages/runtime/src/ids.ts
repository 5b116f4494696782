import { hash } from 'node:crypto';

/**
 * The one recipe for ids derived from data: SHA-256 (hex) of the parts joined with NUL, so
 * `('a:b', 'c')` and `('a', 'b:c')` differ. Pure: the rules use it for custom ids too.
 */
export const digestOf = (parts: readonly string[]): string =>
  hash('sha256', parts.join('\u0000'), 'hex');

/**
 * `<kind>-<128-bit hex of the parts>`: safe as a BullMQ job id and a Redis key part (no `:`,
 * never all digits).
 */
export const hashedId = (kind: string, ...parts: string[]): string =>
  `${kind}-${digestOf(parts).slice(0, 32)}`;

/** A short, non-reversible mark of a secret, to tell which one is in use without showing it. */
export const fingerprint = (secret: string): string => digestOf([secret]).slice(0, 8);
