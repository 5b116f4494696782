import { setTimeout as delay } from 'node:timers/promises';
import type { OrganizationRules } from '@nudge/config';
import { type Chat, chatIdOfEnvelope, type LivechatClient } from '@nudge/livechat';
import { deriveDedupeKey, type LivechatEventJob } from '@nudge/queues';
import type { Logger } from '@nudge/telemetry';

/**
 * After an outage longer than LiveChat's retries (about three within a minute), the webhooks
 * sent meanwhile are gone. Reconciling reads what LiveChat holds — the active chats, each
 * one's current thread — and stores again the webhooks that thread implies: the chat
 * (incoming_chat), each event since the outage began (incoming_event), each tag
 * (thread_tagged) and the rating (thread_properties_updated). They take the path every
 * webhook takes, with the same dedupe keys: one already handled is skipped by the route step,
 * one lost is routed now (an idle timer from the customer's last message, less the time
 * already waited; a tag's suggestions; a rating's reaction). The rules' custom_id markers keep
 * each bot message once, whatever was or was not delivered before.
 */

type Envelope = LivechatEventJob['envelope'];

const createdAtOf = (value: { created_at?: unknown }): number | undefined => {
  const parsed = typeof value.created_at === 'string' ? Date.parse(value.created_at) : Number.NaN;
  return Number.isNaN(parsed) ? undefined : parsed;
};

/**
 * The webhooks a chat's current thread implies, as LiveChat would have sent them: the chat,
 * its events created at or after `sinceMs` (oldest first), its tags, its rating. Pure.
 */
export const webhooksOfChat = (chat: Chat, organizationId: string, sinceMs: number): Envelope[] => {
  const { skippedEvents: _skipped, ...thread } = chat.thread;
  const base = { organization_id: organizationId, additional_data: {} };
  const chatId = chat.id;
  const threadId = thread.id;
  const envelopes: Envelope[] = [
    {
      ...base,
      action: 'incoming_chat',
      payload: { chat: { id: chatId, users: chat.users, properties: chat.properties, thread } },
    },
  ];
  for (const event of thread.events) {
    if ((createdAtOf(event) ?? Number.POSITIVE_INFINITY) >= sinceMs) {
      envelopes.push({
        ...base,
        action: 'incoming_event',
        payload: { chat_id: chatId, thread_id: threadId, event },
      });
    }
  }
  for (const tag of thread.tags) {
    envelopes.push({
      ...base,
      action: 'thread_tagged',
      payload: { chat_id: chatId, thread_id: threadId, tag },
    });
  }
  const rating = thread.properties.rating;
  if (rating !== undefined && rating.score !== undefined) {
    envelopes.push({
      ...base,
      action: 'thread_properties_updated',
      payload: { chat_id: chatId, thread_id: threadId, properties: { rating } },
    });
  }
  return envelopes;
};

/** A webhook as ingest stores it. */
export const storedWebhook = (
  organizationId: string,
  envelope: Envelope,
  now: number,
): LivechatEventJob => {
  const chatId = chatIdOfEnvelope(envelope);
  return {
    organizationId,
    envelope,
    dedupeKey: deriveDedupeKey({
      organizationId,
      action: envelope.action,
      payload: envelope.payload,
    }),
    receivedAt: now,
    ...(chatId === undefined ? {} : { chatId }),
  };
};

export type ReconcileResult = { chats: number; webhooks: number };

export type ReconcileOrganizationOptions = {
  organization: OrganizationRules;
  /** Lists and reads chats: the account's client (PAT), else a bot's. */
  client: LivechatClient;
  sinceMs: number;
  /** Stores the webhooks (ingest's path: one job per dedupe key). */
  store: (jobs: LivechatEventJob[]) => Promise<void>;
  /** At most this many LiveChat calls per second, so a sweep leaves room for live traffic. */
  callsPerSecond: number;
  now?: () => number;
  log?: Logger;
};

/**
 * Every active chat of one organization (list_chats, 100 per page), each one's thread read
 * (get_chat) and its webhooks stored again.
 */
export const reconcileOrganization = async ({
  organization,
  client,
  sinceMs,
  store,
  callsPerSecond,
  now = Date.now,
  log,
}: ReconcileOrganizationOptions): Promise<ReconcileResult> => {
  const pause = () => delay(1_000 / callsPerSecond);
  const result: ReconcileResult = { chats: 0, webhooks: 0 };
  let pageId: string | undefined;
  do {
    const page = await client.listChats(
      pageId === undefined ? { filters: { active: true }, limit: 100 } : { page_id: pageId },
    );
    await pause();
    for (const summary of page.chats_summary) {
      const threadId = summary.last_thread_summary?.id;
      if (threadId === undefined || summary.last_thread_summary?.active === false) {
        continue;
      }
      const chat = await client.getChat({ chat_id: summary.id, thread_id: threadId });
      await pause();
      if (!chat.thread.active) {
        continue;
      }
      const envelopes = webhooksOfChat(chat, organization.organizationId, sinceMs);
      await store(
        envelopes.map((envelope) => storedWebhook(organization.organizationId, envelope, now())),
      );
      result.chats += 1;
      result.webhooks += envelopes.length;
    }
    pageId = page.next_page_id;
  } while (pageId !== undefined);
  log?.info(
    {
      organizationId: organization.organizationId,
      ...result,
      since: new Date(sinceMs).toISOString(),
    },
    'reconciled',
  );
  return result;
};
