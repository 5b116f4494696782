export { BOARD_PATH, type CreateDashboardAppOptions, createDashboardApp } from './app.js';
export { type Credentials, createCredentials, hashPassword, PASSWORD_USER } from './auth.js';
export { type ChatJob, describeOutcome, findChatJobs } from './chat-jobs.js';
export { registerQueueMetrics } from './queue-metrics.js';
