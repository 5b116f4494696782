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
  // Synchronous, as Node's own process.stdout is on a pipe or file (Linux): a line is written
  // when the call returns, so an exit or a crash loses none, and nothing is left to write at
  // exit. (pino's default buffers and writes the rest at exit, where sonic-boom 4 retries a
  // broken pipe forever: a `nudge start` killed outright left its apps hanging in exit.)
  return pino(options, destination ?? stdout());
};

/** Lines written to a terminal that was closed (EIO) or a pipe nobody reads (EPIPE) are lost. */
const isOutputGone = (err: NodeJS.ErrnoException) => err.code === 'EIO' || err.code === 'EPIPE';

const stdout = () => {
  const stream = pino.destination({ dest: 1, sync: true });
  // pino stops writing after EPIPE, and rethrows anything else: a closed terminal would crash
  // the process while it stops on the SIGHUP that came with it.
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (!isOutputGone(err)) {
      throw err;
    }
  });
  return stream;
};

export type { Logger };

/**
 * Exits once the logger has written its last lines: at once for the stdout logger (synchronous;
 * a reader that is gone only drops them), after the transport flushed for pino-pretty, or after
 * `timeoutMs` if that can't.
 */
export const exitAfterFlush = (log: Logger, code: number, timeoutMs = 1_000): void => {
  setTimeout(() => process.exit(code), timeoutMs);
  log.flush(() => process.exit(code));
};
