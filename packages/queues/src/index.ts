export { UnrecoverableError } from 'bullmq';
export {
  DEFAULT_JOB_OPTIONS,
  EVENTS_QUEUE,
  LivechatEventJob,
  parseQueueNames,
  QUEUE_NAMES,
  QUEUE_RETENTION,
  type QueueName,
  queueNamesOf,
  RECONCILE_JOB,
  ReconcileJob,
} from './catalog.js';
export {
  type ChatJobEntry,
  type ChatJobIndex,
  createChatJobIndex,
  type IndexedJob,
  retryFailedJob,
} from './chat-index.js';
export {
  type ConnectionLogger,
  type ConnectionState,
  type ConnectionTarget,
  clusterSeedsOf,
  createProducerConnection,
  createWorkerConnection,
  type ProducerConnectionOptions,
  watchConnection,
} from './connections.js';
export {
  type ClaimDeliveryOptions,
  type ClaimResult,
  canonicalJson,
  claimDelivery,
  DEDUPE_HORIZON_MS,
  type DedupeInput,
  deriveDedupeKey,
  isDeduplicated,
} from './dedupe.js';
export {
  type CreateEventProducerOptions,
  createEventProducer,
  type EventProducer,
} from './event-producer.js';
export {
  assertQueueRedisPolicy,
  ClusterModeError,
  EvictionPolicyError,
  HASH_LISTPACK_VALUE,
  type RedisPolicyReport,
  readRedisPolicy,
} from './redis-policy.js';
