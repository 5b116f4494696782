import { describe, expect, it } from 'vitest';
import { createSecretVerifier } from './secrets.js';

describe('createSecretVerifier', () => {
  const verify = createSecretVerifier(['current-secret', 'previous-secret']);

  it('accepts each configured secret during a rotation', () => {
    expect(verify('current-secret')).toBe(true);
    expect(verify('previous-secret')).toBe(true);
  });

  it('rejects near misses, other lengths and non-strings without throwing', () => {
    // timingSafeEqual throws on unequal lengths: digests keep every comparison equal-length.
    for (const candidate of ['current-secreT', 'current-secret ', '', 'c', 'x'.repeat(10_000)]) {
      expect(verify(candidate)).toBe(false);
    }
    for (const candidate of [
      undefined,
      null,
      42,
      ['current-secret'],
      { toString: () => 'current-secret' },
    ]) {
      expect(verify(candidate)).toBe(false);
    }
  });
});
