import type { RoutingStatus } from '@nudge/livechat';
import {
  type KnownUser,
  usersFromIncomingChat,
  usersFromUserAddedToChat,
} from './shared/classify.js';
import type { ParsedWebhook, RouteContext } from './shared/webhook.js';

// What Nudge itself keeps from webhooks, whatever rules are enabled.

/** Remember these users' types (for classifying later events' authors). */
export type RememberUsersIntent = { kind: 'remember-users'; chatId: string; users: KnownUser[] };
/** Cache one of our bots' routing status (the bot status gate). */
export type SetRoutingStatusIntent = {
  kind: 'set-routing-status';
  agentId: string;
  status: RoutingStatus;
};
export type CoreIntent = RememberUsersIntent | SetRoutingStatusIntent;

const remember = (chatId: string, users: KnownUser[]): RememberUsersIntent[] =>
  users.length > 0 ? [{ kind: 'remember-users', chatId, users }] : [];

/** Who is a customer or an agent in a chat; our bots' routing statuses. */
export const routeCore = (input: RouteContext & ParsedWebhook): CoreIntent[] => {
  switch (input.action) {
    case 'incoming_chat':
      return remember(input.payload.chat.id, usersFromIncomingChat(input.payload));
    case 'user_added_to_chat':
      return remember(input.payload.chat_id, usersFromUserAddedToChat(input.payload));
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
    default:
      return [];
  }
};
