import type { Journal } from './journal.js';
import { cloneJson, type JsonObject } from './json.js';
import {
  type ApiVersion,
  type Chat,
  installationKey,
  latestThread,
  type Store,
  type Webhook,
} from './store.js';
import { createDeliveries, type DeliveryTimings } from './webhook-delivery.js';

/**
 * Who caused a webhook, for the `source_type` filter: an API client (its client ID, if the
 * credentials carry one) or the system (router, rating system messages).
 */
export type WebhookSource = { kind: 'client'; clientId: string | undefined } | { kind: 'system' };

export type WebhookInput = {
  organizationId: string;
  action: string;
  /** The payload, or one per API version of the registration (e.g. v3.6 renamed `last_visit`). */
  payload: JsonObject | ((version: ApiVersion) => JsonObject);
  /** The chat the webhook is about: chat filters and `additional_data` need it. */
  chat?: Chat;
  /** For `author_type`: the event author's user type; undefined for system messages. */
  authorType?: 'customer' | 'agent';
  /** For `routing_status_set`'s `agent_ids` filter. */
  agentId?: string;
  source: WebhookSource;
};

export type Dispatcher = {
  /** Creates one delivery per matching registration; returns how many. Never blocks. */
  emit: (input: WebhookInput) => number;
  /** Deliveries in flight or waiting for a retry. */
  pending: () => number;
  /** Resolves once no delivery is in flight or waiting for a retry. */
  idle: () => Promise<void>;
  close: () => void;
};

const CHAT_FILTER_ACTIONS_WITHOUT_CHAT = new Set(['routing_status_set']);

const presentUserIds = (chat: Chat): string[] =>
  chat.members.filter((member) => member.present).map((member) => member.id);

const sourceMatches = (webhook: Webhook, source: WebhookSource): boolean => {
  const allowed = webhook.filters.source_type;
  if (!allowed) {
    return true;
  }
  // PATs carry no client ID; we count their calls as `other_clients` (unconfirmed).
  const kind =
    source.kind === 'system'
      ? 'system'
      : source.clientId === webhook.ownerClientId
        ? 'my_client'
        : 'other_clients';
  return allowed.includes(kind);
};

/** Filters combine with AND (unconfirmed in the docs; the natural reading). */
const filtersPass = (store: Store, webhook: Webhook, input: WebhookInput): boolean => {
  const { filters } = webhook;
  if (!sourceMatches(webhook, input.source)) {
    return false;
  }
  if (
    filters.author_type &&
    (input.action === 'incoming_event' || input.action === 'event_updated')
  ) {
    // System messages have no author, so they match neither `customer` nor `agent` (unconfirmed).
    if (input.authorType !== filters.author_type) {
      return false;
    }
  }
  if (
    filters.agent_ids &&
    input.agentId !== undefined &&
    !filters.agent_ids.includes(input.agentId)
  ) {
    return false;
  }
  const { chat } = input;
  if (!chat || CHAT_FILTER_ACTIONS_WITHOUT_CHAT.has(input.action)) {
    return true;
  }
  if (filters.only_my_chats) {
    const source = latestThread(chat).properties.source ?? chat.properties.source;
    if (source?.client_id !== webhook.ownerClientId) {
      return false;
    }
  }
  const presence = filters.chat_presence;
  if (presence) {
    const present = presentUserIds(chat);
    const values = presence.user_ids?.values;
    if (values && !values.some((id) => present.includes(id))) {
      return false;
    }
    const excluded = presence.user_ids?.exclude_values;
    if (excluded?.some((id) => present.includes(id))) {
      return false;
    }
    if (
      presence.my_bots &&
      !present.some((id) => store.bots.get(id)?.ownerClientId === webhook.ownerClientId)
    ) {
      return false;
    }
  }
  return true;
};

/** `license`: the app is installed and its license webhooks enabled; `bot`: one of its bots is not offline. */
const typeAllows = (store: Store, webhook: Webhook, organizationId: string): boolean => {
  if (webhook.type === 'license') {
    return (
      store.installations.get(installationKey(organizationId, webhook.ownerClientId))
        ?.licenseWebhooksEnabled === true
    );
  }
  for (const bot of store.bots.values()) {
    // `not_accepting_chats` still receives bot webhooks; only `offline` stops them
    // (https://platform.text.com/docs/management#webhooks).
    if (
      bot.ownerClientId === webhook.ownerClientId &&
      bot.organizationId === organizationId &&
      bot.routingStatus !== 'offline'
    ) {
      return true;
    }
  }
  return false;
};

const additionalDataFor = (webhook: Webhook, chat: Chat | undefined): JsonObject => {
  const data: JsonObject = {};
  if (!chat) {
    return data;
  }
  if (webhook.additionalData.includes('chat_properties')) {
    data.chat_properties = cloneJson(chat.properties);
  }
  if (webhook.additionalData.includes('chat_presence_user_ids')) {
    data.chat_presence_user_ids = presentUserIds(chat);
  }
  return data;
};

/** Whether the registration gets this webhook: its action, its type's state, its filters. */
const matches = (store: Store, webhook: Webhook, input: WebhookInput): boolean =>
  webhook.action === input.action &&
  typeAllows(store, webhook, input.organizationId) &&
  filtersPass(store, webhook, input);

/** LiveChat's envelope around the payload, in the registration's API version. */
const envelopeOf = (webhook: Webhook, input: WebhookInput): JsonObject => ({
  webhook_id: webhook.id,
  secret_key: webhook.secretKey,
  action: input.action,
  organization_id: input.organizationId,
  payload: cloneJson(
    typeof input.payload === 'function' ? input.payload(webhook.version) : input.payload,
  ),
  additional_data: additionalDataFor(webhook, input.chat),
});

/** Sends webhooks in LiveChat's envelope to every matching registration, with retries. */
export const createDispatcher = ({
  store,
  journal,
  timings,
}: {
  store: Store;
  journal: Journal;
  timings: DeliveryTimings;
}): Dispatcher => {
  const deliveries = createDeliveries({ journal, timings });
  let deliveryCounter = 0;
  return {
    emit: (input) => {
      if (deliveries.closed()) {
        return 0;
      }
      let created = 0;
      for (const webhook of store.webhooks) {
        if (!matches(store, webhook, input)) {
          continue;
        }
        const envelope = envelopeOf(webhook, input);
        deliveryCounter += 1;
        const delivery = {
          id: deliveryCounter,
          webhook,
          action: input.action,
          body: JSON.stringify(envelope),
        };
        journal.record({
          kind: 'webhook',
          deliveryId: delivery.id,
          webhookId: webhook.id,
          action: input.action,
          url: webhook.url,
          organizationId: input.organizationId,
          body: envelope,
        });
        deliveries.start(delivery);
        created += 1;
      }
      return created;
    },
    pending: deliveries.pending,
    idle: deliveries.idle,
    close: deliveries.close,
  };
};
