import { describe, expect, it } from 'vitest';
import { jwtExpiryMs, tokenExpiry } from './bot-token.js';

const jwt = (claims: object) =>
  ['{"alg":"HS256"}', JSON.stringify(claims)]
    .map((part) => Buffer.from(part).toString('base64url'))
    .concat('signature')
    .join('.');

describe('bot token expiry', () => {
  it('reads the exp claim of a JWT and ignores other tokens', () => {
    expect(jwtExpiryMs(jwt({ exp: 1_900_000_000 }))).toBe(1_900_000_000_000);
    expect(jwtExpiryMs(jwt({ sub: 'x' }))).toBeUndefined();
    expect(jwtExpiryMs('dal:opaque-token')).toBeUndefined();
    expect(jwtExpiryMs('a.%%%.c')).toBeUndefined();
  });

  it('takes the earliest of the configured validity, expires_in and exp', () => {
    const issuedAt = 1_000_000_000_000;
    const day = 86_400_000;
    expect(tokenExpiry({ token: 'opaque' }, issuedAt, day)).toBe(issuedAt + day);
    expect(tokenExpiry({ token: 'opaque', expiresInMs: 3_600_000 }, issuedAt, day)).toBe(
      issuedAt + 3_600_000,
    );
    const exp = (issuedAt + 60_000) / 1000;
    expect(tokenExpiry({ token: jwt({ exp }) }, issuedAt, day)).toBe(issuedAt + 60_000);
    // An exp in the past (clock skew) is ignored rather than making every token stale.
    expect(tokenExpiry({ token: jwt({ exp: issuedAt / 1000 - 10 }) }, issuedAt, day)).toBe(
      issuedAt + day,
    );
  });
});
