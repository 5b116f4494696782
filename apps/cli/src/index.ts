export { type CliContext, loadCliContext } from './cli-context.js';
export { runDemo } from './demo.js';
export { type Check, runDoctor } from './doctor.js';
export {
  desiredWebhooks,
  SETUP_BOT_JOB_TITLE,
  secretFingerprint,
  WEBHOOK_DESCRIPTION_PREFIX,
} from './livechat-setup.js';
export { chatIdOfJob, runReplay } from './replay.js';
export {
  runSetup,
  type SetupBot,
  SetupError,
  type SetupOptions,
  type SetupReport,
} from './setup.js';
export { type RunningStack, type StartOptions, startStack } from './start.js';
export { runStatus } from './status.js';
export { runTeardown } from './teardown.js';
