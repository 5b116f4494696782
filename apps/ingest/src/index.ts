export { type CreateAppOptions, createApp, type Readiness } from './app.js';
export { createIngestMetrics, type IngestMetrics, type WebhookOutcome } from './metrics.js';
export { createSecretVerifier } from './secrets.js';
export { createWebhookHandler, type WebhookHandlerOptions } from './webhook.js';
