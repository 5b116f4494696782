/**
 * How a failed LiveChat call should be treated: `rate_limited` — back off the whole queue;
 * `retryable` — retry with backoff; `unrecoverable` — retrying will not help.
 */
export type LivechatErrorKind = 'rate_limited' | 'retryable' | 'unrecoverable';

export type LivechatErrorDetails = {
  /**
   * LiveChat's `error.type` (`validation`, `chat_inactive`, …), or ours when LiveChat sent
   * none: `http_error` (no parseable error body), `timeout`, `aborted`, `network_error`,
   * `invalid_response` (failed our schema), `token_unavailable` (bot token cache/lock).
   */
  type: string;
  /** Already free of secrets. */
  message: string;
  /** The API action, e.g. `send_event`. */
  action: string;
  version: string;
  /** HTTP status; undefined when no response arrived. */
  status?: number;
  /** LiveChat's `error.data` (e.g. `{ region }` for `misdirected_request`), secrets removed. */
  data?: unknown;
  /** From a `Retry-After` header (not documented by LiveChat; used when present). */
  retryAfterMs?: number;
  /** A sanitized stand-in for the underlying error, never the original object. */
  cause?: Error;
};

/** A failed LiveChat API call. Never carries tokens, secrets or the Authorization header. */
export class LivechatError extends Error {
  readonly kind: LivechatErrorKind;
  readonly type: string;
  readonly action: string;
  readonly version: string;
  readonly status: number | undefined;
  readonly data: unknown;
  readonly retryAfterMs: number | undefined;

  constructor(kind: LivechatErrorKind, details: LivechatErrorDetails) {
    super(
      `LiveChat ${details.action} (v${details.version}) failed: ${details.type}: ${details.message}`,
      details.cause ? { cause: details.cause } : undefined,
    );
    this.name = 'LivechatError';
    this.kind = kind;
    this.type = details.type;
    this.action = details.action;
    this.version = details.version;
    this.status = details.status;
    this.data = details.data;
    this.retryAfterMs = details.retryAfterMs;
  }

  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      message: this.message,
      kind: this.kind,
      type: this.type,
      action: this.action,
      version: this.version,
      status: this.status,
      data: this.data,
      retryAfterMs: this.retryAfterMs,
    };
  }
}

/** `too_many_requests` (or a bare HTTP 429): rate-limit the queue. */
export class LivechatRateLimitedError extends LivechatError {
  constructor(details: LivechatErrorDetails) {
    super('rate_limited', details);
    this.name = 'LivechatRateLimitedError';
  }
}

/**
 * `internal`, `service_unavailable`, `request_timeout`, `misdirected_request`, 5xx, network
 * errors, timeouts.
 */
export class LivechatRetryableError extends LivechatError {
  constructor(details: LivechatErrorDetails) {
    super('retryable', details);
    this.name = 'LivechatRetryableError';
  }
}

/** Everything else: validation, authorization, not_found, chat_inactive, schema drift, … */
export class LivechatUnrecoverableError extends LivechatError {
  constructor(details: LivechatErrorDetails) {
    super('unrecoverable', details);
    this.name = 'LivechatUnrecoverableError';
  }
}

/** Builds the error class matching `kind`. */
export const createLivechatError = (
  kind: LivechatErrorKind,
  details: LivechatErrorDetails,
): LivechatError => {
  switch (kind) {
    case 'rate_limited':
      return new LivechatRateLimitedError(details);
    case 'retryable':
      return new LivechatRetryableError(details);
    default:
      return new LivechatUnrecoverableError(details);
  }
};

const RATE_LIMITED_TYPES: ReadonlySet<string> = new Set(['too_many_requests']);
const RETRYABLE_TYPES: ReadonlySet<string> = new Set([
  'internal',
  'service_unavailable',
  'request_timeout',
  // "Should be performed to another region": the client retries there at once; should that
  // fail too, a later attempt starts from the region it learnt.
  'misdirected_request',
]);
// The documented catalogue (https://platform.text.com/docs/messaging/agent-chat-api#possible-errors). A type outside it
// is new to us, so its HTTP
// status decides instead (a new 5xx-ish type should not park jobs as unrecoverable).
const KNOWN_TYPES: ReadonlySet<string> = new Set([
  ...RATE_LIMITED_TYPES,
  ...RETRYABLE_TYPES,
  'agent_offline',
  'already_exists',
  'authentication',
  'authorization',
  'chat_anonymized',
  'chat_inactive',
  'entity_too_large',
  'group_not_found',
  'license_expired',
  'license_not_found',
  'limit_reached',
  'missing_access',
  'not_allowed',
  'not_found',
  'ownership_transfer',
  'pending_requests_limit_reached',
  'unsupported_version',
  'validation',
  'wrong_product_version',
]);

/**
 * Classifies a LiveChat error: by `error.type` when LiveChat sent a known one (HTTP statuses
 * per type are undocumented), else by HTTP status — 429 rate-limited, 408/5xx retryable.
 */
export const classifyLivechatError = ({
  type,
  status,
}: {
  type?: string | undefined;
  status?: number | undefined;
}): LivechatErrorKind => {
  if (type !== undefined && KNOWN_TYPES.has(type)) {
    if (RATE_LIMITED_TYPES.has(type)) {
      return 'rate_limited';
    }
    return RETRYABLE_TYPES.has(type) ? 'retryable' : 'unrecoverable';
  }
  if (status === 429) {
    return 'rate_limited';
  }
  if (status !== undefined && (status === 408 || status >= 500)) {
    return 'retryable';
  }
  return 'unrecoverable';
};

const REDACTED = '[redacted]';

/** Replaces every occurrence of a secret in `text`. */
export const redactText = (text: string, secrets: Iterable<string>): string => {
  let result = text;
  for (const secret of secrets) {
    // Very short strings would shred ordinary text; real secrets are long.
    if (secret.length >= 6) {
      result = result.replaceAll(secret, REDACTED);
    }
  }
  return result;
};

/** A JSON-like value with every string redacted (LiveChat's `error.data`). */
export const redactValue = (value: unknown, secrets: Iterable<string>, depth = 0): unknown => {
  if (typeof value === 'string') {
    return redactText(value, secrets);
  }
  if (depth > 8 || value === null || typeof value !== 'object') {
    return value;
  }
  if (Array.isArray(value)) {
    return value.map((item) => redactValue(item, secrets, depth + 1));
  }
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [key, redactValue(item, secrets, depth + 1)]),
  );
};

/**
 * A stand-in for a thrown value: its name, message and (for fetch failures) the underlying
 * system error's code and message, redacted. The original may reference request options.
 */
export const sanitizeCause = (err: unknown, secrets: Iterable<string>): Error => {
  const parts: string[] = [];
  let name = 'Error';
  if (err instanceof Error) {
    name = err.name;
    parts.push(err.message);
    const inner: unknown = err.cause;
    if (inner instanceof Error) {
      const code = (inner as Error & { code?: unknown }).code;
      parts.push(typeof code === 'string' ? `${code}: ${inner.message}` : inner.message);
    }
  } else {
    parts.push(String(err));
  }
  const cause = new Error(redactText(parts.join(' — '), secrets));
  cause.name = name;
  return cause;
};
