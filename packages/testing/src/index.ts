export {
  connectRedis,
  connectRedisCluster,
  createTestPrefix,
  deleteKeysWithPrefix,
  startOwnRedis,
  type WaitForOptions,
  waitFor,
} from './fixtures.js';
export {
  type LogLine,
  type NodeProcess,
  type StartNodeProcessOptions,
  startNodeProcess,
} from './node-process.js';
export {
  missingRedisClusterSupport,
  type RedisCluster,
  type StartRedisClusterOptions,
  startRedisCluster,
} from './redis-cluster.js';
export {
  findFreePort,
  hasRedisServerBinary,
  type RedisServer,
  type StartRedisOptions,
  startRedisServer,
} from './redis-server.js';
