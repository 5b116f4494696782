import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import { waitFor } from '@nudge/testing';
import type { Job } from 'bullmq';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  botEventsIn,
  chatEventsWithCustomId,
  failedTagWhisper,
  only,
  PREFIX,
} from './e2e-helpers.js';
import { listen, type Stack, startStack } from './stack.js';

// The dashboard in a real browser (Debian's chromium, driven by playwright-core): nothing but
// the probes without a login; after it, a chat's failed job found with its reason, retried from
// the chat page and from bull-board's own job page, each sending its message once; writes from
// another origin, without the session's token or outside "retry failed jobs" refused.

const CHROMIUM = '/usr/bin/chromium';
const HAS_CHROMIUM = existsSync(CHROMIUM);
const MISSING = `${CHROMIUM} is missing: install Debian's package chromium (apt-get install chromium)`;
if (!HAS_CHROMIUM) {
  // CI (.ci/run) installs it and sets NUDGE_CI_TOOLS: there, a missing browser is a failure.
  if (process.env.NUDGE_CI_TOOLS) {
    throw new Error(MISSING);
  }
  console.warn(`dashboard browser test skipped: ${MISSING}`);
}

const PASSWORD = 'e2e-dashboard-password-3f9a';
/** What LiveChat answers the refused whisper: the reason the chat page must show. */
const REFUSAL = 'E2E: this whisper was refused';
const QUEUE = 'canned-responses';
const SCREENSHOT = join(import.meta.dirname, '..', '..', 'docs', 'dashboard-chat.png');

let stack: Stack;
let url: string;
let browser: Browser;
/** A browser that never logged in, and one that does (the operator's). */
let anonymous: BrowserContext;
let operator: BrowserContext;
/** A site on another origin (another port of 127.0.0.1), serving the attacker's pages. */
let evil: Server;
let evilUrl: string;
/** Chats whose whisper LiveChat refused: retried from the chat page, from bull-board, never. */
const failed = {
  page: { chatId: '', jobId: '' },
  board: { chatId: '', jobId: '' },
  kept: { chatId: '', jobId: '' },
};

/** A chat tagged `refund` whose whisper LiveChat refuses (validation: no retries). */
const failedWhisper = async () => {
  const { chatId, job } = await failedTagWhisper(stack, REFUSAL);
  return { chatId, jobId: job.id ?? '' };
};

const stateOf = async (jobId: string) => (await stack.queue(QUEUE).getJob(jobId))?.getState();

/** Waits until the job completed; resolves with it. */
const completed = (jobId: string): Promise<Job> =>
  waitFor(
    async () => {
      const job = await stack.queue(QUEUE).getJob(jobId);
      return job !== undefined && (await job.isCompleted()) ? job : undefined;
    },
    { what: `job ${jobId} of ${QUEUE} to complete` },
  );

/** The attacker's pages: a form that posts a retry (with the XSRF cookie it can read) and a fetch. */
const evilPage = (path: string): string => {
  const { chatId, jobId } = failed.kept;
  const fields = { chat: chatId, queue: QUEUE, job: jobId };
  const stealToken = `(/(?:^|; )XSRF-TOKEN=([^;]*)/.exec(document.cookie) ?? [])[1] ?? ''`;
  if (path === '/form') {
    const inputs = Object.entries(fields)
      .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
      .join('');
    return `<!doctype html><form method="post" action="${url}/chats/retry">${inputs}
<input type="hidden" name="_csrf"></form>
<script>
const form = document.forms[0];
form.elements.namedItem('_csrf').value = decodeURIComponent(${stealToken});
form.submit();
</script>`;
  }
  return `<!doctype html><script>
const body = new URLSearchParams(${JSON.stringify(fields)});
body.set('_csrf', decodeURIComponent(${stealToken}));
fetch('${url}/chats/retry', { method: 'POST', mode: 'no-cors', credentials: 'include', body });
</script>`;
};

/** A context whose pages reach only this machine (bull-board links fonts from the web). */
const newContext = async (): Promise<BrowserContext> => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  await context.route(
    (target) => target.hostname !== '127.0.0.1',
    (route) => route.abort(),
  );
  return context;
};

/** The session's CSRF token, from the cookie bull-board's axios echoes. */
const xsrfToken = async (context: BrowserContext): Promise<string> =>
  decodeURIComponent(
    (await context.cookies(url)).find((cookie) => cookie.name === 'XSRF-TOKEN')?.value ?? '',
  );

type Call = { method?: string; form?: Record<string, string>; headers?: Record<string, string> };

/**
 * A `fetch` from inside `page`: the browser's own request, with its cookies, its Origin and
 * Sec-Fetch-Site; `form` as an urlencoded body.
 */
const fetchIn = (page: Page, path: string, { method = 'GET', form, headers = {} }: Call = {}) =>
  page.evaluate(
    async ({ target, init, body }) => {
      const response = await fetch(target, {
        ...init,
        body: body === undefined ? undefined : new URLSearchParams(body),
      });
      return { status: response.status, type: response.headers.get('content-type') ?? '' };
    },
    { target: `${url}${path}`, init: { method, headers }, body: form },
  );

const rowOf = (page: Page, jobId: string) =>
  page.locator(`#jobs tr[data-queue="${QUEUE}"][data-job-id="${jobId}"]`);

describe.skipIf(!HAS_CHROMIUM)('dashboard in a real browser', () => {
  beforeAll(async () => {
    stack = await startStack({ sharedRedisUrl: inject('redisUrl') });
    await stack.setBotStatus('accepting_chats');
    ({ url } = await stack.startDashboard({ DASHBOARD_PASSWORD: PASSWORD }));
    failed.page = await failedWhisper();
    failed.board = await failedWhisper();
    failed.kept = await failedWhisper();
    evil = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(evilPage(req.url ?? ''));
    });
    evilUrl = await listen(evil);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    anonymous = await newContext();
    operator = await newContext();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    evil?.close();
    await stack?.stop();
  });

  it('refuses every page and API call without a login, but the probes', async () => {
    const page = await anonymous.newPage();
    const pages = [
      '/',
      '/nope',
      '/chats',
      '/chats?chat=x',
      '/queues',
      `/queues/queue/${QUEUE}`,
      `/queues/queue/${QUEUE}/${failed.kept.jobId}`,
    ];
    for (const path of pages) {
      await page.goto(`${url}${path}`);
      expect(new URL(page.url()).pathname, path).toBe('/login');
      expect(await page.locator('form.login').count(), path).toBe(1);
    }
    const calls: [string, string][] = [
      ['/queues/api/queues', 'GET'],
      [`/queues/api/queues/${QUEUE}/${failed.kept.jobId}`, 'GET'],
      // Not favicon.ico: with routing on (newContext), playwright aborts favicon requests.
      ['/queues/static/favicon-32x32.png', 'GET'],
      ['/queues/static/images/logo.svg', 'GET'],
      [`/queues/api/queues/${QUEUE}/x/retry`, 'PUT'],
      [`/queues/api/queues/${QUEUE}/${failed.kept.jobId}/retry`, 'PUT'],
      [`/queues/api/queues/${QUEUE}/retry/failed`, 'PUT'],
      ['/chats/retry', 'POST'],
    ];
    for (const [path, method] of calls) {
      expect(await fetchIn(page, path, { method }), `${method} ${path}`).toEqual({
        status: 401,
        type: expect.stringContaining('application/json'),
      });
    }
    expect(await stateOf(failed.kept.jobId)).toBe('failed');
    // The probes are open by design.
    for (const probe of ['/healthz', '/readyz', '/metrics']) {
      expect((await fetchIn(page, probe)).status, probe).toBe(200);
    }

    await page.goto(`${url}/login`);
    await page.fill('#name', 'admin');
    await page.fill('#password', 'not the password');
    await Promise.all([page.waitForResponse(`${url}/login`), page.click('button[type=submit]')]);
    expect(await page.locator('.error[role=alert]').textContent()).toBe('Wrong name or password.');
    expect(new URL(page.url()).pathname).toBe('/login');
    await page.goto(`${url}/chats`);
    expect(new URL(page.url()).pathname).toBe('/login');
  });

  it('logs in, finds the chat and shows its failed job with the reason', async () => {
    const page = await operator.newPage();
    await page.goto(`${url}/chats`);
    await page.fill('#name', 'admin');
    await page.fill('#password', PASSWORD);
    await Promise.all([page.waitForURL(`${url}/chats`), page.click('button[type=submit]')]);

    const cookies = await operator.cookies(url);
    const session = cookies.find((cookie) => cookie.name === 'nudge_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', secure: false });
    expect(cookies.find((cookie) => cookie.name === 'XSRF-TOKEN')).toMatchObject({
      httpOnly: false,
    });

    await page.fill('input[name=chat]', failed.page.chatId);
    await Promise.all([
      page.waitForURL(`${url}/chats?chat=${failed.page.chatId}`),
      page.click('button:text("Find")'),
    ]);
    const row = rowOf(page, failed.page.jobId);
    expect(await row.getAttribute('data-state')).toBe('failed');
    const why = await row.locator('td.why').textContent();
    expect(why).toContain(REFUSAL);
    expect(why).toBe((await stack.queue(QUEUE).getJob(failed.page.jobId))?.failedReason);
    expect(await row.locator('button:text("Retry")').count()).toBe(1);
    // The job's name leads to its page on the board.
    expect(await row.locator('a').getAttribute('href')).toBe(
      `/queues/queue/${QUEUE}/${encodeURIComponent(failed.page.jobId)}`,
    );

    // The board's page and its static files load with the session (and not without it).
    const board = await page.goto(`${url}/queues`);
    expect(board?.status()).toBe(200);
    const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec((await board?.text()) ?? '')?.[1];
    expect(script).toBeDefined();
    for (const path of [`/queues/${script}`, '/queues/static/images/logo.svg']) {
      expect((await page.request.get(`${url}${path}`)).status(), path).toBe(200);
      expect((await anonymous.request.get(`${url}${path}`)).status(), path).toBe(401);
    }
  });

  it('retries the failed job from the chat page: it completes and whispers once', async () => {
    const page = await operator.newPage();
    const { chatId, jobId } = failed.page;
    await page.goto(`${url}/chats?chat=${chatId}`);
    await Promise.all([
      page.waitForURL(/\/chats\?chat=.*&retried=/),
      rowOf(page, jobId).locator('button:text("Retry")').click(),
    ]);
    expect(await page.locator('[role=status]').textContent()).toBe(
      `Job ${jobId} is back in its queue.`,
    );
    await completed(jobId);
    const whisper = only(chatEventsWithCustomId(stack, chatId, PREFIX.tag), 'whisper in the chat');
    expect(botEventsIn(stack, chatId, PREFIX.tag)).toHaveLength(1);

    await page.reload();
    const row = rowOf(page, jobId);
    expect(await row.getAttribute('data-state')).toBe('completed');
    expect(await row.locator('td.why').textContent()).toBe(`sent: event ${whisper.id}`);
    expect(await row.locator('button:text("Retry")').count()).toBe(0);
    if (process.env.NUDGE_SCREENSHOT) {
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
    }
  });

  it("retries a failed job from bull-board's job page (the XSRF cookie echoed as a header)", async () => {
    const page = await operator.newPage();
    const { chatId, jobId } = failed.board;
    // Through the chat page's link to the job on the board.
    await page.goto(`${url}/chats?chat=${chatId}`);
    await Promise.all([
      page.waitForURL(`${url}/queues/queue/${QUEUE}/${encodeURIComponent(jobId)}`),
      rowOf(page, jobId).locator('a').click(),
    ]);
    // A browser restarted with the session kept (its cookie lasts the session's hours) has lost
    // the XSRF cookie (a browser-session cookie): the board's page sets it again.
    const token = await xsrfToken(operator);
    await operator.clearCookies({ name: 'XSRF-TOKEN' });
    await page.reload();
    expect(await xsrfToken(operator)).toBe(token);
    const retried = page.waitForResponse(
      (response) => response.request().method() === 'PUT' && response.url().endsWith('/retry'),
    );
    // The job card's Retry is an icon (a tooltip names it, no accessible name): the only
    // refresh-cw button on the page. The board then asks to confirm.
    await page.locator('button:has(svg.lucide-refresh-cw)').click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Confirm' }).click();
    const response = await retried;
    expect(response.url()).toBe(
      `${url}/queues/api/queues/${QUEUE}/${encodeURIComponent(jobId)}/retry`,
    );
    expect(response.status()).toBe(204);
    expect(response.request().headers()['x-xsrf-token']).toBe(token);
    await completed(jobId);
    expect(botEventsIn(stack, chatId, PREFIX.tag)).toHaveLength(1);
    expect(chatEventsWithCustomId(stack, chatId, PREFIX.tag)).toHaveLength(1);
  });

  it('refuses writes from another origin, without the token, or beyond retrying', async () => {
    const { chatId, jobId } = failed.kept;
    const token = await xsrfToken(operator);
    const form = { chat: chatId, queue: QUEUE, job: jobId };
    const retryOne = `/queues/api/queues/${QUEUE}/${encodeURIComponent(jobId)}/retry`;
    const withToken = { 'x-xsrf-token': token };

    // From the dashboard's own page (its Origin, same-origin): without the token, or a wrong one.
    const page = await operator.newPage();
    await page.goto(`${url}/chats?chat=${chatId}`);
    const refused = [
      await fetchIn(page, '/chats/retry', { method: 'POST', form }),
      await fetchIn(page, '/chats/retry', { method: 'POST', form: { ...form, _csrf: 'x' } }),
      await fetchIn(page, retryOne, { method: 'PUT' }),
      await fetchIn(page, retryOne, { method: 'PUT', headers: { 'x-xsrf-token': 'x' } }),
    ];
    expect(refused.map((answer) => answer.status)).toEqual([403, 403, 403, 403]);
    // The token passes: retrying a job that is not failed is refused for that reason alone.
    const done = `/queues/api/queues/${QUEUE}/${encodeURIComponent(failed.page.jobId)}/retry`;
    expect((await fetchIn(page, done, { method: 'PUT', headers: withToken })).status).toBe(400);

    // Another Origin, even with the session's cookies and token (a browser never forges one:
    // sent from outside it).
    const foreign = { origin: 'https://evil.example' };
    const { request } = operator;
    const posted = await request.post(`${url}/chats/retry`, {
      form: { ...form, _csrf: token },
      headers: foreign,
    });
    expect(posted.status()).toBe(403);
    const put = await request.put(`${url}${retryOne}`, { headers: { ...foreign, ...withToken } });
    expect(put.status()).toBe(403);

    // A page elsewhere (same host, another port: the cookies go along, and it can even read
    // the XSRF cookie) posts a retry with the token, as a form and as a fetch.
    for (const path of ['/form', '/fetch']) {
      const answered = page.waitForResponse(`${url}/chats/retry`);
      await page.goto(`${evilUrl}${path}`);
      const response = await answered;
      expect(response.request().headers().origin, path).toBe(evilUrl);
      expect(response.request().postData(), path).toContain(`_csrf=${encodeURIComponent(token)}`);
      expect(response.status(), path).toBe(403);
    }

    // The board's other writes, from its own page with the token.
    await page.goto(`${url}/queues`);
    const writes: [string, string][] = [
      [`/queues/api/queues/${QUEUE}/clean/completed`, 'PUT'],
      [`/queues/api/queues/${QUEUE}/clean/failed`, 'PUT'],
      [`/queues/api/queues/${QUEUE}/empty`, 'PUT'],
      [`/queues/api/queues/${QUEUE}/pause`, 'PUT'],
      [`/queues/api/queues/${QUEUE}/obliterate`, 'PUT'],
      [`/queues/api/queues/${QUEUE}/promote`, 'PUT'],
      ['/queues/api/queues/pause', 'PUT'],
      [`/queues/api/queues/${QUEUE}/${encodeURIComponent(jobId)}/clean`, 'PUT'],
      [`/queues/api/queues/${QUEUE}/${encodeURIComponent(jobId)}/update-data`, 'PATCH'],
      [`/queues/api/queues/${QUEUE}/add`, 'POST'],
    ];
    for (const [path, method] of writes) {
      const answer = await fetchIn(page, path, { method, headers: withToken });
      expect(answer.status, `${method} ${path}`).toBe(403);
    }

    // A login needs the login page's token too (the right password alone does not do).
    const login = await anonymous.request.post(`${url}/login`, {
      form: { name: 'admin', password: PASSWORD },
      maxRedirects: 0,
    });
    expect(login.status()).toBe(403);

    // Nothing happened: the job is still failed, the completed one still there, nothing paused.
    expect(await stateOf(jobId)).toBe('failed');
    expect(await stateOf(failed.page.jobId)).toBe('completed');
    expect(await stack.queue(QUEUE).isPaused()).toBe(false);
    expect(botEventsIn(stack, chatId, PREFIX.tag)).toHaveLength(0);
  });
});
