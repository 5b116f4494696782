import { type DestinationStream, type Logger, type LoggerOptions, pino } from 'pino';

// pino matches explicit paths (one level per `*`); secrets are also stripped at the source,
// this list is the backstop for anything that slips into a log call.
export const REDACT_PATHS = [
  'secret_key',
  '*.secret_key',
  '*.*.secret_key',
  'secret',
  '*.secret',
  '*.bot_secret',
  'token',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  '*.password',
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
];

export type CreateLoggerOptions = {
  /** Bound to every line as `service`. */
  service: string;
  level?: LoggerOptions['level'];
  /** Human-readable output through pino-pretty (development only). */
  pretty?: boolean;
  /** Where lines go; stdout by default. Tests pass a stream to inspect the output. */
  destination?: DestinationStream;
};

/** The process's root logger: JSON to stdout, `service` bound, secrets redacted. */
export const createLogger = ({
  service,
  level = 'info',
  pretty = false,
  destination,
}: CreateLoggerOptions): Logger => {
  const options: LoggerOptions = {
    level,
    base: { service },
    redact: { paths: REDACT_PATHS, censor: '[Redacted]' },
  };
  if (pretty && !destination) {
    return pino({ ...options, transport: { target: 'pino-pretty' } });
  }
  return destination ? pino(options, destination) : pino(options);
};

export type { Logger };

/**
 * Exits once the logger has flushed its last lines (pino writes asynchronously), or after
 * `timeoutMs` if it can't (stdout closed): an exit must never wait on a dead pipe.
 */
export const exitAfterFlush = (log: Logger, code: number, timeoutMs = 1_000): void => {
  setTimeout(() => process.exit(code), timeoutMs);
  log.flush(() => process.exit(code));
};
