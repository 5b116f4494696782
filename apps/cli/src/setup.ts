import { type LivechatClient, WEBHOOK_ACTIONS } from '@nudge/livechat';

export type RegisterWebhooksOptions = {
  /** A client with `webhooks.configuration:rw` (a PAT). */
  client: LivechatClient;
  clientId: string;
  /** Where LiveChat should POST: the ingest's public webhook URL. */
  url: string;
  secret: string;
  /** `license`: every event of the organization; `bot`: only while a bot of the app is online. */
  type: 'license' | 'bot';
};

/**
 * Registers one webhook per action Nudge stores. LiveChat's webhooks can't be edited, so any
 * already registered for this URL are removed first: running it twice leaves one set.
 */
export const registerWebhooks = async ({
  client,
  clientId,
  url,
  secret,
  type,
}: RegisterWebhooksOptions): Promise<string[]> => {
  const existing = await client.listWebhooks({ owner_client_id: clientId });
  for (const webhook of existing.filter((candidate) => candidate.url === url)) {
    await client.unregisterWebhook({ id: webhook.id, owner_client_id: clientId });
  }
  const ids: string[] = [];
  for (const action of WEBHOOK_ACTIONS) {
    const { id } = await client.registerWebhook({
      action,
      url,
      secret_key: secret,
      owner_client_id: clientId,
      type,
    });
    ids.push(id);
  }
  return ids;
};
