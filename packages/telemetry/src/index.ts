export {
  type CreateLoggerOptions,
  createLogger,
  exitAfterFlush,
  type Logger,
  REDACT_PATHS,
} from './logger.js';
export { Counter, createMetricsRegistry, Gauge, Histogram, type Registry } from './metrics.js';
export { type Readiness, readinessAnswer } from './probes.js';
