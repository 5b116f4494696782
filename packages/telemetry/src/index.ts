export {
  type CreateLoggerOptions,
  createLogger,
  exitAfterFlush,
  type Logger,
  REDACT_PATHS,
} from './logger.js';
export { Counter, createMetricsRegistry, Gauge, Histogram, type Registry } from './metrics.js';
export { answerProbe, PROBE_PATHS, probeMiddleware, type Readiness } from './probes.js';
export { requestLogger } from './request-logger.js';
