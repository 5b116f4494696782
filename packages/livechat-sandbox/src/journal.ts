import { EventEmitter } from 'node:events';

/** Who made an API call, as the sandbox understood its credentials. */
export type CallIdentity =
  | { type: 'agent'; agentId: string; accountId: string; via: 'pat' | 'agent_token' }
  | {
      type: 'bot';
      botId: string;
      via: 'bot_token' | 'x_author_id';
      /** The agent whose credentials carried `X-Author-Id` (v3.5 impersonation). */
      impersonatedBy?: string;
    }
  | { type: 'anonymous' };

/** One Agent Chat / Configuration API call. `status` is unset while it is still unanswered (hang). */
export type CallEntry = {
  kind: 'call';
  seq: number;
  time: string;
  version: string;
  api: string;
  action: string;
  identity: CallIdentity | undefined;
  /** The `X-Region` header sent, if any. */
  region?: string;
  request: unknown;
  status?: number;
  response?: unknown;
  /** The fault that shaped this answer, if any. */
  fault?: { id: string; mode: string };
};

/** A webhook the sandbox decided to send (one per matching registration), in creation order. */
export type WebhookEntry = {
  kind: 'webhook';
  seq: number;
  time: string;
  deliveryId: number;
  webhookId: string;
  action: string;
  url: string;
  organizationId: string;
  body: unknown;
};

/** One delivery attempt of a webhook. */
export type DeliveryEntry = {
  kind: 'delivery';
  seq: number;
  time: string;
  deliveryId: number;
  webhookId: string;
  action: string;
  url: string;
  /** 1 for the first try, 2.. for retries. */
  attempt: number;
  ok: boolean;
  status?: number;
  /** `timeout` or the connection error's message. */
  error?: string;
  durationMs: number;
  willRetry: boolean;
};

export type JournalEntry = CallEntry | WebhookEntry | DeliveryEntry;

type Omitted<T> = T extends unknown ? Omit<T, 'seq' | 'time'> : never;

export type Journal = {
  /** Every entry so far, in order. */
  readonly entries: readonly JournalEntry[];
  calls: () => CallEntry[];
  webhooks: () => WebhookEntry[];
  deliveries: () => DeliveryEntry[];
  /** Events: `entry` (any), `request` (call received), `call` (call answered), `webhook`, `delivery`. */
  readonly events: EventEmitter;
  /** Resolves with the first answered call matching `predicate` (already recorded or future). */
  waitForCall: (predicate: (entry: CallEntry) => boolean, timeoutMs?: number) => Promise<CallEntry>;
  /** Resolves with the first received call matching `predicate`, answered or not (hang faults). */
  waitForRequest: (
    predicate: (entry: CallEntry) => boolean,
    timeoutMs?: number,
  ) => Promise<CallEntry>;
  waitForWebhook: (
    predicate: (entry: WebhookEntry) => boolean,
    timeoutMs?: number,
  ) => Promise<WebhookEntry>;
  waitForDelivery: (
    predicate: (entry: DeliveryEntry) => boolean,
    timeoutMs?: number,
  ) => Promise<DeliveryEntry>;
  clear: () => void;
  /** Internal: appends an entry and announces it. */
  record: <T extends Omitted<JournalEntry>>(entry: T) => T & { seq: number; time: string };
  /** Internal: marks a call answered. */
  answer: (entry: CallEntry, status: number, response: unknown) => void;
};

const DEFAULT_WAIT_MS = 5_000;

/** The sandbox's record of calls and webhook deliveries, with wait helpers for tests. */
export const createJournal = (): Journal => {
  const entries: JournalEntry[] = [];
  const events = new EventEmitter();
  events.setMaxListeners(0);
  let seq = 0;

  const waitFor = <T extends JournalEntry>(
    event: string,
    existing: () => T[],
    predicate: (entry: T) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<T> => {
    const seen = existing().find(predicate);
    if (seen) {
      return Promise.resolve(seen);
    }
    return new Promise<T>((resolve, reject) => {
      const listener = (entry: T) => {
        if (predicate(entry)) {
          clearTimeout(timer);
          events.off(event, listener);
          resolve(entry);
        }
      };
      const timer = setTimeout(() => {
        events.off(event, listener);
        reject(new Error(`sandbox journal: no matching ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      events.on(event, listener);
    });
  };

  const calls = () => entries.filter((entry): entry is CallEntry => entry.kind === 'call');
  const answeredCalls = () => calls().filter((entry) => entry.status !== undefined);
  const webhooks = () => entries.filter((entry): entry is WebhookEntry => entry.kind === 'webhook');
  const deliveries = () =>
    entries.filter((entry): entry is DeliveryEntry => entry.kind === 'delivery');

  return {
    entries,
    calls,
    webhooks,
    deliveries,
    events,
    waitForCall: (predicate, timeoutMs = DEFAULT_WAIT_MS) =>
      waitFor('call', answeredCalls, predicate, timeoutMs, 'call'),
    waitForRequest: (predicate, timeoutMs = DEFAULT_WAIT_MS) =>
      waitFor('request', calls, predicate, timeoutMs, 'request'),
    waitForWebhook: (predicate, timeoutMs = DEFAULT_WAIT_MS) =>
      waitFor('webhook', webhooks, predicate, timeoutMs, 'webhook'),
    waitForDelivery: (predicate, timeoutMs = DEFAULT_WAIT_MS) =>
      waitFor('delivery', deliveries, predicate, timeoutMs, 'delivery'),
    clear: () => {
      entries.length = 0;
    },
    record: (entry) => {
      seq += 1;
      const full = { ...entry, seq, time: new Date().toISOString() };
      entries.push(full as JournalEntry);
      events.emit('entry', full);
      events.emit(entry.kind === 'call' ? 'request' : entry.kind, full);
      return full;
    },
    answer: (entry, status, response) => {
      entry.status = status;
      entry.response = response;
      events.emit('call', entry);
    },
  };
};

/** A message a bot (or any API user) sent that LiveChat accepted: a send_event answered 200. */
export type SentMessage = {
  chatId: string;
  customId: string;
  text: string;
  visibility: string;
  /** The bot it was sent as, when the caller acted as one. */
  botId: string | undefined;
  /** When the sandbox received the call (ms since epoch). */
  at: number;
};

/** The accepted send_event calls among `entries`, in order: what chats really received. */
export const sentMessagesOf = (entries: readonly JournalEntry[]): SentMessage[] =>
  entries
    .filter(
      (entry): entry is CallEntry =>
        entry.kind === 'call' && entry.action === 'send_event' && entry.status === 200,
    )
    .map((call) => {
      const request = call.request as {
        chat_id: string;
        event: { custom_id?: string; text?: string; visibility?: string };
      };
      return {
        chatId: request.chat_id,
        customId: request.event.custom_id ?? '',
        text: request.event.text ?? '',
        visibility: request.event.visibility ?? 'all',
        botId: call.identity?.type === 'bot' ? call.identity.botId : undefined,
        at: Date.parse(call.time),
      };
    });
