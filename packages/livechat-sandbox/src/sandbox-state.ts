import type { JsonObject } from './json.js';
import { installationKey, type RoutingStatus, type Store } from './store.js';

export type WebhookRegistration = {
  id: string;
  ownerClientId: string;
  action: string;
  url: string;
  secretKey: string;
  type: 'bot' | 'license';
  filters: JsonObject;
  additionalData: string[];
};

export type BotSummary = {
  id: string;
  secret: string;
  name: string;
  organizationId: string;
  ownerClientId: string;
  routingStatus: RoutingStatus;
};

/** Read-only views of the sandbox's state. */
export type SandboxState = {
  webhooks: () => WebhookRegistration[];
  bots: () => BotSummary[];
  licenseWebhooksEnabled: (clientId: string, organizationId?: string) => boolean;
};

/** Views of `store`; `licenseWebhooksEnabled` defaults to `defaultOrganizationId`. */
export const createSandboxState = (store: Store, defaultOrganizationId: string): SandboxState => ({
  webhooks: () =>
    store.webhooks.map((webhook) => ({
      id: webhook.id,
      ownerClientId: webhook.ownerClientId,
      action: webhook.action,
      url: webhook.url,
      secretKey: webhook.secretKey,
      type: webhook.type,
      filters: structuredClone(webhook.filters) as JsonObject,
      additionalData: [...webhook.additionalData],
    })),
  bots: () =>
    [...store.bots.values()].map((bot) => ({
      id: bot.id,
      secret: bot.secret,
      name: bot.name,
      organizationId: bot.organizationId,
      ownerClientId: bot.ownerClientId,
      routingStatus: bot.routingStatus,
    })),
  licenseWebhooksEnabled: (clientId, organizationId = defaultOrganizationId) =>
    store.installations.get(installationKey(organizationId, clientId))?.licenseWebhooksEnabled ===
    true,
});
