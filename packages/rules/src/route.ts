import type { ChatEvent, RoutingStatus, WebhookAction, WebhookPayload } from '@nudge/livechat';
import {
  type AuthorKind,
  classifyAuthor,
  customerVisibleText,
  isAnswerEvent,
  isWaitingEvent,
  type KnownUser,
  knownUsersFrom,
  type UserType,
  usersFromIncomingChat,
  usersFromUserAddedToChat,
} from './classify.js';
import { findKeywords } from './keywords.js';
import { parseRatingScore, type RatingScore, ratingFromSystemMessage } from './rating.js';
import type { IdleReplySettings, RuleSettings } from './settings.js';
import { parseTimestamp } from './snapshot.js';

/** (Re)start the chat's idle timer: the job fires `delayMs` from now. */
export type ScheduleIdleReplyIntent = {
  kind: 'schedule-idle-reply';
  chatId: string;
  threadId: string;
  /** The customer event that starts the timer (the idle nudge's once-key). */
  eventId: string;
  delayMs: number;
};
/** Drop the chat's pending idle timer (an optimisation: the fire-time decision re-checks). */
export type CancelIdleReplyIntent = {
  kind: 'cancel-idle-reply';
  chatId: string;
  threadId: string;
  reason: 'agent answered' | 'chat deactivated';
};
export type SuggestForTagIntent = {
  kind: 'suggest-for-tag';
  chatId: string;
  threadId: string;
  tag: string;
};
export type SuggestForKeywordIntent = {
  kind: 'suggest-for-keyword';
  chatId: string;
  threadId: string;
  eventId: string;
  /** The keyword as spelled in the settings. */
  keyword: string;
};
export type ReactToRatingIntent = {
  kind: 'react-to-rating';
  chatId: string;
  threadId: string;
  score: RatingScore;
  comment?: string;
};
/** Remember these users' types (for classifying later events' authors). */
export type RememberUsersIntent = { kind: 'remember-users'; chatId: string; users: KnownUser[] };
/** Cache one of our bots' routing status (the bot status gate). */
export type SetRoutingStatusIntent = {
  kind: 'set-routing-status';
  agentId: string;
  status: RoutingStatus;
};

/** What the route step should do for one webhook. */
export type RouteIntent =
  | ScheduleIdleReplyIntent
  | CancelIdleReplyIntent
  | SuggestForTagIntent
  | SuggestForKeywordIntent
  | ReactToRatingIntent
  | RememberUsersIntent
  | SetRoutingStatusIntent;

type RouteContext = {
  organizationId: string;
  /** The organization's bots: their events are never a customer's or an agent's. */
  botIds: ReadonlySet<string>;
  /** User types learnt earlier for this chat (remember-users). */
  knownUsers?: ReadonlyMap<string, UserType> | undefined;
  settings: RuleSettings;
  /**
   * When the webhook is routed (ms since epoch). With it, an idle timer counts from the
   * customer message's `created_at` (a backlog doesn't delay the nudge); without, from now.
   */
  now?: number | undefined;
};

/** One parsed webhook (the payload already validated with its action's schema). */
export type RouteInput = {
  [A in WebhookAction]: RouteContext & { action: A; payload: WebhookPayload<A> };
}[WebhookAction];

type EventContext = RouteContext & { chatId: string; threadId: string };

/** The idle timer's delay for a customer event: `afterSeconds`, less the event's age. */
const idleDelayMs = (settings: IdleReplySettings, event: ChatEvent, now: number | undefined) => {
  const full = settings.afterSeconds * 1000;
  const createdAt = parseTimestamp(event.created_at);
  if (now === undefined || createdAt === undefined) {
    return full;
  }
  return Math.min(full, Math.max(0, full - (now - createdAt)));
};

const isCustomerLike = (kind: AuthorKind): boolean => kind === 'customer' || kind === 'unknown';

const keywordIntents = (
  context: EventContext,
  events: readonly { event: ChatEvent; kind: AuthorKind }[],
): SuggestForKeywordIntent[] => {
  const canned = context.settings.cannedResponses;
  if (!canned.enabled) {
    return [];
  }
  const keywords = Object.keys(canned.byKeyword).filter(
    (keyword) => (canned.byKeyword[keyword]?.length ?? 0) > 0,
  );
  if (keywords.length === 0) {
    return [];
  }
  const intents = new Map<string, SuggestForKeywordIntent>();
  for (const { event, kind } of events) {
    const text = isCustomerLike(kind) ? customerVisibleText(event) : undefined;
    for (const keyword of text === undefined ? [] : findKeywords(text, keywords)) {
      // Once per keyword: the first message that mentions it.
      if (!intents.has(keyword)) {
        intents.set(keyword, {
          kind: 'suggest-for-keyword',
          chatId: context.chatId,
          threadId: context.threadId,
          eventId: event.id,
          keyword,
        });
      }
    }
  }
  return [...intents.values()];
};

const scheduleIdle = (context: EventContext, event: ChatEvent): ScheduleIdleReplyIntent => ({
  kind: 'schedule-idle-reply',
  chatId: context.chatId,
  threadId: context.threadId,
  eventId: event.id,
  delayMs: idleDelayMs(context.settings.idleReply, event, context.now),
});

const ratingIntentFromEvent = (context: EventContext, event: ChatEvent): RouteIntent[] => {
  if (!context.settings.ratingReactions.enabled || event.type !== 'system_message') {
    return [];
  }
  const rating = ratingFromSystemMessage(event);
  // `chat_commented` carries no score: the reaction to the score reads the comment from the
  // thread at fire time. `chat_rating_canceled` cancels nothing already sent.
  if (rating?.kind !== 'rated') {
    return [];
  }
  return [
    {
      kind: 'react-to-rating',
      chatId: context.chatId,
      threadId: context.threadId,
      score: rating.score,
      ...(rating.comment === undefined ? {} : { comment: rating.comment }),
    },
  ];
};

const routeIncomingEvent = (
  context: EventContext,
  event: ChatEvent,
  kind: AuthorKind,
): RouteIntent[] => {
  const idle = context.settings.idleReply;
  switch (kind) {
    case 'bot':
      return [];
    case 'system':
      return ratingIntentFromEvent(context, event);
    case 'agent':
      return idle.enabled && isAnswerEvent(event)
        ? [
            {
              kind: 'cancel-idle-reply',
              chatId: context.chatId,
              threadId: context.threadId,
              reason: 'agent answered',
            },
          ]
        : [];
    case 'customer':
    case 'unknown':
      // An unknown author may be a human agent: scheduling is still safe, because the fire-time
      // decision reads the chat's users and never nudges after an agent's message.
      return [
        ...(idle.enabled && isWaitingEvent(event) ? [scheduleIdle(context, event)] : []),
        ...keywordIntents(context, [{ event, kind }]),
      ];
  }
};

const routeIncomingChat = (
  context: RouteContext,
  payload: WebhookPayload<'incoming_chat'>,
): RouteIntent[] => {
  const { chat } = payload;
  const users = usersFromIncomingChat(payload);
  const remember: RouteIntent[] =
    users.length > 0 ? [{ kind: 'remember-users', chatId: chat.id, users }] : [];
  if (chat.thread.active === false) {
    return remember;
  }
  const knownUsers = knownUsersFrom(chat.users, context.knownUsers);
  const eventContext: EventContext = {
    ...context,
    knownUsers,
    chatId: chat.id,
    threadId: chat.thread.id,
  };
  const events = chat.thread.events.map((event) => ({
    event,
    kind: classifyAuthor({ event, botIds: context.botIds, knownUsers }),
  }));
  // The timer starts from the last customer message, unless a human agent answered it already.
  let lastWaiting: ChatEvent | undefined;
  for (const { event, kind } of events) {
    if (isCustomerLike(kind) && isWaitingEvent(event)) {
      lastWaiting = event;
    } else if (kind === 'agent' && isAnswerEvent(event)) {
      lastWaiting = undefined;
    }
  }
  return [
    ...remember,
    ...(context.settings.idleReply.enabled && lastWaiting !== undefined
      ? [scheduleIdle(eventContext, lastWaiting)]
      : []),
    ...keywordIntents(eventContext, events),
  ];
};

const routeRatingProperties = (
  context: RouteContext,
  payload: WebhookPayload<'thread_properties_updated'>,
): RouteIntent[] => {
  const rating = Object.hasOwn(payload.properties, 'rating')
    ? payload.properties.rating
    : undefined;
  const score = parseRatingScore(rating?.score);
  // A comment-only update has no score to react to (see ratingIntentFromEvent).
  if (!context.settings.ratingReactions.enabled || score === undefined) {
    return [];
  }
  const comment = typeof rating?.comment === 'string' ? rating.comment.trim() : '';
  return [
    {
      kind: 'react-to-rating',
      chatId: payload.chat_id,
      threadId: payload.thread_id,
      score,
      ...(comment === '' ? {} : { comment }),
    },
  ];
};

/**
 * The route step's decision for one webhook: which rule jobs to schedule or cancel and what
 * to remember. Pure; events by our own bots yield nothing, disabled rules yield nothing.
 */
export const routeWebhook = (input: RouteInput): RouteIntent[] => {
  const { settings } = input;
  switch (input.action) {
    case 'incoming_chat':
      return routeIncomingChat(input, input.payload);
    case 'incoming_event': {
      const { chat_id: chatId, thread_id: threadId, event } = input.payload;
      const kind = classifyAuthor({ event, botIds: input.botIds, knownUsers: input.knownUsers });
      return routeIncomingEvent({ ...input, chatId, threadId }, event, kind);
    }
    case 'event_updated': {
      // An edit is not a new message (the idle timer stands), but it may add a keyword.
      const { chat_id: chatId, thread_id: threadId, event } = input.payload;
      const kind = classifyAuthor({ event, botIds: input.botIds, knownUsers: input.knownUsers });
      return keywordIntents({ ...input, chatId, threadId }, [{ event, kind }]);
    }
    case 'thread_tagged': {
      const { chat_id: chatId, thread_id: threadId, tag } = input.payload;
      const { enabled, byTag } = settings.cannedResponses;
      const configured = Object.hasOwn(byTag, tag) && (byTag[tag]?.length ?? 0) > 0;
      return enabled && configured ? [{ kind: 'suggest-for-tag', chatId, threadId, tag }] : [];
    }
    case 'chat_deactivated':
      return settings.idleReply.enabled
        ? [
            {
              kind: 'cancel-idle-reply',
              chatId: input.payload.chat_id,
              threadId: input.payload.thread_id,
              reason: 'chat deactivated',
            },
          ]
        : [];
    case 'user_added_to_chat': {
      const users = usersFromUserAddedToChat(input.payload);
      return users.length > 0
        ? [{ kind: 'remember-users', chatId: input.payload.chat_id, users }]
        : [];
    }
    case 'thread_properties_updated':
      return routeRatingProperties(input, input.payload);
    case 'routing_status_set':
      // Only our bots' statuses gate anything; human agents' changes are noise here.
      return input.botIds.has(input.payload.agent_id)
        ? [
            {
              kind: 'set-routing-status',
              agentId: input.payload.agent_id,
              status: input.payload.status,
            },
          ]
        : [];
    // Untagging, transfers and a cancelled rating need no job: fire-time decisions re-read
    // the thread's tags and rating.
    case 'thread_untagged':
    case 'chat_transferred':
    case 'thread_properties_deleted':
      return [];
  }
};
