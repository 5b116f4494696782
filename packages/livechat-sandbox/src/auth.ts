import type { IncomingHttpHeaders } from 'node:http';
import type { Viewer } from './chat-views.js';
import { ApiError, validationError } from './errors.js';
import type { CallIdentity } from './journal.js';
import {
  type Agent,
  type ApiVersion,
  BOT_TOKEN_SCOPES,
  type Bot,
  DEFAULT_REGION,
  type Store,
} from './store.js';

/** The requester of an API call. */
export type Requester =
  | {
      type: 'agent';
      agent: Agent;
      organizationId: string;
      via: 'pat' | 'agent_token';
      /** Bearer agent tokens are issued through an app; PATs carry no client ID. */
      clientId: string | undefined;
      scopes: ReadonlySet<string>;
    }
  | {
      type: 'bot';
      bot: Bot;
      organizationId: string;
      via: 'bot_token' | 'x_author_id';
      clientId: string | undefined;
      scopes: ReadonlySet<string>;
      impersonatedBy?: Agent;
    };

/** The requester's user ID in chats (agent e-mail or bot ID). */
export const requesterUserId = (requester: Requester): string =>
  requester.type === 'agent' ? requester.agent.id : requester.bot.id;

export const describeRequester = (requester: Requester | undefined): CallIdentity => {
  if (!requester) {
    return { type: 'anonymous' };
  }
  if (requester.type === 'agent') {
    return {
      type: 'agent',
      agentId: requester.agent.id,
      accountId: requester.agent.accountId,
      via: requester.via,
    };
  }
  return {
    type: 'bot',
    botId: requester.bot.id,
    via: requester.via,
    ...(requester.impersonatedBy ? { impersonatedBy: requester.impersonatedBy.id } : {}),
  };
};

const unauthenticated = (message: string) => new ApiError('authentication', message);

const headerValue = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
};

/** The agent or bot behind `Authorization`, before any `X-Author-Id` impersonation. */
const authenticate = (store: Store, authorization: string | undefined, now: number): Requester => {
  if (!authorization) {
    throw unauthenticated('Missing Authorization header');
  }
  const [scheme = '', credentials = ''] = authorization.trim().split(/\s+/, 2);
  if (scheme.toLowerCase() === 'bearer' && credentials) {
    const botToken = store.botTokens.get(credentials);
    if (botToken) {
      const bot = store.bots.get(botToken.botId);
      if (!bot) {
        throw unauthenticated('Invalid access token: the bot was deleted');
      }
      if (botToken.expiresAt <= now) {
        throw unauthenticated('Access token expired');
      }
      return {
        type: 'bot',
        bot,
        organizationId: botToken.organizationId,
        via: 'bot_token',
        clientId: botToken.clientId,
        scopes: new Set(BOT_TOKEN_SCOPES),
      };
    }
    for (const agent of store.agents.values()) {
      if (agent.agentToken !== undefined && agent.agentToken === credentials) {
        return {
          type: 'agent',
          agent,
          organizationId: agent.organizationId,
          via: 'agent_token',
          clientId: agent.agentTokenClientId,
          scopes: agent.scopes,
        };
      }
    }
    throw unauthenticated('Invalid access token');
  }
  if (scheme.toLowerCase() === 'basic' && credentials) {
    // Some doc samples print `Basic <account_id>:<PAT>` unencoded; LiveChat wants base64.
    if (credentials.includes(':')) {
      throw unauthenticated('Basic credentials must be base64("<account_id>:<PAT>")');
    }
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const separator = decoded.indexOf(':');
    const accountId = decoded.slice(0, separator);
    const pat = decoded.slice(separator + 1);
    for (const agent of store.agents.values()) {
      if (
        separator > 0 &&
        agent.accountId === accountId &&
        agent.pat !== undefined &&
        agent.pat === pat
      ) {
        return {
          type: 'agent',
          agent,
          organizationId: agent.organizationId,
          via: 'pat',
          clientId: undefined,
          scopes: agent.scopes,
        };
      }
    }
    throw unauthenticated('Invalid personal access token');
  }
  throw unauthenticated('Unsupported Authorization header: use Bearer or Basic');
};

/**
 * Resolves the requester of an Agent Chat / Configuration API call.
 *
 * `X-Author-Id` (legacy bot impersonation): on v3.5 an agent token or PAT plus the header acts
 * as that bot on the Agent Chat API (the Configuration API ignores it). v3.6 removed the header;
 * rather than silently ignoring it we answer `validation`, so a client still sending it (and so
 * acting as the wrong user) fails loudly.
 */
export const resolveRequester = ({
  store,
  headers,
  version,
  api,
  now,
}: {
  store: Store;
  headers: IncomingHttpHeaders;
  version: ApiVersion;
  api: 'agent' | 'configuration';
  now: number;
}): Requester => {
  const requester = authenticate(store, headerValue(headers, 'authorization'), now);
  const authorId = headerValue(headers, 'x-author-id');
  if (authorId === undefined) {
    return requester;
  }
  if (version !== '3.5') {
    throw validationError(
      `X-Author-Id is not supported in v${version}: act as a bot with a bot token (issue_bot_token)`,
    );
  }
  if (api !== 'agent') {
    return requester;
  }
  if (requester.type === 'bot') {
    if (authorId !== requester.bot.id) {
      throw new ApiError('authorization', 'A bot token cannot act as another user');
    }
    return requester;
  }
  const bot = store.bots.get(authorId);
  if (!bot || bot.organizationId !== requester.organizationId) {
    throw new ApiError('authorization', `X-Author-Id: no bot ${authorId} in this organization`);
  }
  return {
    type: 'bot',
    bot,
    organizationId: requester.organizationId,
    via: 'x_author_id',
    clientId: requester.clientId,
    // The impersonating agent's permissions apply.
    scopes: requester.scopes,
    impersonatedBy: requester.agent,
  };
};

/**
 * The requester's organization is served from one data center (`region`); a request sent to
 * another (`X-Region`, absent = `dal`) answers misdirected_request naming the right one in
 * `error.data.region` ("this is where the client should be connected").
 */
export const checkRegion = (
  store: Store,
  requester: Requester,
  headers: IncomingHttpHeaders,
): void => {
  const region = store.organizations.get(requester.organizationId)?.region ?? DEFAULT_REGION;
  const sent = headerValue(headers, 'x-region') ?? DEFAULT_REGION;
  if (sent !== region) {
    throw new ApiError('misdirected_request', 'Wrong region', undefined, { region });
  }
};

/**
 * How `requester` reads chats: bots (also impersonated ones) and `normal` agents get deleted
 * events stripped; higher roles get the original with `deleted: true`. The deleted event is a
 * v3.6 structure; on v3.5 we serve the same (unconfirmed, and the safer reading: deleted content
 * does not reappear through an older version).
 */
export const viewerOf = (requester: Requester, version: ApiVersion): Viewer => ({
  version,
  deletedEvents:
    requester.type === 'agent' && requester.agent.role !== 'normal' ? 'original' : 'stripped',
});

/** `:rw` implies `:ro`. */
export const hasScope = (scopes: ReadonlySet<string>, scope: string): boolean =>
  scopes.has(scope) || (scope.endsWith(':ro') && scopes.has(`${scope.slice(0, -3)}:rw`));
