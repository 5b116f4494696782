export {
  BoolEnv,
  CliEnv,
  DashboardEnv,
  IngestEnv,
  LivechatEnv,
  LogEnv,
  RedisEnv,
  ShutdownEnv,
  WorkerEnv,
  workerEnvFor,
} from './env.js';
export { ConfigError, loadConfig } from './load-config.js';
export {
  BOT_PRIORITIES,
  type BotPriority,
  type BotRules,
  DEFAULT_BOT_NAME,
  loadRulesFile,
  type NudgeRules,
  type OrganizationRules,
  type ResolveRulesOptions,
  RulesFile,
  resolveRules,
  rulesFileJsonSchema,
} from './rules-file.js';
