import type { Logger } from 'pino';
import { type HttpLogger, pinoHttp } from 'pino-http';
import { PROBE_PATHS } from './probes.js';

/** One line per request, with `req.log` for its handlers; probes are not logged (too many). */
export const requestLogger = (log: Logger): HttpLogger =>
  pinoHttp({ logger: log, autoLogging: { ignore: (req) => PROBE_PATHS.has(req.url ?? '') } });
