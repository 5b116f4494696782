export { BoolEnv, IngestEnv, LogEnv, RedisEnv, ShutdownEnv } from './env.js';
export { ConfigError, formatIssues, loadConfig } from './load-config.js';
