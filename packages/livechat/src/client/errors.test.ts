import { describe, expect, it } from 'vitest';
import {
  classifyLivechatError,
  createLivechatError,
  LivechatRateLimitedError,
  LivechatRetryableError,
  LivechatUnrecoverableError,
  redactText,
  redactValue,
  sanitizeCause,
} from './errors.js';

describe('classifyLivechatError', () => {
  it.each([
    [{ type: 'too_many_requests', status: 429 }, 'rate_limited'],
    [{ type: 'too_many_requests', status: 400 }, 'rate_limited'],
    [{ type: 'internal', status: 500 }, 'retryable'],
    [{ type: 'service_unavailable', status: 200 }, 'retryable'],
    [{ type: 'request_timeout', status: 408 }, 'retryable'],
    [{ type: 'validation', status: 500 }, 'unrecoverable'],
    [{ type: 'authentication', status: 401 }, 'unrecoverable'],
    [{ type: 'misdirected_request', status: 421 }, 'retryable'],
    [{ type: 'unheard_of', status: 503 }, 'retryable'],
    [{ type: 'unheard_of', status: 422 }, 'unrecoverable'],
    [{ status: 429 }, 'rate_limited'],
    [{ status: 502 }, 'retryable'],
    [{ status: 408 }, 'retryable'],
    [{ status: 404 }, 'unrecoverable'],
    [{}, 'unrecoverable'],
  ] as const)('%o → %s', (input, kind) => {
    expect(classifyLivechatError(input)).toBe(kind);
  });
});

describe('createLivechatError', () => {
  it('builds the subclass for the kind, with its fields in JSON', () => {
    const details = { type: 'internal', message: 'boom', action: 'get_chat', version: '3.6' };
    expect(createLivechatError('rate_limited', details)).toBeInstanceOf(LivechatRateLimitedError);
    expect(createLivechatError('unrecoverable', details)).toBeInstanceOf(
      LivechatUnrecoverableError,
    );
    const err = createLivechatError('retryable', { ...details, status: 500 });
    expect(err).toBeInstanceOf(LivechatRetryableError);
    expect(JSON.parse(JSON.stringify(err))).toMatchObject({
      name: 'LivechatRetryableError',
      kind: 'retryable',
      type: 'internal',
      status: 500,
      action: 'get_chat',
      message: 'LiveChat get_chat (v3.6) failed: internal: boom',
    });
  });
});

describe('redaction', () => {
  const secrets = ['s3cret-token-value', 'pat-abcdef'];

  it('replaces secrets in text and nested values', () => {
    expect(redactText('Bearer s3cret-token-value and pat-abcdef', secrets)).toBe(
      'Bearer [redacted] and [redacted]',
    );
    expect(
      redactValue({ a: ['x pat-abcdef'], b: { c: 's3cret-token-value' }, n: 1 }, secrets),
    ).toEqual({ a: ['x [redacted]'], b: { c: '[redacted]' }, n: 1 });
  });

  it('sanitizeCause keeps the system error code, drops the original object', () => {
    const inner = Object.assign(new Error('connect ECONNREFUSED pat-abcdef'), {
      code: 'ECONNREFUSED',
    });
    const original = new TypeError('fetch failed', { cause: inner });
    const cause = sanitizeCause(original, secrets);
    expect(cause).not.toBe(original);
    expect(cause.name).toBe('TypeError');
    expect(cause.message).toBe('fetch failed — ECONNREFUSED: connect ECONNREFUSED [redacted]');
    expect(cause.cause).toBeUndefined();
  });
});
