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

/** The stdout stream of each root logger `createLogger` made, for `exitAfterFlush`. */
const stdoutOf = new WeakMap<Logger, ReturnType<typeof pino.destination>>();

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
  if (destination) {
    return pino(options, destination);
  }
  // pino's own default (asynchronous writes to fd 1), made here to keep a handle on it.
  const stdout = pino.destination({ dest: 1, sync: false });
  const log = pino(options, stdout);
  stdoutOf.set(log, stdout);
  return log;
};

export type { Logger };

/**
 * Exits once stdout took the last lines. If its reader is gone (a `nudge start` killed
 * outright), what is left is dropped: pino writes it synchronously on exit, and sonic-boom 4
 * retries a broken pipe there forever (5 throws; pino 10 still uses 4). Exits after `timeoutMs`
 * in any case, but for one: a reader alive that stopped reading holds a write in Node's thread
 * pool, and the exit waits for it.
 */
export const exitAfterFlush = (log: Logger, code: number, timeoutMs = 1_000): void => {
  const exit = () => process.exit(code);
  const stdout = stdoutOf.get(log);
  if (!stdout) {
    setTimeout(exit, timeoutMs);
    log.flush(exit);
    return;
  }
  setTimeout(() => {
    stdout.flushSync = () => undefined;
    exit();
  }, timeoutMs);
  // Once the writes in flight are done the stream emits 'drain' (and an empty write ends in one
  // when none is); a broken pipe emits 'error', after which pino drops every line.
  stdout.once('drain', exit);
  stdout.once('error', exit);
  stdout.write('');
};
