export { type CreateAppOptions, createApp } from './app.js';
export { createIngestMetrics, type IngestMetrics, type WebhookOutcome } from './metrics.js';
export { createSecretVerifier } from './secrets.js';
export { createWebhookHandler, type WebhookHandlerOptions } from './webhook.js';
