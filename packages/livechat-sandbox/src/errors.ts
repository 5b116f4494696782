import type { JsonObject } from './json.js';

/**
 * LiveChat documents error *types* but not the HTTP status of each
 * (https://platform.text.com/docs/messaging/agent-chat-api#possible-errors). The statuses below are our pick; clients should key on `error.type`.
 */
const ERROR_STATUS: Readonly<Record<string, number>> = {
  authentication: 401,
  authorization: 403,
  missing_access: 403,
  not_allowed: 403,
  validation: 400,
  unsupported_version: 400,
  wrong_product_version: 400,
  limit_reached: 400,
  not_found: 404,
  license_not_found: 404,
  group_not_found: 404,
  already_exists: 409,
  ownership_transfer: 409,
  // 422 rather than 400: the request is well-formed, the chat's state forbids it.
  chat_inactive: 422,
  agent_offline: 422,
  chat_anonymized: 422,
  license_expired: 402,
  misdirected_request: 421,
  entity_too_large: 413,
  request_timeout: 408,
  too_many_requests: 429,
  internal: 500,
  service_unavailable: 503,
};

/** HTTP status for an error type; unknown types answer 400. */
export const statusForErrorType = (type: string): number =>
  (Object.hasOwn(ERROR_STATUS, type) ? ERROR_STATUS[type] : undefined) ?? 400;

/**
 * A LiveChat-style API error: answered as `{ "error": { "type", "message", "data"? } }`
 * (`data` for some types, e.g. `{ region }` for misdirected_request).
 */
export class ApiError extends Error {
  readonly type: string;
  readonly status: number;
  readonly data: JsonObject | undefined;

  constructor(
    type: string,
    message: string,
    status = statusForErrorType(type),
    data: JsonObject | undefined = undefined,
  ) {
    super(message);
    this.name = 'ApiError';
    this.type = type;
    this.status = status;
    this.data = data;
  }

  toBody(): { error: JsonObject } {
    return {
      error: {
        type: this.type,
        message: this.message,
        ...(this.data === undefined ? {} : { data: this.data }),
      },
    };
  }
}

export const validationError = (message: string): ApiError => new ApiError('validation', message);
export const notFound = (message: string): ApiError => new ApiError('not_found', message);
