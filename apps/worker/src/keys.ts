// Every Redis key the worker writes besides BullMQ's own, in one place, under the queue prefix
// (so a Redis Cluster hash-tag prefix keeps them on the queues' slot).

/** "Sent": this custom_id's event is in LiveChat. Outlives any retry of the job. */
export const sentMarkerKey = (prefix: string, customId: string) => `${prefix}:sent:${customId}`;
export const SENT_MARKER_TTL_MS = 7 * 24 * 60 * 60_000;

/** "Acting": one job at a time per chat, from reading it to recording what was sent. */
export const sendLockKey = (prefix: string, customId: string) => `${prefix}:sending:${customId}`;

/** A bot's routing status, as last announced by a routing_status_set webhook. */
export const botStatusKey = (prefix: string, organizationId: string, botId: string) =>
  `${prefix}:bot-status:${organizationId}:${botId}`;
// Long, not forever: a status only changes with a webhook, but keys of removed bots should go.
export const BOT_STATUS_TTL_MS = 30 * 24 * 60 * 60_000;

/** A bot's routing status as read from list_routing_statuses, cached briefly. */
export const botStatusApiKey = (prefix: string, organizationId: string, botId: string) =>
  `${prefix}:bot-status-api:${organizationId}:${botId}`;

/** Types (customer/agent) of a chat's users, learnt from incoming_chat and user_added_to_chat. */
export const chatUsersKey = (prefix: string, organizationId: string, chatId: string) =>
  `${prefix}:chat-users:${organizationId}:${chatId}`;
export const CHAT_USERS_TTL_MS = 2 * 24 * 60 * 60_000;
