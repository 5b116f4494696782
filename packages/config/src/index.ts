export { BoolEnv, IngestEnv, LogEnv, RedisEnv, ShutdownEnv, WorkerEnv } from './env.js';
export { ConfigError, formatIssues, loadConfig } from './load-config.js';
export {
  loadRulesFile,
  type NudgeRules,
  type OrganizationRules,
  RulesFile,
  resolveRules,
  rulesFileJsonSchema,
} from './rules-file.js';
