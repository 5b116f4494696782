import { EventEmitter } from 'node:events';
import { type ClientRequest, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Journal } from './journal.js';
import type { Webhook } from './store.js';

// Delivering webhooks: POST attempts with a timeout, retries, and knowing when all are done.

export type DeliveryTimings = {
  /** No answer within this → a failed attempt (LiveChat: ~10 s). */
  timeoutMs: number;
  /** Wait before each retry; LiveChat retries up to 3 times within about a minute. */
  retryDelaysMs: readonly number[];
};

/** One webhook to one registration: the body is the envelope, serialized once. */
type Delivery = { id: number; webhook: Webhook; action: string; body: string };

type Deliveries = {
  /** Delivers in the background: the API call that caused it answers without waiting. */
  start: (delivery: Delivery) => void;
  /** Deliveries in flight or waiting for a retry. */
  pending: () => number;
  /** Resolves once no delivery is in flight or waiting for a retry. */
  idle: () => Promise<void>;
  closed: () => boolean;
  /** Drops deliveries in flight and cancels retries. */
  close: () => void;
};

type AttemptResult = { status: number } | { error: string };

/** One delivery attempt: POSTs `body`; never rejects (no answer is `{ error }`). */
const postWebhook = (
  url: string,
  body: string,
  {
    timeoutMs,
    inFlight,
    isClosed,
  }: { timeoutMs: number; inFlight: Set<ClientRequest>; isClosed: () => boolean },
): Promise<AttemptResult> =>
  new Promise((resolve) => {
    let target: URL;
    try {
      target = new URL(url);
    } catch {
      resolve({ error: 'invalid url' });
      return;
    }
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    let finished = false;
    const finish = (result: AttemptResult) => {
      if (!finished) {
        finished = true;
        clearTimeout(timer);
        inFlight.delete(req);
        resolve(result);
      }
    };
    const req = send(target, {
      method: 'POST',
      agent: false,
      headers: {
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        'User-Agent': 'LiveChat-Sandbox-Webhooks',
      },
    });
    const timer = setTimeout(() => {
      finish({ error: 'timeout' });
      req.destroy();
    }, timeoutMs);
    inFlight.add(req);
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => finish({ status: res.statusCode ?? 0 }));
      res.on('error', (err) => finish({ error: err.message }));
    });
    req.on('error', (err) => finish({ error: isClosed() ? 'sandbox closed' : err.message }));
    req.end(body);
  });

/** Delivers webhooks, retrying on non-200 answers and timeouts; every attempt is journaled. */
export const createDeliveries = ({
  journal,
  timings,
}: {
  journal: Journal;
  timings: DeliveryTimings;
}): Deliveries => {
  const inFlight = new Set<ClientRequest>();
  const timers = new Set<NodeJS.Timeout>();
  const events = new EventEmitter();
  let pending = 0;
  let closed = false;

  const settle = () => {
    if (closed) {
      return;
    }
    pending -= 1;
    if (pending === 0) {
      events.emit('idle');
    }
  };

  const attempt = async (delivery: Delivery, number: number) => {
    if (closed) {
      return;
    }
    const started = Date.now();
    const result = await postWebhook(delivery.webhook.url, delivery.body, {
      timeoutMs: timings.timeoutMs,
      inFlight,
      isClosed: () => closed,
    });
    // Only exactly 200 counts: the docs ask for HTTP 200, and whether LiveChat accepts other 2xx
    // is unconfirmed: https://platform.text.com/docs/guides/livechat-apps#what-are-webhooks
    const ok = 'status' in result && result.status === 200;
    const delay = timings.retryDelaysMs[number - 1];
    const willRetry = !ok && !closed && delay !== undefined;
    journal.record({
      kind: 'delivery',
      deliveryId: delivery.id,
      webhookId: delivery.webhook.id,
      action: delivery.action,
      url: delivery.webhook.url,
      attempt: number,
      ok,
      ...result,
      durationMs: Date.now() - started,
      willRetry,
    });
    if (!willRetry) {
      settle();
      return;
    }
    const timer = setTimeout(() => {
      timers.delete(timer);
      void attempt(delivery, number + 1);
    }, delay);
    timers.add(timer);
  };

  return {
    start: (delivery) => {
      pending += 1;
      setImmediate(() => void attempt(delivery, 1));
    },
    pending: () => pending,
    idle: () =>
      pending === 0 ? Promise.resolve() : new Promise((resolve) => events.once('idle', resolve)),
    closed: () => closed,
    close: () => {
      closed = true;
      for (const timer of timers) {
        clearTimeout(timer);
      }
      timers.clear();
      for (const req of inFlight) {
        req.destroy();
      }
      pending = 0;
      events.emit('idle');
    },
  };
};
