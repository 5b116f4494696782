export { chooseBot, SendInProgressError } from './act-once.js';
export {
  type CreateLivechatClientsOptions,
  createLivechatClients,
  type LivechatClients,
} from './livechat-clients.js';
export {
  type ReconcileOrganizationOptions,
  type ReconcileResult,
  reconcileOrganization,
} from './reconcile.js';
export {
  queuesOf,
  type RunningWorker,
  type StartWorkerOptions,
  startWorker,
} from './worker.js';
