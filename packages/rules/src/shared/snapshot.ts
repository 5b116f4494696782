import { z } from 'zod';

// The part of a get_chat response the fire-time decisions read. Structural and lenient: the
// API client's parsed `Chat` is assignable to it, and a field of an unexpected type (an event
// type we don't model) reads as absent instead of failing the decision.

const optionalText = z.string().optional().catch(undefined);

export const SnapshotEvent = z.object({
  id: z.string(),
  type: z.string(),
  // Absent on system messages.
  author_id: optionalText,
  // RFC 3339 with microseconds.
  created_at: optionalText,
  custom_id: optionalText,
  // all | agents (absent = all).
  visibility: optionalText,
  text: optionalText,
  system_message_type: optionalText,
  text_vars: z.record(z.string(), z.unknown()).optional().catch(undefined),
  // v3.6: the customer deleted it. Bots read it without its content (no `text`).
  deleted: z.boolean().optional().catch(undefined),
});
export type SnapshotEvent = z.output<typeof SnapshotEvent>;

const SnapshotUser = z.object({ id: z.string(), type: z.string() });

/** A chat with one thread, as get_chat returns it (only what the rules read). */
export const ChatSnapshot = z.object({
  id: z.string(),
  users: z.array(SnapshotUser).default([]),
  thread: z.object({
    id: z.string(),
    active: z.boolean(),
    events: z.array(SnapshotEvent).default([]),
    // Absent when the thread has no tags.
    tags: z.array(z.string()).optional().catch(undefined),
    // `{ <namespace>: { <name>: value } }`, e.g. `{ rating: { score: 1, comment: '…' } }`.
    properties: z.record(z.string(), z.record(z.string(), z.unknown())).optional().catch(undefined),
  }),
});
export type ChatSnapshot = z.output<typeof ChatSnapshot>;

/** Milliseconds since epoch of an RFC 3339 timestamp, or undefined when unparseable. */
export const parseTimestamp = (value: unknown): number | undefined => {
  if (typeof value !== 'string') {
    return undefined;
  }
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
};
