import {
  type ActionContext,
  type ActionTable,
  decodePageId,
  encodePageId,
  requesterOf,
  sourceOf,
} from './actions.js';
import { hasScope, type Requester, requesterUserId, viewerOf } from './auth.js';
import { botHasAccess, findUserKind, requireChat, requireThread } from './chat-lookups.js';
import type { EventDraft } from './chat-state.js';
import {
  renderEvent,
  serializeChat,
  serializeThread,
  serializeUsers,
  type Viewer,
} from './chat-views.js';
import { ApiError, notFound, validationError } from './errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import {
  type ApiVersion,
  type Chat,
  latestThread,
  ROUTING_STATUSES,
  type Thread,
  VISIBILITIES,
} from './store.js';
import {
  optionalBoolean,
  optionalEnum,
  optionalInteger,
  optionalIntegerArray,
  optionalObject,
  optionalString,
  requireEnum,
  requireObject,
  requireString,
} from './validate.js';

const CHATS_WRITE = { anyOf: ['chats--all:rw', 'chats--access:rw'] };
const CHATS_READ = { anyOf: ['chats--all:ro', 'chats--access:ro'] };

// Fields copied from a send_event `event` per type (the v3.5 data structures,
// https://platform.text.com/docs/messaging/agent-chat-api/v3.5/data-structures).
const EVENT_FIELDS: Readonly<Record<string, { required: string[]; optional: string[] }>> = {
  message: { required: ['text'], optional: ['postback'] },
  system_message: { required: ['system_message_type'], optional: ['text', 'text_vars'] },
  file: {
    required: ['url'],
    optional: ['name', 'content_type', 'size', 'width', 'height', 'alternative_text'],
  },
  // `elements` is optional ("Required: no", up to 10) in both versions.
  rich_message: { required: ['template_id'], optional: ['elements'] },
  custom: { required: [], optional: ['content'] },
  filled_form: { required: ['form_id', 'fields'], optional: ['form_type'] },
  form: { required: ['form_id', 'fields'], optional: ['form_type'] },
};

/**
 * A message's text is limited to 16 KB
 * (https://platform.text.com/docs/messaging/agent-chat-api/data-structures#message).
 */
const MAX_TEXT_BYTES = 16 * 1024;

const presentMember = (chat: Chat, userId: string) =>
  chat.members.find((member) => member.id === userId && member.present);

/**
 * The requester must be a chat user
 * (https://platform.text.com/docs/messaging/agent-chat-api#send-event): answered as
 * `authorization`, our pick.
 */
const requirePresence = (chat: Chat, requester: Requester) => {
  const member = presentMember(chat, requesterUserId(requester));
  if (!member) {
    throw new ApiError('authorization', `Requester is not a user of chat ${chat.id}`);
  }
  return member;
};

/**
 * The chat, if the requester may reach it. A bot token carries `chats--access:rw` only: it
 * reaches chats of the bot's groups ("the agent groups and the chat groups must overlap"). The
 * same holds for a v3.5 bot acted as through X-Author-Id (the bot's access, not the agent's).
 * Agents' group memberships are not modelled (seeded agents are in every group they need).
 */
const chatFor = (ctx: ActionContext, requester: Requester, chatId: string): Chat => {
  const chat = requireChat(ctx.store, requester.organizationId, chatId);
  if (requester.type === 'bot' && !botHasAccess(requester.bot, chat)) {
    throw new ApiError(
      'missing_access',
      `Bot ${requester.bot.id} has no access to chat ${chat.id}: not in its groups (${chat.access.group_ids.join(', ')})`,
    );
  }
  return chat;
};

const requireActive = (chat: Chat): Thread => {
  const thread = latestThread(chat);
  if (!thread.active) {
    throw new ApiError('chat_inactive', `Chat ${chat.id} is not active`);
  }
  return thread;
};

/** Rich message templates per version (v3.6 added `ecommerce`). */
const RICH_MESSAGE_TEMPLATES: Readonly<Record<ApiVersion, readonly string[]>> = {
  '3.5': ['cards', 'sticker', 'quick_replies'],
  '3.6': ['cards', 'sticker', 'quick_replies', 'ecommerce'],
};
const MAX_RICH_MESSAGE_ELEMENTS = 10;

const parseEvent = (event: JsonObject, version: ApiVersion): EventDraft => {
  const type = requireString(event, 'type', 'event.type');
  if (type === 'system') {
    // v3.6 structured system events cannot be sent
    // (https://platform.text.com/docs/messaging/agent-chat-api/data-structures#system);
    // v3.5 does not know them.
    throw validationError('`event.type` system cannot be sent');
  }
  const spec = Object.hasOwn(EVENT_FIELDS, type) ? EVENT_FIELDS[type] : undefined;
  if (!spec) {
    throw validationError(`\`event.type\` must be one of: ${Object.keys(EVENT_FIELDS).join(', ')}`);
  }
  const visibility = optionalEnum(event, 'visibility', VISIBILITIES, 'event.visibility') ?? 'all';
  const customId = optionalString(event, 'custom_id', 'event.custom_id');
  const properties = optionalObject(event, 'properties', 'event.properties');
  const draft: EventDraft = { type, visibility };
  for (const field of spec.required) {
    const value = event[field];
    if (value === undefined || value === '') {
      throw validationError(`\`event.${field}\` is required`);
    }
    draft[field] = value;
  }
  for (const field of spec.optional) {
    const value = event[field];
    if (value !== undefined) {
      draft[field] = value;
    }
  }
  if (type === 'rich_message') {
    optionalEnum(event, 'template_id', RICH_MESSAGE_TEMPLATES[version], 'event.template_id');
    const { elements } = draft;
    if (
      elements !== undefined &&
      (!Array.isArray(elements) ||
        elements.length > MAX_RICH_MESSAGE_ELEMENTS ||
        !elements.every(isJsonObject))
    ) {
      throw validationError(
        `\`event.elements\` must be an array of at most ${MAX_RICH_MESSAGE_ELEMENTS} objects`,
      );
    }
  }
  if (type === 'message') {
    if (typeof draft.text !== 'string') {
      throw validationError('`event.text` must be a string');
    }
    if (Buffer.byteLength(draft.text) > MAX_TEXT_BYTES) {
      throw validationError('`event.text` must be at most 16 KB');
    }
  }
  if (customId !== undefined) {
    draft.custom_id = customId;
  }
  if (properties !== undefined) {
    draft.properties = properties;
  }
  return draft;
};

const sendEvent = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const chatId = requireString(ctx.body, 'chat_id');
  const draft = parseEvent(requireObject(ctx.body, 'event'), ctx.version);
  // `attach_to_last_thread` was dropped from the docs (last listed for v3.3:
  // https://platform.text.com/docs/messaging/agent-chat-api/v3.3#send-event); accepted and ignored.
  optionalBoolean(ctx.body, 'attach_to_last_thread');
  const chat = chatFor(ctx, requester, chatId);
  const member = requirePresence(chat, requester);
  const thread = requireActive(chat);
  if (member.visibility === 'agents' && draft.visibility === 'all') {
    throw new ApiError(
      'authorization',
      'A user added with visibility agents cannot send events with visibility all',
    );
  }
  draft.author_id = member.id;
  const event = ctx.chats.addEvent(chat, thread, draft, sourceOf(requester));
  return { event_id: event.id };
};

const getChat = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const chat = chatFor(ctx, requester, requireString(ctx.body, 'chat_id'));
  const threadId = optionalString(ctx.body, 'thread_id');
  const thread = threadId === undefined ? latestThread(chat) : requireThread(chat, threadId);
  return serializeChat(ctx.store, chat, thread, viewerOf(requester, ctx.version));
};

type SortOrder = 'asc' | 'desc';
const SORT_ORDERS: readonly SortOrder[] = ['asc', 'desc'];

/** Reads `sort_order`, `limit` and `page_id`; a page ID carries the query it continues. */
const readPaging = (
  body: JsonObject,
  defaultLimit: number,
): { query: JsonObject; offset: number; sortOrder: SortOrder; limit: number } => {
  const pageId = optionalString(body, 'page_id');
  if (pageId !== undefined) {
    // "When paginating, filters provided in the first request are remembered … Providing a
    // new filters object will result in a validation error."
    if (body.filters !== undefined) {
      throw validationError('`filters` cannot be given with `page_id`: the first page sets them');
    }
    const page = decodePageId(pageId);
    const { offset, sort_order, limit, query } = page;
    if (
      typeof offset !== 'number' ||
      typeof limit !== 'number' ||
      (sort_order !== 'asc' && sort_order !== 'desc') ||
      !isJsonObject(query)
    ) {
      throw validationError('`page_id` is invalid');
    }
    return { query, offset, sortOrder: sort_order, limit };
  }
  return {
    query: body,
    offset: 0,
    sortOrder: optionalEnum(body, 'sort_order', SORT_ORDERS) ?? 'desc',
    limit: optionalInteger(body, 'limit', 'limit', { min: 1, max: 100 }) ?? defaultLimit,
  };
};

const pageLinks = (
  query: JsonObject,
  offset: number,
  limit: number,
  sortOrder: SortOrder,
  total: number,
): JsonObject => ({
  ...(offset + limit < total
    ? {
        next_page_id: encodePageId({ query, offset: offset + limit, limit, sort_order: sortOrder }),
      }
    : {}),
  ...(offset > 0
    ? {
        previous_page_id: encodePageId({
          query,
          offset: Math.max(0, offset - limit),
          limit,
          sort_order: sortOrder,
        }),
      }
    : {}),
});

/** `filters.properties.<namespace>.<name>.{exists, values, exclude_values}` against chat properties. */
const propertiesMatch = (chat: Chat, filter: JsonObject): boolean => {
  for (const [namespace, names] of Object.entries(filter)) {
    if (!isJsonObject(names)) {
      throw validationError(`\`filters.properties.${namespace}\` must be an object`);
    }
    for (const [name, condition] of Object.entries(names)) {
      if (!isJsonObject(condition)) {
        throw validationError(`\`filters.properties.${namespace}.${name}\` must be an object`);
      }
      const value = chat.properties[namespace]?.[name];
      const { exists, values, exclude_values } = condition;
      if (typeof exists === 'boolean' && exists !== (value !== undefined)) {
        return false;
      }
      const same = (candidate: JsonValue) => JSON.stringify(candidate) === JSON.stringify(value);
      if (Array.isArray(values) && !values.some(same)) {
        return false;
      }
      if (Array.isArray(exclude_values) && exclude_values.some(same)) {
        return false;
      }
    }
  }
  return true;
};

const listChats = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const { query, offset, sortOrder, limit } = readPaging(ctx.body, 10);
  const filters = optionalObject(query, 'filters') ?? {};
  // v3.6 replaced `include_active` with `active` (v3.6 entry of
  // https://platform.text.com/docs/messaging/agent-chat-api/changelog): the other version's
  // name is rejected so a client mixing them up fails instead of silently getting every chat.
  if (ctx.version === '3.6' && filters.include_active !== undefined) {
    throw validationError('`filters.include_active` was replaced by `filters.active` in v3.6');
  }
  if (ctx.version === '3.5' && filters.active !== undefined) {
    throw validationError(
      '`filters.active` is not supported in v3.5: use `filters.include_active`',
    );
  }
  const includeActive =
    optionalBoolean(filters, 'include_active', 'filters.include_active') ?? true;
  const active = optionalBoolean(filters, 'active', 'filters.active');
  const groupIds = optionalIntegerArray(filters, 'group_ids', 'filters.group_ids');
  const properties = optionalObject(filters, 'properties', 'filters.properties');
  const matching = [...ctx.store.chats.values()].filter((chat) => {
    if (chat.organizationId !== requester.organizationId) {
      return false;
    }
    // A bot lists only the chats of its groups (see chatFor).
    if (requester.type === 'bot' && !botHasAccess(requester.bot, chat)) {
      return false;
    }
    const isActive = latestThread(chat).active;
    if (ctx.version === '3.5' && !includeActive && isActive) {
      return false;
    }
    if (active !== undefined && active !== isActive) {
      return false;
    }
    if (groupIds && !chat.access.group_ids.some((id) => groupIds.includes(id))) {
      return false;
    }
    return properties === undefined || propertiesMatch(chat, properties);
  });
  // Sorted by the creation of each chat's last thread.
  matching.sort((a, b) => latestThread(a).createdAt.localeCompare(latestThread(b).createdAt));
  if (sortOrder === 'desc') {
    matching.reverse();
  }
  const page = matching.slice(offset, offset + limit);
  return {
    chats_summary: page.map((chat) => summarizeChat(ctx, chat, viewerOf(requester, ctx.version))),
    found_chats: matching.length,
    ...pageLinks(query, offset, limit, sortOrder, matching.length),
  };
};

const summarizeChat = (ctx: ActionContext, chat: Chat, viewer: Viewer): JsonObject => {
  const thread = latestThread(chat);
  const lastEventPerType: JsonObject = {};
  for (const candidate of chat.threads) {
    for (const event of candidate.events) {
      lastEventPerType[event.type] = {
        thread_id: candidate.id,
        thread_created_at: candidate.createdAt,
        event: renderEvent(event, viewer),
      };
    }
  }
  const serialized = serializeThread(chat, thread, viewer);
  return {
    id: chat.id,
    last_event_per_type: lastEventPerType,
    users: serializeUsers(ctx.store, chat, viewer),
    last_thread_summary: {
      id: thread.id,
      created_at: thread.createdAt,
      user_ids: [...thread.userIds],
      properties: serialized.properties ?? {},
      active: thread.active,
      access: serialized.access ?? {},
      ...(thread.tags.length > 0 ? { tags: [...thread.tags] } : {}),
    },
    properties: structuredClone(chat.properties),
    access: structuredClone(chat.access),
    is_followed: false,
  };
};

const listThreads = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const chat = chatFor(ctx, requester, requireString(ctx.body, 'chat_id'));
  const { query, offset, sortOrder, limit } = readPaging(ctx.body, 3);
  const minEvents = optionalInteger(query, 'min_events_count', 'min_events_count', { min: 1 });
  const filters = optionalObject(query, 'filters') ?? {};
  const from = optionalString(filters, 'from', 'filters.from');
  const to = optionalString(filters, 'to', 'filters.to');
  const matching = chat.threads.filter(
    (thread) =>
      (minEvents === undefined || thread.events.length >= minEvents) &&
      (from === undefined || thread.createdAt >= from) &&
      (to === undefined || thread.createdAt <= to),
  );
  if (sortOrder === 'desc') {
    matching.reverse();
  }
  const page = matching.slice(offset, offset + limit);
  return {
    threads: page.map((thread) => serializeThread(chat, thread, viewerOf(requester, ctx.version))),
    found_threads: matching.length,
    ...pageLinks(query, offset, limit, sortOrder, matching.length),
  };
};

const setRoutingStatus = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const status = requireEnum(ctx.body, 'status', ROUTING_STATUSES);
  const agentId = optionalString(ctx.body, 'agent_id') ?? requesterUserId(requester);
  const { store } = ctx;
  const bot = store.bots.get(agentId);
  const agent = store.agents.get(agentId);
  const subject = bot ?? agent;
  if (!subject || subject.organizationId !== requester.organizationId) {
    throw notFound(`Agent not found: ${agentId}`);
  }
  if (status === 'offline' && !bot) {
    throw validationError('`status` offline is allowed for bots only');
  }
  const self = agentId === requesterUserId(requester);
  // Bots: `agents-bot--my:rw` covers the bots "that belong to the client_id related to the
  // token" — a bot token's own app, an agent token's app; a PAT has no client ID, so it
  // needs `agents-bot--all:rw` ("any bots within a license").
  const allowed = bot
    ? requester.type === 'bot'
      ? self || requester.bot.ownerClientId === bot.ownerClientId
      : hasScope(requester.scopes, 'agents-bot--all:rw') ||
        (hasScope(requester.scopes, 'agents-bot--my:rw') &&
          requester.clientId !== undefined &&
          requester.clientId === bot.ownerClientId)
    : requester.type === 'agent' &&
      ((self && hasScope(requester.scopes, 'agents--my:rw')) ||
        hasScope(requester.scopes, 'agents--all:rw'));
  if (!allowed) {
    throw new ApiError('authorization', `Not allowed to set the routing status of ${agentId}`);
  }
  ctx.chats.setRoutingStatus(requester.organizationId, agentId, status, sourceOf(requester));
  return {};
};

const listRoutingStatuses = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const filters = optionalObject(ctx.body, 'filters') ?? {};
  const groupIds = optionalIntegerArray(filters, 'group_ids', 'filters.group_ids');
  const { store } = ctx;
  const statuses: JsonObject[] = [];
  for (const agent of store.agents.values()) {
    // Seeded agents belong to the default group 0.
    if (agent.organizationId === requester.organizationId && (!groupIds || groupIds.includes(0))) {
      statuses.push({ agent_id: agent.id, status: agent.routingStatus });
    }
  }
  for (const bot of store.bots.values()) {
    if (
      bot.organizationId === requester.organizationId &&
      (!groupIds || bot.groups.some((group) => groupIds.includes(group.id)))
    ) {
      statuses.push({ agent_id: bot.id, status: bot.routingStatus });
    }
  }
  return statuses;
};

const tagAction = (ctx: ActionContext, add: boolean): JsonValue => {
  const requester = requesterOf(ctx);
  const chat = chatFor(ctx, requester, requireString(ctx.body, 'chat_id'));
  const thread = requireThread(chat, requireString(ctx.body, 'thread_id'));
  const tag = requireString(ctx.body, 'tag');
  // Inactive threads can be tagged (tagging after a chat is common). Repeating a tag, or
  // removing one that is not there, is a no-op without a webhook (unconfirmed).
  if (add) {
    ctx.chats.tag(chat, thread, tag, sourceOf(requester));
  } else {
    ctx.chats.untag(chat, thread, tag, sourceOf(requester));
  }
  return {};
};

const deactivateChat = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const chat = chatFor(ctx, requester, requireString(ctx.body, 'id'));
  const ignorePresence = optionalBoolean(ctx.body, 'ignore_requester_presence') ?? false;
  requireActive(chat);
  if (!ignorePresence) {
    requirePresence(chat, requester);
  }
  ctx.chats.deactivate(chat, requesterUserId(requester), sourceOf(requester));
  return {};
};

const addUserToChat = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const chat = chatFor(ctx, requester, requireString(ctx.body, 'chat_id'));
  const userId = requireString(ctx.body, 'user_id');
  const userType = requireEnum(ctx.body, 'user_type', ['agent', 'customer'] as const);
  const visibility = requireEnum(ctx.body, 'visibility', VISIBILITIES);
  const ignorePresence = optionalBoolean(ctx.body, 'ignore_requester_presence') ?? false;
  const kind = findUserKind(ctx.store, requester.organizationId, userId);
  if (kind === undefined) {
    throw notFound(`User not found: ${userId}`);
  }
  if ((kind === 'customer') !== (userType === 'customer')) {
    throw validationError(`\`user_type\` ${userType} does not match user ${userId}`);
  }
  // "Additional agents must also have access to the chat": a bot only to its groups' chats.
  const added = kind === 'bot' ? ctx.store.bots.get(userId) : undefined;
  if (added && !botHasAccess(added, chat)) {
    throw new ApiError('missing_access', `Bot ${userId} has no access to chat ${chat.id}`);
  }
  requireActive(chat);
  // Taken literally from the docs: without `ignore_requester_presence` the requester must be
  // in the chat, even to add itself (a license-webhook bot joining a chat sets the flag).
  if (!ignorePresence) {
    requirePresence(chat, requester);
  }
  ctx.chats.addMember(
    chat,
    userId,
    kind,
    visibility,
    requesterUserId(requester),
    sourceOf(requester),
  );
  return {};
};

/**
 * remove_user_from_chat: the user stays in the chat's users with `present: false`. Only
 * agents (bots included) can be removed — never the customer — and, without
 * `ignore_requester_presence`, only by a requester present in the chat. The docs don't ask
 * for an active chat here (unlike add_user_to_chat), so an inactive one is fine.
 */
const removeUserFromChat = (ctx: ActionContext): JsonValue => {
  const requester = requesterOf(ctx);
  const chat = chatFor(ctx, requester, requireString(ctx.body, 'chat_id'));
  const userId = requireString(ctx.body, 'user_id');
  const userType = requireString(ctx.body, 'user_type');
  if (userType !== 'agent') {
    throw validationError('`user_type` must be agent: the customer cannot be removed');
  }
  const ignorePresence = optionalBoolean(ctx.body, 'ignore_requester_presence') ?? false;
  if (!ignorePresence) {
    requirePresence(chat, requester);
  }
  const member = presentMember(chat, userId);
  if (!member) {
    throw notFound(`User ${userId} is not in chat ${chat.id}`);
  }
  if (member.kind === 'customer') {
    throw validationError('The customer cannot be removed from the chat');
  }
  ctx.chats.removeMember(chat, member, requesterUserId(requester), sourceOf(requester));
  return {};
};

/** Agent Chat Web API actions (v3.5/v3.6). */
export const AGENT_ACTIONS: ActionTable = {
  send_event: { auth: 'required', scopes: CHATS_WRITE, handle: sendEvent },
  get_chat: { auth: 'required', scopes: CHATS_READ, handle: getChat },
  list_chats: { auth: 'required', scopes: CHATS_READ, handle: listChats },
  list_threads: { auth: 'required', scopes: CHATS_READ, handle: listThreads },
  set_routing_status: {
    auth: 'required',
    scopes: {
      anyOf: ['agents--my:rw', 'agents--all:rw', 'agents-bot--my:rw', 'agents-bot--all:rw'],
    },
    handle: setRoutingStatus,
  },
  list_routing_statuses: {
    auth: 'required',
    scopes: { allOf: ['agents--all:ro', 'agents-bot--all:ro'] },
    handle: listRoutingStatuses,
  },
  tag_thread: { auth: 'required', scopes: CHATS_WRITE, handle: (ctx) => tagAction(ctx, true) },
  untag_thread: { auth: 'required', scopes: CHATS_WRITE, handle: (ctx) => tagAction(ctx, false) },
  deactivate_chat: { auth: 'required', scopes: CHATS_WRITE, handle: deactivateChat },
  add_user_to_chat: { auth: 'required', scopes: CHATS_WRITE, handle: addUserToChat },
  remove_user_from_chat: { auth: 'required', scopes: CHATS_WRITE, handle: removeUserFromChat },
};
