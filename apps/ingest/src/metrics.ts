import { Counter, Histogram, type Registry } from '@nudge/telemetry';

export type WebhookOutcome =
  | 'stored'
  | 'ignored'
  | 'unauthorized'
  | 'invalid'
  | 'too_large'
  | 'unsupported_media_type'
  | 'unavailable';

export type IngestMetrics = {
  /** Counts one answered webhook and observes how long the answer took. */
  recordWebhook: (action: string, outcome: WebhookOutcome, status: number, seconds: number) => void;
};

/** Registers the ingest's metrics: webhooks by action and outcome, ack latency by status. */
export const createIngestMetrics = (registry: Registry): IngestMetrics => {
  const webhooks = new Counter({
    name: 'nudge_webhooks_total',
    help: 'LiveChat webhooks answered, by action and outcome',
    labelNames: ['action', 'outcome'] as const,
    registers: [registry],
  });
  const ackSeconds = new Histogram({
    name: 'nudge_webhook_ack_seconds',
    help: 'Time from request to answer, by HTTP status',
    labelNames: ['status'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5],
    registers: [registry],
  });
  // Bound children, looked up once per label set instead of hashing labels per request.
  const counters = new Map<string, Counter.Internal>();
  const histograms = new Map<number, Histogram.Internal<'status'>>();
  return {
    recordWebhook: (action, outcome, status, seconds) => {
      const key = `${action}\u0000${outcome}`;
      let counter = counters.get(key);
      if (!counter) {
        counter = webhooks.labels({ action, outcome });
        counters.set(key, counter);
      }
      counter.inc();
      let histogram = histograms.get(status);
      if (!histogram) {
        histogram = ackSeconds.labels({ status: String(status) });
        histograms.set(status, histogram);
      }
      histogram.observe(seconds);
    },
  };
};
