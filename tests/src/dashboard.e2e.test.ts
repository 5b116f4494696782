import { fileURLToPath } from 'node:url';
import { startNodeProcess, waitFor } from '@nudge/testing';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { dashboardClient } from './dashboard-http.js';
import {
  failedTagWhisper,
  metricSample,
  PREFIX,
  waitForBotEventsIn,
  waitForFinishedJob,
} from './e2e-helpers.js';
import { type Stack, startStack } from './stack.js';

// The dashboard as an operator meets it, over HTTP: what it refuses to start with, its login,
// find by chat over the chat index, the board's writes limited to retrying failed jobs, and
// the queue gauges on /metrics. (The browser's view: dashboard-browser.e2e.test.ts.)

const DASHBOARD_MAIN = fileURLToPath(import.meta.resolve('@nudge/dashboard/main'));
const PASSWORD = 'a-long-enough-password';
const NO_CREDENTIALS = {
  DASHBOARD_PASSWORD: undefined,
  DASHBOARD_USERS: undefined,
  DASHBOARD_AUTH: undefined,
  DASHBOARD_HOST: undefined,
};

/** One `name="value"` attribute of each `<tr data-…>` row of the chat page. */
const rowsOf = (page: string) =>
  [
    ...page.matchAll(
      /<tr data-queue="([^"]*)" data-job-id="([^"]*)" data-state="([^"]*)">([\s\S]*?)<\/tr>/g,
    ),
  ].map(([, queue, id, state, cells]) => ({
    queue,
    id,
    state,
    why: /<td class="why">([\s\S]*?)<\/td>/.exec(cells ?? '')?.[1] ?? '',
  }));

/** The first object in a JSON tree that `where` accepts. */
const findObject = (
  value: unknown,
  where: (object: Record<string, unknown>) => boolean,
): Record<string, unknown> | undefined => {
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findObject(item, where);
      if (found) {
        return found;
      }
    }
  } else if (value !== null && typeof value === 'object') {
    const object = value as Record<string, unknown>;
    return where(object) ? object : findObject(Object.values(object), where);
  }
  return undefined;
};

describe('dashboard configuration', () => {
  const fails = async (env: Record<string, string | undefined>) => {
    const proc = startNodeProcess({
      entry: DASHBOARD_MAIN,
      env: { REDIS_URL: inject('redisUrl'), DASHBOARD_PORT: '0', ...NO_CREDENTIALS, ...env },
    });
    const { code } = await proc.exited;
    return { code, fatal: proc.lines.filter((line) => line.level === 60).map((line) => line.msg) };
  };

  it('refuses to start without credentials, naming what to set', async () => {
    const { code, fatal } = await fails({});
    expect(code).toBe(1);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]).toMatch(/DASHBOARD_USERS.*DASHBOARD_PASSWORD.*DASHBOARD_AUTH=off/);
  });

  it('refuses a user whose hash is not a bcrypt hash, and a short password', async () => {
    const users = await fails({ DASHBOARD_USERS: 'ops:plaintext-password' });
    expect(users.code).toBe(1);
    expect(users.fatal[0]).toMatch(/DASHBOARD_USERS.*bcrypt hash/);
    const password = await fails({ DASHBOARD_PASSWORD: 'short' });
    expect(password.code).toBe(1);
    expect(password.fatal[0]).toMatch(/DASHBOARD_PASSWORD.*at least 12 characters/);
  });

  it('without auth, refuses any address but loopback', async () => {
    const { code, fatal } = await fails({ DASHBOARD_AUTH: 'off', DASHBOARD_HOST: '0.0.0.0' });
    expect(code).toBe(1);
    expect(fatal[0]).toMatch(/DASHBOARD_HOST.*127\.0\.0\.1 only/);
  });

  it('without auth, serves on 127.0.0.1 without a login', async () => {
    const proc = startNodeProcess({
      entry: DASHBOARD_MAIN,
      env: {
        REDIS_URL: inject('redisUrl'),
        DASHBOARD_PORT: '0',
        ...NO_CREDENTIALS,
        DASHBOARD_AUTH: 'off',
      },
    });
    try {
      const ready = await proc.waitForLine((line) => line.msg === 'listening');
      expect(ready.host).toBe('127.0.0.1');
      const page = await fetch(`http://127.0.0.1:${String(ready.port)}/chats`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('Find by chat');
    } finally {
      proc.kill('SIGTERM');
      expect((await proc.exited).code).toBe(0);
    }
  });
});

describe('dashboard', () => {
  let stack: Stack;
  let base: string;
  beforeAll(async () => {
    stack = await startStack({ sharedRedisUrl: inject('redisUrl') });
    await stack.setBotStatus('accepting_chats');
    ({ url: base } = await stack.startDashboard({
      DASHBOARD_PASSWORD: PASSWORD,
      DASHBOARD_LOGIN_ATTEMPTS: '3',
      DASHBOARD_TRUST_PROXY: '1',
    }));
  }, 30_000);
  afterAll(() => stack?.stop());

  it('rate-limits failed logins per client; the session cookie is HttpOnly, SameSite=Strict, Secure over HTTPS', async () => {
    const attacker = dashboardClient(base);
    const from = { 'x-forwarded-for': '203.0.113.7' };
    for (let i = 0; i < 3; i += 1) {
      expect((await attacker.login('admin', 'wrong-password', from)).status).toBe(401);
    }
    // The limit holds even for the right password, and it is per client.
    expect((await attacker.login('admin', PASSWORD, from)).status).toBe(429);

    const operator = dashboardClient(base);
    const viaHttps = await operator.login('admin', PASSWORD, {
      'x-forwarded-for': '203.0.113.8',
      'x-forwarded-proto': 'https',
    });
    expect(viaHttps.status).toBe(303);
    const session = viaHttps.headers.getSetCookie().find((c) => c.startsWith('nudge_session='));
    expect(session).toMatch(/; httponly/i);
    expect(session).toMatch(/; samesite=strict/i);
    expect(session).toMatch(/; secure/i);

    const plain = await dashboardClient(base).login('admin', PASSWORD, {
      'x-forwarded-for': '203.0.113.9',
    });
    expect(plain.status).toBe(303);
    const plainSession = plain.headers.getSetCookie().find((c) => c.startsWith('nudge_session='));
    expect(plainSession).not.toMatch(/; secure/i);
  });

  it('finds every job of a chat across the queues, with what each did', async () => {
    const { agentId } = stack.sandbox.credentials;
    const chat = stack.sandbox.scenario.openChat({ message: 'Hello?', agentIds: [agentId] });
    stack.sandbox.scenario.tag({ chatId: chat.chatId, threadId: chat.threadId, tag: 'refund' });
    const [whisper] = await waitForBotEventsIn(stack, chat.chatId, PREFIX.tag);
    await waitForBotEventsIn(stack, chat.chatId, PREFIX.idle);

    const operator = dashboardClient(base);
    expect(
      (await operator.login('admin', PASSWORD, { 'x-forwarded-for': '198.51.100.1' })).status,
    ).toBe(303);
    const rows = await waitFor(
      async () => {
        const page = await operator.request(`/chats?chat=${encodeURIComponent(chat.chatId)}`);
        const found = rowsOf(await page.text());
        // The webhooks (the tag's among them, its route step having sent the whisper itself)
        // and the idle nudge, all done.
        const done =
          found.some(
            (row) => row.queue === 'livechat-events' && row.why.includes('canned-responses'),
          ) && found.some((row) => row.queue === 'idle-reply');
        return done && found.every((row) => row.state === 'completed') ? found : undefined;
      },
      { what: `every job of chat ${chat.chatId} completed on its page` },
    );
    // Two queues: the whisper ran in the tag's route step, so its queue holds no job of the chat.
    const queues = new Set(rows.map((row) => row.queue));
    expect(queues).toEqual(new Set(['livechat-events', 'idle-reply']));
    expect(rows.filter((row) => row.queue === 'livechat-events').map((row) => row.why)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^routed: /)]),
    );
    expect(rows.find((row) => row.queue === 'idle-reply')?.why).toMatch(/^sent: event \S+$/);
    // What the whisper did, on its route job's row under the rule's queue's name.
    const tagged = rows.filter((row) => row.why.startsWith('routed: suggest-for-tag'));
    expect(tagged, JSON.stringify(rows)).toHaveLength(1);
    // The event id it names is the whisper LiveChat holds in the chat.
    const eventId = /^routed: suggest-for-tag; canned-responses sent: event (\S+)$/.exec(
      tagged[0]?.why ?? '',
    )?.[1];
    expect(eventId, tagged[0]?.why).toBeDefined();
    expect(
      findObject(
        stack.sandbox.scenario.getChat({ chatId: chat.chatId }),
        (event) => event.id === eventId,
      )?.custom_id,
    ).toBe(whisper?.customId);

    // Another chat's jobs are not there; a chat id is text, never markup.
    const other = await operator.request(`/chats?chat=${encodeURIComponent('<b>x</b>')}`);
    const text = await other.text();
    expect(rowsOf(text)).toEqual([]);
    expect(text).toContain('&lt;b&gt;x&lt;/b&gt;');
    expect(text).not.toContain('<b>x</b>');
  });

  it('allows retrying failed jobs and refuses every other board write', async () => {
    const operator = dashboardClient(base);
    expect(
      (await operator.login('admin', PASSWORD, { 'x-forwarded-for': '198.51.100.2' })).status,
    ).toBe(303);
    const board = await operator.request('/queues/api/queues?activeQueue=canned-responses', {
      headers: { accept: 'application/json' },
    });
    expect(board.status).toBe(200);
    const { queues } = (await board.json()) as {
      queues: { name: string; allowRetries: boolean; allowCompletedRetries: boolean }[];
    };
    expect(queues.map((queue) => queue.name).sort()).toEqual([
      'canned-responses',
      'idle-reply',
      'livechat-events',
      'rating-reactions',
    ]);
    expect(queues.every((queue) => queue.allowRetries && !queue.allowCompletedRetries)).toBe(true);

    for (const path of [
      '/queues/api/queues/canned-responses/clean/completed',
      '/queues/api/queues/canned-responses/empty',
      '/queues/api/queues/canned-responses/pause',
      '/queues/api/queues/pause',
      '/queues/api/queues/canned-responses/obliterate',
      '/queues/api/queues/canned-responses/retry/completed',
    ]) {
      const refused = await operator.request(path, { method: 'PUT', csrf: true });
      expect(refused.status, path).toBe(403);
      expect(await refused.json(), path).toEqual({
        error: 'refused: this dashboard only retries failed jobs',
      });
    }
    const added = await operator.request('/queues/api/queues/canned-responses/add', {
      method: 'POST',
      csrf: true,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'x', data: {} }),
    });
    expect(added.status).toBe(403);
    expect(await added.json()).toEqual({
      error: 'refused: this dashboard only retries failed jobs',
    });
    expect(await stack.queue('canned-responses').isPaused()).toBe(false);

    // A completed job is not retried; a failed one is, once. (The tag's whisper runs in its
    // route step, so the completed job here is that route job, of livechat-events.)
    const { agentId } = stack.sandbox.credentials;
    const done = stack.sandbox.scenario.openChat({ agentIds: [agentId] });
    stack.sandbox.scenario.tag({ chatId: done.chatId, threadId: done.threadId, tag: 'refund' });
    await waitForBotEventsIn(stack, done.chatId, PREFIX.tag);
    const completed = await waitForFinishedJob(
      stack,
      'livechat-events',
      done.chatId,
      (job) => job.name === 'thread_tagged',
    );
    expect(await completed.getState()).toBe('completed');
    const again = await operator.request(
      `/queues/api/queues/livechat-events/${encodeURIComponent(completed.id ?? '')}/retry`,
      { method: 'PUT', csrf: true },
    );
    expect(again.status).toBe(400);
    expect(await again.json()).toEqual({ error: 'only failed jobs can be retried' });
    const untouched = await stack.queue('livechat-events').getJob(completed.id ?? '');
    expect(await untouched?.getState()).toBe('completed');
    expect(untouched?.finishedOn).toBe(completed.finishedOn);

    const { chatId: refusedChat, job: failed } = await failedTagWhisper(stack);
    expect(await failed.isFailed()).toBe(true);
    const path = `/queues/api/queues/canned-responses/${encodeURIComponent(failed.id ?? '')}/retry`;
    expect((await operator.request(path, { method: 'PUT' })).status).toBe(403);
    expect((await operator.request(path, { method: 'PUT', csrf: true })).status).toBe(204);
    await waitForBotEventsIn(stack, refusedChat, PREFIX.tag);
    await waitFor(
      async () =>
        (await stack.queue('canned-responses').getJobState(failed.id ?? '')) === 'completed',
      { what: 'the retried job completed' },
    );
    expect(stack.botEvents((event) => event.chatId === refusedChat)).toHaveLength(1);
  });
});

describe('dashboard /metrics', () => {
  let stack: Stack;
  let base: string;
  beforeAll(async () => {
    // No worker at first: webhooks wait.
    stack = await startStack({ sharedRedisUrl: inject('redisUrl'), workers: 0 });
    ({ url: base } = await stack.startDashboard({ DASHBOARD_PASSWORD: PASSWORD }));
  }, 30_000);
  afterAll(() => stack?.stop());

  const gauge = async (name: string, labels: Record<string, string>) =>
    metricSample(await (await fetch(`${base}/metrics`)).text(), name, labels);

  it('serves queue depth by state, the oldest waiting job age and the workers connected, without a login', async () => {
    expect(await gauge('nudge_queue_workers', { queue: 'livechat-events' })).toBe(0);
    stack.sandbox.scenario.openChat({ message: 'Anyone?' });
    await waitFor(
      async () =>
        ((await gauge('nudge_queue_jobs', { queue: 'livechat-events', state: 'waiting' })) ?? 0) >=
        1,
      { what: 'a waiting webhook in the gauges' },
    );
    // Its age grows while no worker takes it.
    await waitFor(
      async () =>
        ((await gauge('nudge_queue_oldest_waiting_seconds', { queue: 'livechat-events' })) ?? 0) >=
        1,
      { what: 'the oldest waiting webhook a second old' },
    );

    await stack.startWorker();
    for (const queue of ['livechat-events', 'idle-reply', 'canned-responses', 'rating-reactions']) {
      expect(await gauge('nudge_queue_workers', { queue }), queue).toBeGreaterThanOrEqual(1);
    }
    await waitFor(
      async () =>
        (await gauge('nudge_queue_jobs', { queue: 'livechat-events', state: 'waiting' })) === 0 &&
        ((await gauge('nudge_queue_jobs', { queue: 'livechat-events', state: 'completed' })) ??
          0) >= 1 &&
        (await gauge('nudge_queue_oldest_waiting_seconds', { queue: 'livechat-events' })) === 0,
      { what: 'the waiting webhooks routed' },
    );
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready' });
  });
});
