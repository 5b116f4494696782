import type { OrganizationRules } from '@nudge/config';
import {
  type BotTokenCache,
  createLivechatClient,
  createRegionStore,
  type LivechatAuth,
  type LivechatCallObservation,
  type LivechatClient,
  type LivechatIssuerAuth,
  type LivechatLogger,
  type LivechatRegionStore,
  type LivechatSkippedEvent,
} from '@nudge/livechat';

export type LivechatClients = {
  /** A client acting as `botId` in the organization (bot token, or PAT + X-Author-Id on 3.5). */
  asBot: (organization: OrganizationRules, botId: string) => LivechatClient;
  /** A client with agent scopes (the organization's PAT, else its access token), if configured. */
  asAccount: (organization: OrganizationRules) => LivechatClient | undefined;
};

/** The organization's agent credentials: its PAT, else its access token (Bearer). */
const accountAuth = (organization: OrganizationRules): LivechatIssuerAuth | undefined => {
  if (organization.pat) {
    return { type: 'pat', accountId: organization.pat.accountId, pat: organization.pat.token };
  }
  return organization.accessToken ? { type: 'bearer', token: organization.accessToken } : undefined;
};

export type CreateLivechatClientsOptions = {
  baseUrl: string;
  timeoutMs: number;
  /** Where bot tokens are shared; only `asBot` needs it (the CLI acts as the account alone). */
  tokenCache?: BotTokenCache;
  log: LivechatLogger;
  /** Events of a get_chat / list_threads thread left out because they don't parse. */
  onSkippedEvent?: (skipped: LivechatSkippedEvent) => void;
  /** Each HTTP call, for metrics. */
  onCall?: (observation: LivechatCallObservation) => void;
};

/** Builds (once, then reuses) one LiveChat client per organization and identity. */
export const createLivechatClients = ({
  baseUrl,
  timeoutMs,
  tokenCache,
  log,
  onSkippedEvent,
  onCall,
}: CreateLivechatClientsOptions): LivechatClients => {
  const clients = new Map<string, LivechatClient>();
  // One region per organization, shared by its clients: when LiveChat misdirects one of them
  // (misdirected_request names the right data center), all of them go there from then on.
  const regions = new Map<string, LivechatRegionStore>();
  const regionOf = (organization: OrganizationRules) => {
    let store = regions.get(organization.organizationId);
    if (!store) {
      store = createRegionStore(organization.region);
      regions.set(organization.organizationId, store);
    }
    return store;
  };
  // Legacy/Deprecation notices once per process, not once per client.
  const seenNoticeHeaders = new Set<string>();
  const build = (key: string, organization: OrganizationRules, auth: LivechatAuth) => {
    let client = clients.get(key);
    if (!client) {
      client = createLivechatClient({
        auth,
        baseUrl,
        version: organization.apiVersion,
        timeoutMs,
        regionStore: regionOf(organization),
        log,
        seenNoticeHeaders,
        ...(onSkippedEvent ? { onSkippedEvent } : {}),
        ...(onCall ? { onCall } : {}),
      });
      clients.set(key, client);
    }
    return client;
  };

  return {
    asBot: (organization, botId) => {
      const bot = organization.bots.find((candidate) => candidate.id === botId);
      // issue_bot_token is called with the organization's credentials (the rules file
      // requires them for every bot with a secret).
      const issuer = accountAuth(organization);
      if (bot?.secret && organization.clientId && issuer) {
        if (!tokenCache) {
          throw new Error('createLivechatClients: acting as a bot needs a tokenCache');
        }
        return build(`${organization.organizationId}\u0000bot\u0000${botId}`, organization, {
          type: 'bot',
          botId,
          clientId: organization.clientId,
          botSecret: bot.secret,
          organizationId: organization.organizationId,
          issuer,
          tokenCache,
        });
      }
      if (organization.pat && organization.apiVersion === '3.5') {
        // Legacy impersonation: the account's PAT acting as the bot.
        return build(`${organization.organizationId}\u0000pat-as\u0000${botId}`, organization, {
          type: 'pat',
          accountId: organization.pat.accountId,
          pat: organization.pat.token,
          authorId: botId,
        });
      }
      throw new Error(
        `no credentials to act as bot ${botId} in organization ${organization.organizationId}`,
      );
    },
    asAccount: (organization) => {
      const auth = accountAuth(organization);
      return auth
        ? build(`${organization.organizationId}\u0000account`, organization, auth)
        : undefined;
    },
  };
};
