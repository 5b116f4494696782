import type { BotPriority, OrganizationRules } from '@nudge/config';
import {
  type Bot,
  type LivechatClient,
  LivechatError,
  type RegisteredWebhook,
  type WebhookFilters,
} from '@nudge/livechat';
import { webhookActionsFor } from '@nudge/rules';
import { fingerprint } from '@nudge/runtime';

// What `nudge setup` makes in LiveChat, and how to recognise it again: the bot, the webhooks
// the enabled rules need, the bot accepting chats. Shared by setup, teardown, status, doctor
// and `nudge start` (which sets the sandbox up the same way).

/** Webhooks Nudge registered carry this in their description (definitions can't be edited). */
export const WEBHOOK_DESCRIPTION_PREFIX = 'nudge:';
/** The job title of bots `nudge setup` created, so teardown removes only those. */
export const SETUP_BOT_JOB_TITLE = 'Created by nudge setup';

/** A short fingerprint of the webhook secret: tells a stale secret apart without revealing it. */
export const secretFingerprint = fingerprint;

type DesiredWebhook = {
  action: string;
  url: string;
  type: 'bot';
  description: string;
  filters: WebhookFilters;
};

/**
 * The webhooks for these organizations' enabled rules. Bot webhooks: LiveChat delivers them
 * while a bot of the app is online, without the app being installed. The bot's own messages
 * are filtered out where LiveChat allows it (`source_type`); the route step ignores them anyway.
 */
export const desiredWebhooks = ({
  organizations,
  url,
  secret,
}: {
  organizations: readonly OrganizationRules[];
  url: string;
  secret: string;
}): DesiredWebhook[] =>
  webhookActionsFor(organizations.map((organization) => organization.rules)).map((action) => ({
    action,
    url,
    type: 'bot',
    description: `${WEBHOOK_DESCRIPTION_PREFIX} ${action} (secret ${secretFingerprint(secret)})`,
    filters:
      action === 'incoming_event' || action === 'event_updated'
        ? { source_type: ['other_clients', 'system'] }
        : {},
  }));

/** A webhook this Nudge registered (by description), or one for its URL. */
export const isNudgeWebhook = (webhook: RegisteredWebhook, url?: string): boolean =>
  (webhook.description ?? '').startsWith(WEBHOOK_DESCRIPTION_PREFIX) ||
  (url !== undefined && webhook.url === url);

// Key order and an absent vs empty `filters` must not make two equal definitions differ.
const canonical = (value: unknown): string =>
  JSON.stringify(value ?? {}, (_key, item: unknown) =>
    item && typeof item === 'object' && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => a.localeCompare(b)))
      : item,
  );

const sameWebhook = (registered: RegisteredWebhook, desired: DesiredWebhook): boolean =>
  registered.action === desired.action &&
  registered.url === desired.url &&
  (registered.type ?? 'bot') === desired.type &&
  registered.description === desired.description &&
  canonical(registered.filters) === canonical(desired.filters);

type WebhookPlan = {
  keep: RegisteredWebhook[];
  register: DesiredWebhook[];
  unregister: RegisteredWebhook[];
};

/** Turns the client's registered webhooks into the desired set: one per needed action. */
export const planWebhooks = (
  registered: readonly RegisteredWebhook[],
  desired: readonly DesiredWebhook[],
): WebhookPlan => {
  const keep: RegisteredWebhook[] = [];
  const register: DesiredWebhook[] = [];
  for (const wanted of desired) {
    const match = registered.find(
      (webhook) => sameWebhook(webhook, wanted) && !keep.includes(webhook),
    );
    if (match) {
      keep.push(match);
    } else {
      register.push(wanted);
    }
  }
  const url = desired[0]?.url;
  const unregister = registered.filter(
    (webhook) => isNudgeWebhook(webhook, url) && !keep.includes(webhook),
  );
  return { keep, register, unregister };
};

/** A bot's groups as get_bot returns them (`priority` may be missing: LiveChat's default). */
export type BotGroups = { id: number; priority?: string | undefined }[];

/**
 * The groups the bot should have: every served group, and any other group it is in, all at
 * the configured priority (a bot left at `normal` in some group is routed chats there).
 */
export const desiredBotGroups = (
  current: BotGroups,
  served: readonly number[],
  priority: BotPriority,
): BotGroups => {
  const ids = [...new Set([...served, ...current.map((group) => group.id)])].sort((a, b) => a - b);
  return ids.map((id) => ({ id, priority }));
};

export const sameGroups = (a: BotGroups, b: BotGroups): boolean =>
  canonical([...a].sort((x, y) => x.id - y.id)) === canonical([...b].sort((x, y) => x.id - y.id));

/** Served groups the bot is not in: a bot token can't reach those chats. */
export const uncoveredGroups = (bot: { groups: BotGroups }, served: readonly number[]): number[] =>
  served.filter((id) => !bot.groups.some((group) => group.id === id));

/** Groups (served or not) where LiveChat would route chats to the bot, against the config. */
export const routedGroups = (bot: { groups: BotGroups }, priority: BotPriority): number[] =>
  priority === 'supervisor'
    ? bot.groups.filter((group) => group.priority !== 'supervisor').map((group) => group.id)
    : [];

const isNotFound = (err: unknown): boolean =>
  err instanceof LivechatError && err.type === 'not_found';

/** The bot if it exists in the organization (get_bot with its groups), else undefined. */
export const findBot = async (client: LivechatClient, id: string): Promise<Bot | undefined> => {
  try {
    return await client.getBot({ id, fields: ['groups'] });
  } catch (err) {
    if (isNotFound(err)) {
      return undefined;
    }
    throw err;
  }
};

/** A bot `nudge setup` created earlier (same name, our job title), when the file names none. */
export const findSetupBot = async (
  client: LivechatClient,
  name: string,
): Promise<string | undefined> => {
  const bots = await client.listBots({ fields: ['job_title'] });
  return bots.find((bot) => bot.name === name && bot.job_title === SETUP_BOT_JOB_TITLE)?.id;
};
