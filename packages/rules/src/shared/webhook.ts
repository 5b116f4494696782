import type { ChatEvent, WebhookAction, WebhookPayload } from '@nudge/livechat';
import { type AuthorKind, classifyAuthor, knownUsersFrom, type UserType } from './classify.js';

/** What the route step knows besides the webhook itself. */
export type RouteContext = {
  organizationId: string;
  /** The organization's bots: their events are never a customer's or an agent's. */
  botIds: ReadonlySet<string>;
  /** User types learnt earlier for this chat (remember-users). */
  knownUsers?: ReadonlyMap<string, UserType> | undefined;
  /**
   * When the webhook is routed (ms since epoch). With it, an idle timer counts from the
   * customer message's `created_at` (a backlog doesn't delay the nudge); without, from now.
   */
  now?: number | undefined;
};

/** One parsed webhook (the payload already validated with its action's schema). */
export type ParsedWebhook = {
  [A in WebhookAction]: { action: A; payload: WebhookPayload<A> };
}[WebhookAction];

export type AuthoredEvent = { event: ChatEvent; kind: AuthorKind };

/** The thread events a webhook carries, with who wrote each. */
export type ThreadView = { chatId: string; threadId: string; events: AuthoredEvent[] };

/**
 * A webhook as each rule's route reads it: `thread` holds its events, authors classified
 * once for every rule — incoming_chat's (active threads only), incoming_event's and
 * event_updated's; absent for the other actions.
 */
export type RoutedWebhook = RouteContext & ParsedWebhook & { thread: ThreadView | undefined };

const threadOf = (input: RouteContext & ParsedWebhook): ThreadView | undefined => {
  switch (input.action) {
    case 'incoming_chat': {
      const { chat } = input.payload;
      if (chat.thread.active === false) {
        return undefined;
      }
      const knownUsers = knownUsersFrom(chat.users, input.knownUsers);
      return {
        chatId: chat.id,
        threadId: chat.thread.id,
        events: chat.thread.events.map((event) => ({
          event,
          kind: classifyAuthor({ event, botIds: input.botIds, knownUsers }),
        })),
      };
    }
    case 'incoming_event':
    case 'event_updated': {
      const { chat_id: chatId, thread_id: threadId, event } = input.payload;
      const kind = classifyAuthor({ event, botIds: input.botIds, knownUsers: input.knownUsers });
      return { chatId, threadId, events: [{ event, kind }] };
    }
    default:
      return undefined;
  }
};

/** The webhook with its thread view, as the rules' routes take it. */
export const routedWebhook = (input: RouteContext & ParsedWebhook): RoutedWebhook =>
  ({ ...input, thread: threadOf(input) }) as RoutedWebhook;

/** An author who may be the waiting customer: a known customer, or someone not known yet. */
export const isCustomerLike = (kind: AuthorKind): boolean =>
  kind === 'customer' || kind === 'unknown';
