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
};

export const MessageEvent = z.looseObject({
  ...EventBase,
  type: z.literal('message'),
  author_id: z.string(),
  text: z.string(),
  postback: z.looseObject({}).optional(),
});

// The only event type without an author.
export const SystemMessageEvent = z.looseObject({
  ...EventBase,
  type: z.literal('system_message'),
  system_message_type: z.string(),
  text: z.string().optional(),
  text_vars: z.record(z.string(), z.unknown()).optional(),
});

export const FileEvent = z.looseObject({
  ...EventBase,
  type: z.literal('file'),
  author_id: z.string(),
  url: z.string(),
  name: z.string().optional(),
  content_type: z.string().optional(),
});

export const FilledFormEvent = z.looseObject({
  ...EventBase,
  type: z.literal('filled_form'),
  author_id: z.string(),
  form_id: z.string(),
  form_type: z.string().optional(),
  fields: z.array(z.looseObject({})).default([]),
});

export const RichMessageEvent = z.looseObject({
  ...EventBase,
  type: z.literal('rich_message'),
  author_id: z.string(),
  template_id: z.string(),
  elements: z.array(z.looseObject({})).default([]),
});

export const CustomEvent = z.looseObject({
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
export const UnknownEvent = z
  .looseObject({ ...EventBase, type: z.string(), author_id: z.string().optional() })
  .refine((event) => !KNOWN_EVENT_TYPES.has(event.type), {
    message: 'event of a known type does not match its schema',
  });

export const ChatEvent = z.union([KnownEvent, UnknownEvent]);
export type ChatEvent = z.output<typeof ChatEvent>;
export type MessageEvent = z.output<typeof MessageEvent>;
export type SystemMessageEvent = z.output<typeof SystemMessageEvent>;
