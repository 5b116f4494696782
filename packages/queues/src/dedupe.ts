import { randomUUID } from 'node:crypto';
import { createRedisKeys, hashedId, REDIS_TTL_MS, type RedisClient } from '@nudge/runtime';

// LiveChat sends no delivery id and retries (timeouts, non-200s), so duplicates are told apart
// by the event itself. These are the natural ids per action; `undefined` parts (a payload that
// doesn't match the docs) fall back to hashing the whole payload, key order ignored.
type Parts = (string | undefined)[];
const NATURAL_IDS: Record<string, (payload: Record<string, unknown>) => Parts> = {
  incoming_chat: (p) => [text(p, 'chat', 'id'), text(p, 'chat', 'thread', 'id')],
  incoming_event: (p) => [text(p, 'chat_id'), text(p, 'thread_id'), text(p, 'event', 'id')],
  // One event can be edited many times: each version is its own delivery.
  event_updated: (p) => [text(p, 'chat_id'), text(p, 'event', 'id'), canonicalJson(p.event)],
  // Tag/untag may legitimately repeat; rules re-read the thread's tags, so one per 24 h is enough.
  thread_tagged: (p) => [text(p, 'chat_id'), text(p, 'thread_id'), text(p, 'tag')],
  thread_untagged: (p) => [text(p, 'chat_id'), text(p, 'thread_id'), text(p, 'tag')],
  chat_deactivated: (p) => [text(p, 'chat_id'), text(p, 'thread_id')],
  user_added_to_chat: (p) => [text(p, 'chat_id'), text(p, 'thread_id'), text(p, 'user', 'id')],
};

// A routing status is state, not an event: it legitimately flips back to an earlier value
// (accepting → not accepting → accepting), and such a flip looks exactly like a retry of the
// first delivery. Every delivery is applied; writing the same status twice is harmless.
const UNDEDUPLICATED_ACTIONS: ReadonlySet<string> = new Set(['routing_status_set']);

/** False for actions whose every delivery is applied (state, not events). */
export const isDeduplicated = (action: string): boolean => !UNDEDUPLICATED_ACTIONS.has(action);

/**
 * How long a delivery counts as a duplicate of an earlier one: 24 h outlasts every retry
 * schedule LiveChat has documented (3 in ~1 min now, 10 in 6 h before).
 */
export const DEDUPE_HORIZON_MS = REDIS_TTL_MS.dedupe;

const text = (value: unknown, ...path: string[]): string | undefined => {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[key];
  }
  if (typeof current === 'string' && current.length > 0) {
    return current;
  }
  return typeof current === 'number' ? String(current) : undefined;
};

/** JSON with object keys sorted, so equal values give equal strings whatever the key order. */
export const canonicalJson = (value: unknown): string => {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(',')}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.keys(value)
      .sort()
      .map(
        (key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`,
      );
    return `{${entries.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
};

export type DedupeInput = {
  organizationId: string;
  action: string;
  payload: Record<string, unknown>;
};

/**
 * The deterministic id of a LiveChat event: `<action>-<128-bit hex>`, hashed from the
 * organization, the action and the event's natural ids (unique per delivery for actions that
 * are not deduplicated). Safe as a BullMQ job id (no `:`, never all digits).
 */
export const deriveDedupeKey = ({ organizationId, action, payload }: DedupeInput): string => {
  const natural = NATURAL_IDS[action]?.(payload);
  const parts = !isDeduplicated(action)
    ? ['delivery', randomUUID()]
    : natural?.every((part): part is string => part !== undefined) === true
      ? natural
      : ['payload', canonicalJson(payload)];
  return hashedId(action, organizationId, action, ...parts);
};

export type ClaimResult = 'first' | 'same' | 'duplicate';

export type ClaimDeliveryOptions = {
  redis: RedisClient;
  /** The prefix of Nudge's keys (`RedisLayout.keyPrefix`). */
  prefix: string;
  dedupeKey: string;
  action: string;
  /** Identifies this stored copy, e.g. `<jobId>@<job.timestamp>`. */
  claimant: string;
};

/**
 * Claims an event for processing for 24 h, independent of how long jobs are retained:
 * `first` — nobody had it; `same` — this claimant had it already (a retry of the same job);
 * `duplicate` — another copy of the event claimed it, skip. One atomic command; no command at
 * all for actions that are not deduplicated.
 */
export const claimDelivery = async ({
  redis,
  prefix,
  dedupeKey,
  action,
  claimant,
}: ClaimDeliveryOptions): Promise<ClaimResult> => {
  if (!isDeduplicated(action)) {
    return 'first';
  }
  const previous = await redis.set(
    createRedisKeys(prefix).dedupe(dedupeKey),
    claimant,
    'PX',
    DEDUPE_HORIZON_MS,
    'NX',
    'GET',
  );
  if (previous === null) {
    return 'first';
  }
  return previous === claimant ? 'same' : 'duplicate';
};
