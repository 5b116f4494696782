import { randomBytes } from 'node:crypto';
import { type ActionContext, type ActionTable, requesterOf } from './actions.js';
import { ApiError, notFound, validationError } from './errors.js';
import { createHexId } from './ids.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import {
  API_VERSIONS,
  type ApiVersion,
  type Bot,
  type BotGroup,
  installationKey,
  type Webhook,
  type WebhookFilters,
} from './store.js';
import {
  optionalBoolean,
  optionalEnum,
  optionalInteger,
  optionalObject,
  optionalString,
  optionalStringArray,
  rejectUnknownKeys,
  requireEnum,
  requireString,
} from './validate.js';
import { ADDITIONAL_DATA_KEYS, filtersForAction, webhookNames } from './webhook-names.js';

/**
 * Up to three webhooks per action per client ID
 * (https://platform.text.com/docs/management/configuration-api#register-webhook).
 */
const MAX_WEBHOOKS_PER_ACTION = 3;
const MAX_URL_LENGTH = 500;
const GROUP_PRIORITIES = ['first', 'normal', 'last', 'supervisor'] as const;
const BOT_FIELDS = ['groups', 'work_scheduler', 'job_title', 'max_chats_count', 'timezone'];

const WEBHOOKS_CONFIG = { anyOf: ['webhooks.configuration:rw'] };
const BOTS_WRITE = { anyOf: ['agents-bot--my:rw', 'agents-bot--all:rw'] };
const BOTS_READ = { anyOf: ['agents-bot--my:ro', 'agents-bot--all:ro'] };

const knownClientId = (ctx: ActionContext, clientId: string, path: string): string => {
  if (!ctx.store.clientApps.has(clientId)) {
    throw validationError(`\`${path}\`: unknown client ID ${clientId}`);
  }
  return clientId;
};

/**
 * `owner_client_id`: `always` required (register_webhook, list_webhooks, unregister_webhook:
 * "Required: yes" with no exception), or required only with a PAT — with a Bearer token it
 * defaults to (and may override) the token's client ID (license webhooks state, create_bot).
 */
const ownerClientId = (ctx: ActionContext, rule: 'always' | 'pat'): string => {
  const requester = requesterOf(ctx);
  const given = optionalString(ctx.body, 'owner_client_id');
  if (given !== undefined && given !== '') {
    return knownClientId(ctx, given, 'owner_client_id');
  }
  if (rule === 'always' || requester.clientId === undefined) {
    throw validationError(
      rule === 'always'
        ? '`owner_client_id` is required'
        : '`owner_client_id` is required when authorizing with a personal access token',
    );
  }
  return requester.clientId;
};

const parseFilters = (version: ApiVersion, action: string, raw: JsonObject): WebhookFilters => {
  const allowed = filtersForAction(version, action) ?? [];
  for (const key of Object.keys(raw)) {
    if (!allowed.includes(key)) {
      throw validationError(`\`filters.${key}\` is not available for action ${action}`);
    }
  }
  const filters: WebhookFilters = {};
  const authorType = optionalEnum(
    raw,
    'author_type',
    ['customer', 'agent'] as const,
    'filters.author_type',
  );
  if (authorType !== undefined) {
    filters.author_type = authorType;
  }
  const onlyMyChats = optionalBoolean(raw, 'only_my_chats', 'filters.only_my_chats');
  if (onlyMyChats !== undefined) {
    filters.only_my_chats = onlyMyChats;
  }
  const presence = optionalObject(raw, 'chat_presence', 'filters.chat_presence');
  if (presence) {
    rejectUnknownKeys(presence, ['user_ids', 'my_bots'], 'filters.chat_presence');
    filters.chat_presence = {};
    const userIds = optionalObject(presence, 'user_ids', 'filters.chat_presence.user_ids');
    if (userIds) {
      rejectUnknownKeys(userIds, ['values', 'exclude_values'], 'filters.chat_presence.user_ids');
      const values = optionalStringArray(
        userIds,
        'values',
        'filters.chat_presence.user_ids.values',
      );
      const excluded = optionalStringArray(
        userIds,
        'exclude_values',
        'filters.chat_presence.user_ids.exclude_values',
      );
      if ((values === undefined) === (excluded === undefined)) {
        throw validationError(
          '`filters.chat_presence.user_ids` takes exactly one of `values` or `exclude_values`',
        );
      }
      filters.chat_presence.user_ids = values ? { values } : { exclude_values: excluded ?? [] };
    }
    const myBots = optionalBoolean(presence, 'my_bots', 'filters.chat_presence.my_bots');
    if (myBots !== undefined) {
      filters.chat_presence.my_bots = myBots;
    }
  }
  const sourceType = optionalStringArray(raw, 'source_type', 'filters.source_type');
  if (sourceType) {
    const kinds = ['my_client', 'other_clients', 'system'] as const;
    for (const value of sourceType) {
      if (!(kinds as readonly string[]).includes(value)) {
        throw validationError(`\`filters.source_type\` must contain only: ${kinds.join(', ')}`);
      }
    }
    filters.source_type = sourceType as Array<(typeof kinds)[number]>;
  }
  // `agent_ids` (routing_status_set): shape undocumented; we take an array of agent IDs.
  const agentIds = optionalStringArray(raw, 'agent_ids', 'filters.agent_ids');
  if (agentIds) {
    filters.agent_ids = agentIds;
  }
  return filters;
};

const registerWebhook = (ctx: ActionContext): JsonValue => {
  const { body, version } = ctx;
  const action = requireString(body, 'action');
  if (filtersForAction(version, action) === undefined) {
    throw validationError(`\`action\` ${action} is not a webhook action in v${version}`);
  }
  const secretKey = requireString(body, 'secret_key');
  const url = requireString(body, 'url', 'url', { maxLength: MAX_URL_LENGTH });
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
    throw validationError('`url` must be an http(s) URL');
  }
  const owner = ownerClientId(ctx, 'always');
  const type = requireEnum(body, 'type', ['bot', 'license'] as const);
  const description = optionalString(body, 'description');
  const additionalData = optionalStringArray(body, 'additional_data') ?? [];
  for (const key of additionalData) {
    if (!ADDITIONAL_DATA_KEYS.includes(key)) {
      throw validationError(
        `\`additional_data\` must contain only: ${ADDITIONAL_DATA_KEYS.join(', ')}`,
      );
    }
  }
  if (additionalData.length > 0 && (action === 'agent_deleted' || action === 'incoming_customer')) {
    throw validationError(`\`additional_data\` is not available for action ${action}`);
  }
  const rawFilters = optionalObject(body, 'filters');
  const filters = rawFilters ? parseFilters(version, action, rawFilters) : {};
  const { store } = ctx;
  const sameAction = store.webhooks.filter(
    (webhook) => webhook.ownerClientId === owner && webhook.action === action,
  );
  if (sameAction.length >= MAX_WEBHOOKS_PER_ACTION) {
    throw new ApiError(
      'limit_reached',
      `A client ID can register at most ${MAX_WEBHOOKS_PER_ACTION} webhooks per action`,
    );
  }
  const webhook: Webhook = {
    id: createHexId(),
    ownerClientId: owner,
    action,
    url,
    secretKey,
    type,
    description,
    filters,
    additionalData: [...new Set(additionalData)],
    version,
  };
  store.webhooks.push(webhook);
  return { id: webhook.id };
};

/**
 * The list_webhooks item: the secret is not returned (as in the docs' sample,
 * https://platform.text.com/docs/management/configuration-api#list-webhooks).
 */
const describeWebhook = (webhook: Webhook): JsonObject => ({
  id: webhook.id,
  url: webhook.url,
  ...(webhook.description === undefined ? {} : { description: webhook.description }),
  action: webhook.action,
  filters: structuredClone(webhook.filters) as JsonObject,
  owner_client_id: webhook.ownerClientId,
  type: webhook.type,
  // Not in the docs' sample; echoed when set (unconfirmed).
  ...(webhook.additionalData.length > 0 ? { additional_data: [...webhook.additionalData] } : {}),
});

const listWebhooks = (ctx: ActionContext): JsonValue => {
  const owner = ownerClientId(ctx, 'always');
  return ctx.store.webhooks
    .filter((webhook) => webhook.ownerClientId === owner)
    .map(describeWebhook);
};

const unregisterWebhook = (ctx: ActionContext): JsonValue => {
  const id = requireString(ctx.body, 'id');
  const owner = ownerClientId(ctx, 'always');
  const { webhooks } = ctx.store;
  const index = webhooks.findIndex(
    (webhook) => webhook.id === id && webhook.ownerClientId === owner,
  );
  if (index === -1) {
    throw notFound(`Webhook not found: ${id}`);
  }
  webhooks.splice(index, 1);
  return {};
};

/**
 * Enable/disable act on the app's installation in the credentials' organization. License
 * webhooks flow only while the app is installed ("automatically enabled when the associated
 * application is installed"); enabling never installs it, so for an app that isn't installed
 * there is nothing to enable: `not_found` (our pick among the documented errors). Disabling
 * such an app's webhooks is a no-op.
 */
const setLicenseWebhooks = (ctx: ActionContext, enabled: boolean): JsonValue => {
  const requester = requesterOf(ctx);
  const owner = ownerClientId(ctx, 'pat');
  const installation = ctx.store.installations.get(
    installationKey(requester.organizationId, owner),
  );
  if (installation) {
    installation.licenseWebhooksEnabled = enabled;
  } else if (enabled) {
    throw notFound(
      `The application ${owner} is not installed in organization ${requester.organizationId}: install it to receive its license webhooks`,
    );
  }
  return {};
};

const getLicenseWebhooksState = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const owner = ownerClientId(ctx, 'pat');
  const installation = ctx.store.installations.get(
    installationKey(requester.organizationId, owner),
  );
  return { license_webhooks_enabled: installation?.licenseWebhooksEnabled === true };
};

const parseGroups = (body: JsonObject): BotGroup[] | undefined => {
  const groups = body.groups;
  if (groups === undefined) {
    return undefined;
  }
  if (!Array.isArray(groups)) {
    throw validationError('`groups` must be an array');
  }
  return groups.map((group, index) => {
    if (!isJsonObject(group)) {
      throw validationError(`\`groups[${index}]\` must be an object`);
    }
    const id = optionalInteger(group, 'id', `groups[${index}].id`, { min: 0 });
    if (id === undefined) {
      throw validationError(`\`groups[${index}].id\` is required`);
    }
    const priority = requireEnum(group, 'priority', GROUP_PRIORITIES, `groups[${index}].priority`);
    return { id, priority };
  });
};

/** Fields create_bot and update_bot share. */
const parseBotFields = (ctx: ActionContext) => {
  const { body } = ctx;
  return {
    avatar: optionalString(body, 'avatar'),
    maxChatsCount: optionalInteger(body, 'max_chats_count', 'max_chats_count', {
      min: 0,
      max: 500,
    }),
    defaultGroupPriority: optionalEnum(body, 'default_group_priority', GROUP_PRIORITIES),
    jobTitle: optionalString(body, 'job_title'),
    groups: parseGroups(body),
    workScheduler: optionalObject(body, 'work_scheduler'),
    timezone: optionalString(body, 'timezone'),
    // `type` is new in v3.6 (default `chatbot`); v3.5 does not know it.
    type: ctx.version === '3.6' ? optionalString(body, 'type') : undefined,
  };
};

const createBot = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const name = requireString(ctx.body, 'name');
  const fields = parseBotFields(ctx);
  const owner = ownerClientId(ctx, 'pat');
  const bot: Bot = {
    id: createHexId(),
    secret: createHexId(),
    organizationId: requester.organizationId,
    ownerClientId: owner,
    name,
    avatar: fields.avatar,
    maxChatsCount: fields.maxChatsCount ?? 6,
    defaultGroupPriority: fields.defaultGroupPriority ?? 'normal',
    jobTitle: fields.jobTitle,
    groups: fields.groups ?? [{ id: 0, priority: fields.defaultGroupPriority ?? 'normal' }],
    workScheduler: fields.workScheduler,
    timezone: fields.timezone,
    type: fields.type ?? 'chatbot',
    // A new bot is offline until set_routing_status: the docs' bot setup sequence ends with
    // that call, and bot webhooks flow only for bots that are not offline
    // (https://platform.text.com/docs/management#webhooks).
    routingStatus: 'offline',
    createdVia: requester.type === 'agent' && requester.via === 'pat' ? 'pat' : 'token',
  };
  ctx.store.bots.set(bot.id, bot);
  return { id: bot.id, secret: bot.secret };
};

const requestedFields = (body: JsonObject): string[] => {
  const fields = optionalStringArray(body, 'fields') ?? [];
  for (const field of fields) {
    if (!BOT_FIELDS.includes(field)) {
      throw validationError(`\`fields\` must contain only: ${BOT_FIELDS.join(', ')}`);
    }
  }
  return fields;
};

const optionalBotFields = (bot: Bot, fields: string[]): JsonObject => ({
  ...(fields.includes('groups') ? { groups: structuredClone(bot.groups) } : {}),
  ...(fields.includes('work_scheduler') && bot.workScheduler
    ? { work_scheduler: structuredClone(bot.workScheduler) }
    : {}),
  ...(fields.includes('job_title') && bot.jobTitle !== undefined
    ? { job_title: bot.jobTitle }
    : {}),
  ...(fields.includes('max_chats_count') ? { max_chats_count: bot.maxChatsCount } : {}),
  ...(fields.includes('timezone') && bot.timezone !== undefined ? { timezone: bot.timezone } : {}),
});

const listBots = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const all = optionalBoolean(ctx.body, 'all') ?? false;
  const fields = requestedFields(ctx.body);
  const bots = [...ctx.store.bots.values()].filter((bot) => {
    if (bot.organizationId !== requester.organizationId) {
      return false;
    }
    if (all) {
      return true;
    }
    // `all: false` lists the requester's bots: those of its app for token callers, the
    // PAT-created ones for PAT callers
    // (https://platform.text.com/docs/management/configuration-api#list-bots).
    // Seeded bots count as both.
    if (requester.type === 'agent' && requester.via === 'pat') {
      return bot.createdVia !== 'token';
    }
    return bot.ownerClientId === requester.clientId;
  });
  return bots.map((bot) => ({
    id: bot.id,
    name: bot.name,
    // The v3.6 sample names the field `avatar_path`
    // (https://platform.text.com/docs/management/configuration-api#list-bots).
    ...(bot.avatar === undefined
      ? {}
      : { [ctx.version === '3.6' ? 'avatar_path' : 'avatar']: bot.avatar }),
    ...optionalBotFields(bot, fields),
  }));
};

const botOf = (ctx: ActionContext, id: string): Bot => {
  const requester = requesterOf(ctx);
  const bot = ctx.store.bots.get(id);
  if (!bot || bot.organizationId !== requester.organizationId) {
    throw notFound(`Bot not found: ${id}`);
  }
  return bot;
};

const getBot = (ctx: ActionContext): JsonValue => {
  const bot = botOf(ctx, requireString(ctx.body, 'id'));
  const fields = requestedFields(ctx.body);
  return {
    id: bot.id,
    name: bot.name,
    // The v3.6 sample names it `avatar_path`, like list_bots (create_bot still takes `avatar`).
    ...(bot.avatar === undefined
      ? {}
      : { [ctx.version === '3.6' ? 'avatar_path' : 'avatar']: bot.avatar }),
    default_group_priority: bot.defaultGroupPriority,
    owner_client_id: bot.ownerClientId,
    max_chats_count: bot.maxChatsCount,
    groups: structuredClone(bot.groups),
    ...optionalBotFields(bot, fields),
    ...(ctx.version === '3.6' ? { type: bot.type } : {}),
  };
};

const updateBot = (ctx: ActionContext): JsonValue => {
  const bot = botOf(ctx, requireString(ctx.body, 'id'));
  const name = optionalString(ctx.body, 'name');
  const fields = parseBotFields(ctx);
  if (name !== undefined && name !== '') {
    bot.name = name;
  }
  bot.avatar = fields.avatar ?? bot.avatar;
  bot.maxChatsCount = fields.maxChatsCount ?? bot.maxChatsCount;
  bot.defaultGroupPriority = fields.defaultGroupPriority ?? bot.defaultGroupPriority;
  bot.jobTitle = fields.jobTitle ?? bot.jobTitle;
  bot.groups = fields.groups ?? bot.groups;
  bot.workScheduler = fields.workScheduler ?? bot.workScheduler;
  bot.timezone = fields.timezone ?? bot.timezone;
  bot.type = fields.type ?? bot.type;
  return {};
};

const deleteBot = (ctx: ActionContext): JsonValue => {
  const bot = botOf(ctx, requireString(ctx.body, 'id'));
  const { store } = ctx;
  store.bots.delete(bot.id);
  for (const [token, issued] of store.botTokens) {
    if (issued.botId === bot.id) {
      store.botTokens.delete(token);
    }
  }
  return {};
};

/** A JWT-shaped token; only its presence in the sandbox's table matters. */
const createBotToken = (claims: JsonObject): string => {
  const encode = (value: JsonObject) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${encode({ alg: 'HS256', typ: 'JWT' })}.${encode(claims)}.${randomBytes(32).toString('base64url')}`;
};

/**
 * issue_bot_token: "Required scopes: -" means no scope, not no authentication — every doc
 * example sends `Authorization` (a PAT, earlier a Bearer token), and the only method the docs
 * call unauthenticated is list_webhook_names. So the caller must authenticate as an agent of the
 * organization asked for; a bot token is refused (unconfirmed whether LiveChat takes one here;
 * stricter, so an agent's credentials stay the one documented way). The bot secret must match
 * too (`authentication` otherwise), and `client_id` must be the bot's owner client
 * (unconfirmed; stricter, so a mixed-up client ID fails here rather than later).
 */
const issueBotToken = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const { body } = ctx;
  const botId = requireString(body, 'bot_id');
  const clientId = requireString(body, 'client_id');
  const botSecret = requireString(body, 'bot_secret');
  const organizationId = requireString(body, 'organization_id');
  if (requester.type !== 'agent') {
    throw new ApiError(
      'authorization',
      "issue_bot_token takes an agent's credentials (a personal access token or an access token), not a bot token",
    );
  }
  if (requester.organizationId !== organizationId) {
    throw new ApiError(
      'authorization',
      `The credentials belong to another organization than ${organizationId}`,
    );
  }
  const { store, clock } = ctx;
  const bot = store.bots.get(botId);
  if (!bot || bot.organizationId !== organizationId) {
    throw notFound(`Bot not found: ${botId}`);
  }
  if (bot.secret !== botSecret) {
    throw new ApiError('authentication', 'Invalid bot secret');
  }
  knownClientId(ctx, clientId, 'client_id');
  if (clientId !== bot.ownerClientId) {
    throw validationError("`client_id` must be the bot's owner client ID");
  }
  const expiresAt = clock.now() + ctx.botTokenTtlMs;
  const token = createBotToken({
    bot_id: botId,
    client_id: clientId,
    organization_id: organizationId,
    exp: Math.floor(expiresAt / 1000),
  });
  store.botTokens.set(token, { token, botId, clientId, organizationId, expiresAt });
  return { token };
};

const listWebhookNames = (ctx: ActionContext): JsonValue => {
  // Defaults to the current stable version, 3.6.
  const version = optionalEnum(ctx.body, 'version', API_VERSIONS) ?? '3.6';
  return webhookNames(version);
};

/** Configuration API actions (v3.5/v3.6): webhooks and bots. */
export const CONFIGURATION_ACTIONS: ActionTable = {
  register_webhook: { auth: 'required', scopes: WEBHOOKS_CONFIG, handle: registerWebhook },
  list_webhooks: { auth: 'required', scopes: WEBHOOKS_CONFIG, handle: listWebhooks },
  unregister_webhook: { auth: 'required', scopes: WEBHOOKS_CONFIG, handle: unregisterWebhook },
  enable_license_webhooks: {
    auth: 'required',
    scopes: { anyOf: ['webhooks.state:rw'] },
    handle: (ctx) => setLicenseWebhooks(ctx, true),
  },
  disable_license_webhooks: {
    auth: 'required',
    scopes: { anyOf: ['webhooks.state:rw'] },
    handle: (ctx) => setLicenseWebhooks(ctx, false),
  },
  get_license_webhooks_state: {
    auth: 'required',
    scopes: { anyOf: ['webhooks.state:ro'] },
    handle: getLicenseWebhooksState,
  },
  create_bot: { auth: 'required', scopes: BOTS_WRITE, handle: createBot },
  list_bots: { auth: 'required', scopes: BOTS_READ, handle: listBots },
  get_bot: { auth: 'required', scopes: BOTS_READ, handle: getBot },
  update_bot: { auth: 'required', scopes: BOTS_WRITE, handle: updateBot },
  delete_bot: { auth: 'required', scopes: BOTS_WRITE, handle: deleteBot },
  // Authenticated, but no scope required (see issueBotToken).
  issue_bot_token: { auth: 'required', handle: issueBotToken },
  list_webhook_names: { auth: 'none', handle: listWebhookNames },
};
