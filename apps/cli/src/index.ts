export { type RegisterWebhooksOptions, registerWebhooks } from './setup.js';
export { type RunningStack, type StartOptions, startStack } from './start.js';
