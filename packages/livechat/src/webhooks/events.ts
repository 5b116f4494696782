import { z } from 'zod';

// Agent Chat API event objects as they appear in webhooks (`payload.event`,
// `chat.thread.events`). Every object is loose: LiveChat adds fields over time.

const EventBase = {
  id: z.string().min(1),
  // RFC 3339 with microseconds; kept as the string LiveChat sent.
  created_at: z.string().optional(),
  custom_id: z.string().optional(),
  // Documented as all | agents; any string tolerated so a new value is not a hard failure.
  visibility: z.string().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
  thread_id: z.string().optional(),
  // v3.6: true on a deleted event (administrators see the original with it).
  deleted: z.boolean().optional(),
};

const MessageEvent = z.looseObject({
  ...EventBase,
  type: z.literal('message'),
  author_id: z.string(),
  text: z.string(),
  postback: z.looseObject({}).optional(),
});

// The only event type without an author.
const SystemMessageEvent = z.looseObject({
  ...EventBase,
  type: z.literal('system_message'),
  system_message_type: z.string(),
  text: z.string().optional(),
  text_vars: z.record(z.string(), z.unknown()).optional(),
});

const FileEvent = z.looseObject({
  ...EventBase,
  type: z.literal('file'),
  author_id: z.string(),
  url: z.string(),
  name: z.string().optional(),
  content_type: z.string().optional(),
});

const FilledFormEvent = z.looseObject({
  ...EventBase,
  type: z.literal('filled_form'),
  author_id: z.string(),
  form_id: z.string(),
  form_type: z.string().optional(),
  fields: z.array(z.looseObject({})).default([]),
});

const RichMessageEvent = z.looseObject({
  ...EventBase,
  type: z.literal('rich_message'),
  author_id: z.string(),
  template_id: z.string(),
  elements: z.array(z.looseObject({})).default([]),
});

const CustomEvent = z.looseObject({
  ...EventBase,
  type: z.literal('custom'),
  author_id: z.string(),
  content: z.unknown().optional(),
});

const KnownEvent = z.discriminatedUnion('type', [
  MessageEvent,
  SystemMessageEvent,
  FileEvent,
  FilledFormEvent,
  RichMessageEvent,
  CustomEvent,
]);

const KNOWN_EVENT_TYPES: ReadonlySet<string> = new Set([
  'message',
  'system_message',
  'file',
  'filled_form',
  'rich_message',
  'custom',
]);

// Types we don't model (form, v3.6 `system`, future ones) are kept with their fields, so a
// rule can ignore them without the whole webhook failing. A *known* type that doesn't match
// its schema still fails: that is drift we want to see.
const UnknownEvent = z
  .looseObject({ ...EventBase, type: z.string(), author_id: z.string().optional() })
  .refine((event) => !KNOWN_EVENT_TYPES.has(event.type), {
    message: 'event of a known type does not match its schema',
  });

/**
 * v3.6: what bots and agents with the `normal` role read in place of an event the customer
 * deleted: `id`, `created_at`, the original `type`, `visibility`, `deleted: true`, maybe
 * `author_id` and `custom_id` — no content (so a `message` has no `text`). Administrators get
 * the original with `deleted: true`, which parses as its own type.
 */
const DeletedEvent = z.looseObject({
  ...EventBase,
  type: z.string().min(1),
  deleted: z.literal(true),
  author_id: z.string().optional(),
});

// A deleted event is tried after the known types: the original with `deleted: true` reads as
// itself; the stripped form (a `message` without `text`) falls through to DeletedEvent.
export const ChatEvent = z.union([KnownEvent, DeletedEvent, UnknownEvent]);
export type ChatEvent = z.output<typeof ChatEvent>;

/**
 * Why an event of a thread was left out: `malformed` — not even an event (no `id`/`type`);
 * `schema_mismatch` — a known type that doesn't match its schema.
 */
export type SkippedEventReason = 'malformed' | 'schema_mismatch';

/** An event left out of a thread's `events`, with where it was and why. */
export type SkippedEvent = {
  /** Its position in the thread's events as LiveChat sent them. */
  index: number;
  id: string | undefined;
  type: string | undefined;
  reason: SkippedEventReason;
  /** The first schema issues (at most 3), as zod reports them. */
  issues: SchemaIssue[];
};

/** Where an event fails its schema, and how. */
export type SchemaIssue = { path: PropertyKey[]; message: string };

/**
 * A thread's events parsed one by one: an event that doesn't parse is left out and listed in
 * `skipped` rather than failing the whole chat (one odd event must not stop every rule of it).
 */
const parseThreadEvents = (
  items: readonly unknown[],
): { events: ChatEvent[]; skipped: SkippedEvent[] } => {
  const events: ChatEvent[] = [];
  const skipped: SkippedEvent[] = [];
  items.forEach((item, index) => {
    const parsed = ChatEvent.safeParse(item);
    if (parsed.success) {
      events.push(parsed.data);
      return;
    }
    const fields =
      typeof item === 'object' && item !== null ? (item as Record<string, unknown>) : {};
    const id = typeof fields.id === 'string' && fields.id !== '' ? fields.id : undefined;
    const type = typeof fields.type === 'string' && fields.type !== '' ? fields.type : undefined;
    // For a known type, its own schema says what is wrong (the union only says "no match").
    const known =
      type !== undefined && KNOWN_EVENT_TYPES.has(type) ? KnownEvent.safeParse(item) : undefined;
    skipped.push({
      index,
      id,
      type,
      reason: id === undefined || type === undefined ? 'malformed' : 'schema_mismatch',
      issues: (known?.error ?? parsed.error).issues
        .slice(0, 3)
        .map(({ path, message }) => ({ path, message })),
    });
  });
  return { events, skipped };
};

/**
 * For a thread schema's `.transform`: its raw `events` (`z.array(z.unknown())`) parsed by
 * `parseThreadEvents` into `events` (the ones that parsed) and `skippedEvents` (the others).
 */
export const splitThreadEvents = <T extends { events: unknown[] }>(
  thread: T,
): WithoutEvents<T> & { events: ChatEvent[]; skippedEvents: SkippedEvent[] } => {
  const parsed = parseThreadEvents(thread.events);
  // The spread is T with `events` replaced, which TypeScript cannot express for generic T.
  return {
    ...thread,
    events: parsed.events,
    skippedEvents: parsed.skipped,
  } as unknown as WithoutEvents<T> & { events: ChatEvent[]; skippedEvents: SkippedEvent[] };
};

// `Omit` would drop every known key of a loose object (its index signature swallows them).
type WithoutEvents<T> = { [K in keyof T as K extends 'events' ? never : K]: T[K] };
