import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { type ChatJobIndex, retryFailedJob } from '@nudge/queues';
import {
  type Logger,
  probeMiddleware,
  type Readiness,
  type Registry,
  requestLogger,
} from '@nudge/telemetry';
import type { Queue } from 'bullmq';
import cookieSession from 'cookie-session';
import { csrfSync } from 'csrf-sync';
import express, {
  type ErrorRequestHandler,
  type Request,
  type RequestHandler,
  type Response,
} from 'express';
import { rateLimit } from 'express-rate-limit';
import type { Credentials } from './auth.js';
import { findChatJobs } from './chat-jobs.js';
import { chatPage, loginPage } from './pages.js';

export type CreateDashboardAppOptions = {
  /** Every Nudge queue, by name. */
  queues: ReadonlyMap<string, Queue>;
  chatJobs: ChatJobIndex;
  /** Undefined: no login (DASHBOARD_AUTH=off, served on 127.0.0.1 only). */
  credentials: Credentials | undefined;
  sessionSecret: string;
  sessionHours: number;
  /** Proxies in front that set X-Forwarded-* (express `trust proxy`). */
  trustProxy: number;
  /** Failed logins a client may make per window. */
  loginAttempts: number;
  readiness: Readiness;
  registry: Registry;
  log: Logger;
};

/** Where bull-board is served. */
export const BOARD_PATH = '/queues';
const LOGIN_WINDOW_MS = 15 * 60_000;
const UNSAFE = (method: string) => !['GET', 'HEAD', 'OPTIONS'].includes(method);
/** The only writes the board allows: retrying one failed job, or a queue's failed jobs. */
const RETRY_ONE = /^\/api\/queues\/([^/]+)\/([^/]+)\/retry$/;
const RETRY_FAILED = /^\/api\/queues\/([^/]+)\/retry\/failed$/;

type Session = { user?: string; since?: number; csrfToken?: string | null };
const sessionOf = (req: Request): Session => (req.session ?? {}) as Session;

/** Answers in the kind the client asked for: a page for a browser, JSON for the board's API. */
const refuse = (req: Request, res: Response, status: number, message: string) => {
  if (req.accepts(['json', 'html']) === 'html' && !req.path.startsWith(`${BOARD_PATH}/api/`)) {
    res
      .status(status)
      .type('html')
      .send(`<!doctype html><title>${status}</title><p>${message}</p>`);
    return;
  }
  res.status(status).json({ error: message });
};

/**
 * The dashboard: bull-board over every queue, "find by chat", probes; a login on everything
 * but the probes; CSRF checks (a per-session token and the Origin) on every write; and, of the
 * board's writes, only retrying failed jobs.
 */
export const createDashboardApp = ({
  queues,
  chatJobs,
  credentials,
  sessionSecret,
  sessionHours,
  trustProxy,
  loginAttempts,
  readiness,
  registry,
  log,
}: CreateDashboardAppOptions): express.Express => {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', trustProxy);
  app.use(requestLogger(log));
  app.use((_req, res, next) => {
    res.set({
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'same-origin',
    });
    next();
  });

  // Probes answer without a login: orchestrators and Prometheus have none.
  app.use(probeMiddleware({ readiness, registry }));

  app.use(
    cookieSession({
      name: 'nudge_session',
      keys: [sessionSecret],
      httpOnly: true,
      sameSite: 'strict',
      maxAge: sessionHours * 3_600_000,
    }),
  );
  // Secure whenever the request came over HTTPS (directly or, with DASHBOARD_TRUST_PROXY, via
  // a proxy): a Secure cookie is never sent back over plain HTTP.
  app.use((req, _res, next) => {
    req.sessionOptions.secure = req.secure;
    next();
  });
  app.use(express.urlencoded({ extended: false, limit: '8kb' }));

  // Writes from another site are refused before anything else looks at them. Browsers send
  // Origin (and Sec-Fetch-Site) with every write; a mismatch is a page elsewhere at work.
  app.use((req, res, next) => {
    if (!UNSAFE(req.method)) {
      next();
      return;
    }
    const origin = req.get('origin');
    const site = req.get('sec-fetch-site');
    const foreignOrigin =
      origin !== undefined && new URL(origin, 'http://x').host !== req.get('host');
    if (foreignOrigin || (site !== undefined && site !== 'same-origin' && site !== 'none')) {
      refuse(req, res, 403, 'cross-site request refused');
      return;
    }
    next();
  });

  const csrf = csrfSync({
    size: 32,
    getTokenFromRequest: (req) =>
      req.get('x-xsrf-token') ?? (req.body as { _csrf?: string } | undefined)?._csrf,
    getTokenFromState: (req) => sessionOf(req).csrfToken,
    storeTokenInState: (req, token) => {
      if (req.session) {
        req.session.csrfToken = token ?? null;
      }
    },
  });
  /** The session's CSRF token, also as the XSRF-TOKEN cookie the board's requests echo. */
  const tokenFor = (req: Request, res: Response, renew = false): string => {
    const token = csrf.generateToken(req, renew);
    if (!(req.get('cookie') ?? '').includes(`XSRF-TOKEN=${token}`) || renew) {
      res.cookie('XSRF-TOKEN', token, { sameSite: 'strict', secure: req.secure, path: '/' });
    }
    return token;
  };
  const checkCsrf: RequestHandler = (req, res, next) => {
    if (UNSAFE(req.method) && !csrf.isRequestValid(req)) {
      refuse(req, res, 403, 'missing or invalid CSRF token: reload the page');
      return;
    }
    next();
  };

  const userOf = (req: Request): string | undefined => {
    if (!credentials) {
      return 'local';
    }
    const { user, since } = sessionOf(req);
    return user !== undefined &&
      since !== undefined &&
      Date.now() - since < sessionHours * 3_600_000
      ? user
      : undefined;
  };

  app.get('/login', (req, res) => {
    if (!credentials || userOf(req)) {
      res.redirect('/chats');
      return;
    }
    res.type('html').send(loginPage({ csrfToken: tokenFor(req, res) }));
  });
  const failedLogins = rateLimit({
    windowMs: LOGIN_WINDOW_MS,
    limit: loginAttempts,
    skipSuccessfulRequests: true,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (req, res) => {
      res
        .status(429)
        .type('html')
        .send(
          loginPage({
            csrfToken: tokenFor(req, res),
            error: 'Too many failed logins: try again in 15 minutes.',
          }),
        );
    },
  });
  app.post('/login', failedLogins, checkCsrf, async (req, res) => {
    if (!credentials) {
      res.redirect('/chats');
      return;
    }
    const { name = '', password = '' } = req.body as { name?: string; password?: string };
    const user = await credentials.verify(String(name), String(password));
    if (!user) {
      log.warn({ name: String(name).slice(0, 64), ip: req.ip }, 'dashboard login failed');
      res
        .status(401)
        .type('html')
        .send(loginPage({ csrfToken: tokenFor(req, res), error: 'Wrong name or password.' }));
      return;
    }
    // A new session, with a new CSRF token: nothing from before the login carries over.
    req.session = { user, since: Date.now() };
    tokenFor(req, res, true);
    log.info({ user }, 'dashboard login');
    res.redirect(303, '/chats');
  });
  app.post('/logout', checkCsrf, (req, res) => {
    req.session = null;
    res.clearCookie('XSRF-TOKEN', { path: '/' });
    res.redirect(303, credentials ? '/login' : '/chats');
  });

  // Everything below needs a login.
  app.use((req, res, next) => {
    if (userOf(req)) {
      // The board's own pages (served by bull-board) get the cookie its requests echo too.
      if (!UNSAFE(req.method)) {
        tokenFor(req, res);
      }
      next();
      return;
    }
    if (
      req.method === 'GET' &&
      req.accepts(['json', 'html']) === 'html' &&
      !req.path.includes('/api/')
    ) {
      res.redirect(`/login`);
      return;
    }
    refuse(req, res, 401, 'log in first');
  });
  app.use(checkCsrf);

  app.get('/', (_req, res) => {
    res.redirect('/chats');
  });
  app.get('/chats', async (req, res) => {
    const chatId = typeof req.query.chat === 'string' ? req.query.chat.trim() : '';
    const jobs =
      chatId === '' ? undefined : await findChatJobs(chatId, { index: chatJobs, queues });
    res.type('html').send(
      chatPage({
        chatId,
        jobs,
        user: userOf(req) ?? '',
        csrfToken: tokenFor(req, res),
        boardPath: BOARD_PATH,
        notice:
          typeof req.query.retried === 'string'
            ? `Job ${req.query.retried} is back in its queue.`
            : undefined,
      }),
    );
  });
  app.post('/chats/retry', async (req, res) => {
    const { chat = '', queue = '', job = '' } = req.body as Record<string, string | undefined>;
    const found = await queues.get(queue)?.getJob(job);
    if (!found || !(await retryFailedJob(found))) {
      refuse(req, res, 409, 'that job is not failed (any more): nothing to retry');
      return;
    }
    log.info(
      { queue, jobId: job, chatId: chat, user: userOf(req) },
      'job retried from the dashboard',
    );
    res.redirect(303, `/chats?chat=${encodeURIComponent(chat)}&retried=${encodeURIComponent(job)}`);
  });

  // The board's writes: retrying failed jobs (attempts reset, ids kept, as `nudge replay`);
  // everything else it offers (clean, empty, promote, pause, add, edit…) is refused.
  app.use(BOARD_PATH, async (req, res, next) => {
    if (!UNSAFE(req.method)) {
      next();
      return;
    }
    const one = req.method === 'PUT' ? RETRY_ONE.exec(req.path) : null;
    const all = req.method === 'PUT' ? RETRY_FAILED.exec(req.path) : null;
    if (one) {
      const job = await queues
        .get(decodeURIComponent(one[1] ?? ''))
        ?.getJob(decodeURIComponent(one[2] ?? ''));
      if (!job || !(await retryFailedJob(job))) {
        refuse(req, res, 400, 'only failed jobs can be retried');
        return;
      }
      log.info(
        { queue: job.queueName, jobId: job.id, user: userOf(req) },
        'job retried from the board',
      );
      res.status(204).end();
      return;
    }
    if (all) {
      const queue = queues.get(decodeURIComponent(all[1] ?? ''));
      if (!queue) {
        refuse(req, res, 404, 'no such queue');
        return;
      }
      let retried = 0;
      for (;;) {
        const page = (await queue.getFailed(0, 99)).filter(Boolean);
        let moved = 0;
        for (const job of page) {
          moved += (await retryFailedJob(job)) ? 1 : 0;
        }
        retried += moved;
        if (page.length < 100 || moved === 0) {
          break;
        }
      }
      log.info(
        { queue: queue.name, retried, user: userOf(req) },
        'failed jobs retried from the board',
      );
      res.json({ retried, skipped: 0 });
      return;
    }
    refuse(req, res, 403, 'refused: this dashboard only retries failed jobs');
  });
  const board = new ExpressAdapter();
  board.setBasePath(BOARD_PATH);
  createBullBoard({
    queues: [...queues.values()].map(
      (queue) =>
        new BullMQAdapter(queue, {
          allowRetries: true,
          allowCompletedRetries: false,
        } as ConstructorParameters<typeof BullMQAdapter>[1]),
    ),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'Nudge', hideDocsLink: true } },
  });
  app.use(BOARD_PATH, board.getRouter());

  app.use((req, res) => {
    refuse(req, res, 404, 'no such page');
  });
  const onError: ErrorRequestHandler = (
    err: { status?: unknown; message?: string },
    req,
    res,
    _next,
  ) => {
    // A client's mistake (a body too large or malformed) keeps its 4xx and its reason.
    const status =
      typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
    if (status === 500) {
      req.log.error({ err }, 'request failed');
    }
    if (!res.headersSent) {
      refuse(req, res, status, status === 500 ? 'internal error' : (err.message ?? 'bad request'));
    }
  };
  app.use(onError);
  return app;
};
