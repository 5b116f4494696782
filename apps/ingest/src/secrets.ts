import { hash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => hash('sha256', value, 'buffer');

/**
 * Returns a check of a webhook's `secret_key` against every configured secret (several during
 * rotation). Comparing SHA-256 digests with `timingSafeEqual` keeps the time independent of
 * where the strings differ and of their lengths, and every secret is compared every time.
 */
export const createSecretVerifier = (
  secrets: readonly string[],
): ((candidate: unknown) => boolean) => {
  const expected = secrets.map(digest);
  return (candidate) => {
    if (typeof candidate !== 'string') {
      return false;
    }
    const actual = digest(candidate);
    let matched = false;
    for (const secret of expected) {
      matched = timingSafeEqual(actual, secret) || matched;
    }
    return matched;
  };
};
