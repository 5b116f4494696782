import type { WebhookPayload } from '@nudge/livechat';

/** A chat user's type as LiveChat reports it; bots appear as `agent`. */
export type UserType = 'customer' | 'agent';
/** A user whose type was learnt from `incoming_chat` / `user_added_to_chat` (or a chat). */
export type KnownUser = { id: string; type: UserType };
/**
 * Who wrote an event: `bot` — one of ours; `customer`/`agent` — a known user (agent = human,
 * since our bots are matched first); `system` — no author (system messages); `unknown`.
 */
export type AuthorKind = 'bot' | 'customer' | 'agent' | 'system' | 'unknown';

/** `customer` | `agent`, or undefined for anything else LiveChat might send. */
const toUserType = (type: unknown): UserType | undefined =>
  type === 'customer' || type === 'agent' ? type : undefined;

type ClassifyAuthorOptions = {
  event: { type: string; author_id?: unknown };
  botIds: ReadonlySet<string>;
  knownUsers?: ReadonlyMap<string, UserType> | undefined;
};

/** Classifies an event's author: ours → `bot`, known user → its type, none → `system`. */
export const classifyAuthor = ({
  event,
  botIds,
  knownUsers,
}: ClassifyAuthorOptions): AuthorKind => {
  const authorId = event.author_id;
  if (typeof authorId !== 'string' || authorId === '') {
    return 'system';
  }
  if (botIds.has(authorId)) {
    return 'bot';
  }
  return knownUsers?.get(authorId) ?? 'unknown';
};

const knownUsersOf = (users: readonly { id: string; type: unknown }[]): KnownUser[] =>
  users.flatMap((user) => {
    const type = toUserType(user.type);
    return type === undefined ? [] : [{ id: user.id, type }];
  });

/** The (id, type) pairs of an `incoming_chat`'s users, to remember for later events. */
export const usersFromIncomingChat = (payload: WebhookPayload<'incoming_chat'>): KnownUser[] =>
  knownUsersOf(payload.chat.users);

/** The (id, type) pair of the user a `user_added_to_chat` added (`user_type`, else `user.type`). */
export const usersFromUserAddedToChat = (
  payload: WebhookPayload<'user_added_to_chat'>,
): KnownUser[] =>
  knownUsersOf([{ id: payload.user.id, type: payload.user_type ?? payload.user.type }]);

/** A user-type map from a chat's users (e.g. a get_chat snapshot), optionally on top of `base`. */
export const knownUsersFrom = (
  users: readonly { id: string; type: unknown }[],
  base?: ReadonlyMap<string, UserType>,
): Map<string, UserType> => {
  const known = new Map(base);
  for (const user of knownUsersOf(users)) {
    known.set(user.id, user.type);
  }
  return known;
};

type EventLike = { type: string; visibility?: unknown; deleted?: unknown };

// Events a customer sends that leave them waiting for an answer. A pre-chat form counts: the
// customer has asked for a chat and waits for an agent.
const WAITING_EVENT_TYPES: ReadonlySet<string> = new Set(['message', 'file', 'filled_form']);
// Events that answer the customer when a human agent sends them.
const ANSWER_EVENT_TYPES: ReadonlySet<string> = new Set(['message', 'file', 'rich_message']);

// `agents` events are whispers: a customer can't send one, and an agent's whisper doesn't
// answer the customer. A deleted event (v3.6) is gone for the customer too: it neither leaves
// anyone waiting nor answers, and its text (absent for bots anyway) mentions nothing.
const isVisibleToCustomer = (event: EventLike): boolean =>
  event.visibility !== 'agents' && event.deleted !== true;

/** True for an event that (if a customer wrote it) leaves the customer waiting. */
export const isWaitingEvent = (event: EventLike): boolean =>
  WAITING_EVENT_TYPES.has(event.type) && isVisibleToCustomer(event);

/** True for an event that (if a human agent wrote it) answers the customer. */
export const isAnswerEvent = (event: EventLike): boolean =>
  ANSWER_EVENT_TYPES.has(event.type) && isVisibleToCustomer(event);

/** The text of a customer-visible `message` event, else undefined. */
export const customerVisibleText = (event: EventLike & { text?: unknown }): string | undefined =>
  event.type === 'message' && isVisibleToCustomer(event) && typeof event.text === 'string'
    ? event.text
    : undefined;
