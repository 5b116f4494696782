export { ConfigError } from './config-error.js';
export { listenHttp, type ServeHttpOptions, serveHttp } from './http-service.js';
export { fingerprint, hashedId } from './ids.js';
export { describeIssues, formatIssue, formatIssues } from './issues.js';
export {
  createRedisKeys,
  parseStored,
  parseStoredHash,
  parseStoredJson,
  REDIS_TTL_MS,
  type RedisKeys,
  StoredRoutingStatus,
  StoredUserType,
} from './redis-keys.js';
export {
  createRedisLayout,
  hashTagOf,
  isRedisCluster,
  type RedisClient,
  type RedisLayout,
} from './redis-layout.js';
export { releaseLock, setAndReleaseLock, tryLock } from './redis-lock.js';
export { defineRedisScript, type RedisScript } from './redis-script.js';
export { runService } from './run-service.js';
export {
  type InstallShutdownOptions,
  installShutdown,
  type ShutdownStep,
  STOP_SIGNALS,
} from './shutdown.js';
export {
  type CreateRedisTokenCacheOptions,
  createRedisTokenCache,
  type RedisTokenCache,
} from './token-cache.js';
