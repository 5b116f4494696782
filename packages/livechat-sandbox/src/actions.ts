import { hasScope, type Requester } from './auth.js';
import type { Chats } from './chats.js';
import { ApiError } from './errors.js';
import type { Clock } from './ids.js';
import type { JsonObject, JsonValue } from './json.js';
import type { ApiVersion, Store } from './store.js';
import type { WebhookSource } from './webhooks.js';

export type ActionContext = {
  version: ApiVersion;
  /** Undefined only for actions that need no authorization. */
  requester: Requester | undefined;
  body: JsonObject;
  store: Store;
  clock: Clock;
  chats: Chats;
  botTokenTtlMs: number;
};

export type ScopeRule = { anyOf: string[] } | { allOf: string[] };

export type ActionDefinition = {
  /** `none`: callable without credentials (list_webhook_names only). */
  auth: 'required' | 'none';
  scopes?: ScopeRule;
  handle: (ctx: ActionContext) => JsonValue;
};

export type ActionTable = Readonly<Record<string, ActionDefinition>>;

/** The requester, for actions with `auth: 'required'`. */
export const requesterOf = (ctx: ActionContext): Requester => {
  if (!ctx.requester) {
    throw new ApiError('authentication', 'Missing Authorization header');
  }
  return ctx.requester;
};

/** API calls are attributed to the credentials' client ID for the `source_type` filter. */
export const sourceOf = (requester: Requester): WebhookSource => ({
  kind: 'client',
  clientId: requester.clientId,
});

/** Missing scope → `authorization` (token scopes are fixed when the token is issued). */
export const checkScopes = (requester: Requester, rule: ScopeRule | undefined): void => {
  if (!rule) {
    return;
  }
  if ('anyOf' in rule) {
    if (!rule.anyOf.some((scope) => hasScope(requester.scopes, scope))) {
      throw new ApiError('authorization', `Missing scope: one of ${rule.anyOf.join(', ')}`);
    }
    return;
  }
  const missing = rule.allOf.filter((scope) => !hasScope(requester.scopes, scope));
  if (missing.length > 0) {
    throw new ApiError('authorization', `Missing scope: ${missing.join(', ')}`);
  }
};

/** Opaque page IDs: base64 of the offset and the query they continue. */
export const encodePageId = (page: JsonObject): string =>
  Buffer.from(JSON.stringify(page)).toString('base64');

export const decodePageId = (pageId: string): JsonObject => {
  try {
    const value: unknown = JSON.parse(Buffer.from(pageId, 'base64').toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as JsonObject;
    }
  } catch {
    // fall through
  }
  throw new ApiError('validation', '`page_id` is invalid');
};
