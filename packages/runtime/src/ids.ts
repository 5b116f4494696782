import { hash } from 'node:crypto';

/**
 * The one recipe for ids derived from data: `<kind>-<128-bit hex of the parts>`. Safe as a
 * BullMQ job id and a Redis key part (no `:`, never all digits); parts are joined with NUL so
 * `('a:b', 'c')` and `('a', 'b:c')` differ.
 */
export const hashedId = (kind: string, ...parts: string[]): string =>
  `${kind}-${hash('sha256', parts.join('\u0000'), 'hex').slice(0, 32)}`;

/** A short, non-reversible mark of a secret, to tell which one is in use without showing it. */
export const fingerprint = (secret: string): string => hash('sha256', secret, 'hex').slice(0, 8);
