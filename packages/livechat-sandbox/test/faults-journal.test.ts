import { afterEach, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { SEND_EVENT_REQUEST } from './fixtures/docs-examples.js';
import {
  agentCall,
  at,
  type BotSetup,
  type Receiver,
  registerWebhook,
  setupBot,
  startReceiver,
  startSandbox,
  str,
} from './helpers.js';

let sandbox: Sandbox;
let receiver: Receiver | undefined;

afterEach(async () => {
  await sandbox?.close();
  await receiver?.close();
  receiver = undefined;
});

const withBotChat = async (): Promise<{ bot: BotSetup; chatId: string }> => {
  sandbox = await startSandbox();
  const bot = await setupBot(sandbox);
  const { chatId } = sandbox.scenario.openChat({ agentIds: [bot.botId] });
  return { bot, chatId };
};

const storedEvents = (chatId: string) =>
  at(sandbox.scenario.getChat({ chatId }), 'threads', 0, 'events') as unknown[];

describe('faults', () => {
  it('error N times, then normal answers', async () => {
    const { bot, chatId } = await withBotChat();
    const fault = sandbox.faults.add({
      action: 'send_event',
      mode: 'error',
      errorType: 'too_many_requests',
      times: 2,
    });
    const send = () =>
      agentCall(
        sandbox,
        'send_event',
        { ...SEND_EVENT_REQUEST, chat_id: chatId },
        { auth: bot.authorization },
      );
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      const response = await send();
      statuses.push([response.status, at(response.body, 'error', 'type') ?? 'ok']);
    }
    expect(statuses).toEqual([
      [429, 'too_many_requests'],
      [429, 'too_many_requests'],
      [200, 'ok'],
    ]);
    // Failed attempts performed nothing.
    expect(storedEvents(chatId)).toHaveLength(1);
    expect(sandbox.faults.list()).toEqual([expect.objectContaining({ id: fault.id, hits: 2 })]);
    const calls = sandbox.journal.calls().filter((call) => call.action === 'send_event');
    expect(calls.map((call) => call.fault?.id)).toEqual([fault.id, fault.id, undefined]);
  });

  it('error with an explicit status; wildcard and version-specific faults', async () => {
    const { bot, chatId } = await withBotChat();
    sandbox.faults.add({
      action: 'get_chat',
      mode: 'error',
      errorType: 'internal',
      status: 502,
      message: 'boom',
    });
    const got = await agentCall(
      sandbox,
      'get_chat',
      { chat_id: chatId },
      { auth: bot.authorization },
    );
    expect(got).toMatchObject({
      status: 502,
      body: { error: { type: 'internal', message: 'boom' } },
    });
    sandbox.faults.clear();
    sandbox.faults.add({
      action: '*',
      version: '3.6',
      mode: 'error',
      errorType: 'service_unavailable',
    });
    const v36 = await agentCall(sandbox, 'list_chats', {}, { version: '3.6' });
    expect(v36.status).toBe(503);
    const v35 = await agentCall(sandbox, 'list_chats', {});
    expect(v35.status).toBe(200);
  });

  it('delay answers normally after the delay', async () => {
    const { bot, chatId } = await withBotChat();
    sandbox.faults.add({ action: 'send_event', mode: 'delay', delayMs: 200, times: 1 });
    const started = Date.now();
    const response = await agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: chatId },
      {
        auth: bot.authorization,
      },
    );
    expect(response.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('hang never answers (and does nothing) until the fault is removed', async () => {
    const { bot, chatId } = await withBotChat();
    const fault = sandbox.faults.add({ action: 'send_event', mode: 'hang' });
    let settled = false;
    const pending = agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: chatId },
      {
        auth: bot.authorization,
      },
    ).finally(() => {
      settled = true;
    });
    const request = await sandbox.journal.waitForRequest((call) => call.action === 'send_event');
    expect(request.status).toBeUndefined();
    expect(storedEvents(chatId)).toHaveLength(0);
    expect(settled).toBe(false);
    sandbox.faults.remove(fault.id);
    const response = await pending;
    expect(response.status).toBe(200);
    expect(storedEvents(chatId)).toHaveLength(1);
    expect(request.status).toBe(200);
  });

  it('hang drops the connection when the sandbox closes', async () => {
    const { bot, chatId } = await withBotChat();
    sandbox.faults.add({ action: 'send_event', mode: 'hang' });
    const pending = agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: chatId },
      {
        auth: bot.authorization,
      },
    );
    await sandbox.journal.waitForRequest((call) => call.action === 'send_event');
    await sandbox.close();
    await expect(pending).rejects.toThrow();
  });

  it('hold: the event is stored and journaled first, then the answer is held', async () => {
    const { bot, chatId } = await withBotChat();
    sandbox.faults.add({ action: 'send_event', mode: 'hold', holdMs: 400 });
    let answered = false;
    const pending = agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: chatId },
      {
        auth: bot.authorization,
      },
    ).finally(() => {
      answered = true;
    });
    const call = await sandbox.journal.waitForCall((entry) => entry.action === 'send_event');
    expect(call).toMatchObject({ status: 200, fault: { mode: 'hold' } });
    expect(answered).toBe(false);
    expect(storedEvents(chatId).map((event) => at(event, 'id'))).toEqual([
      at(call.response, 'event_id'),
    ]);
    const response = await pending;
    expect(response.body).toEqual(call.response);
  });

  it('hold without a duration: the client gives up (killed after sending), the event stays', async () => {
    const { bot, chatId } = await withBotChat();
    sandbox.faults.add({ action: 'send_event', mode: 'hold' });
    const abort = new AbortController();
    const pending = fetch(`${sandbox.url}/v3.6/agent/action/send_event`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: bot.authorization },
      body: JSON.stringify({ ...SEND_EVENT_REQUEST, chat_id: chatId }),
      signal: abort.signal,
    });
    await sandbox.journal.waitForCall((entry) => entry.action === 'send_event');
    abort.abort();
    await expect(pending).rejects.toThrow();
    expect(storedEvents(chatId)).toHaveLength(1);
  });

  it('is driven over HTTP at /_sandbox/faults', async () => {
    const { bot, chatId } = await withBotChat();
    const added = await fetch(`${sandbox.url}/_sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({
        action: 'send_event',
        mode: 'error',
        errorType: 'too_many_requests',
        times: 1,
      }),
    });
    const fault: unknown = await added.json();
    expect(fault).toMatchObject({ action: 'send_event', status: 429, hits: 0 });
    const listed: unknown = await (await fetch(`${sandbox.url}/_sandbox/faults`)).json();
    expect(at(listed, 'faults', 0, 'id')).toBe(str(fault, 'id'));
    const first = await agentCall(
      sandbox,
      'send_event',
      { ...SEND_EVENT_REQUEST, chat_id: chatId },
      {
        auth: bot.authorization,
      },
    );
    expect(first.status).toBe(429);
    const removed = await fetch(`${sandbox.url}/_sandbox/faults/${str(fault, 'id')}`, {
      method: 'DELETE',
    });
    expect(removed.status).toBe(200);
    expect(sandbox.faults.list()).toEqual([]);
    const invalid = await fetch(`${sandbox.url}/_sandbox/faults`, {
      method: 'POST',
      body: JSON.stringify({ action: 'send_event', mode: 'explode' }),
    });
    expect(invalid.status).toBe(400);
    expect(await invalid.json()).toMatchObject({ error: { type: 'validation' } });
  });
});

describe('journal', () => {
  it('records every call: version, action, identity, request, status, response', async () => {
    const { bot, chatId } = await withBotChat();
    const body = { ...SEND_EVENT_REQUEST, chat_id: chatId };
    const response = await agentCall(sandbox, 'send_event', body, {
      auth: bot.authorization,
      version: '3.6',
    });
    const call = await sandbox.journal.waitForCall((entry) => entry.action === 'send_event');
    expect(call).toMatchObject({
      kind: 'call',
      version: '3.6',
      api: 'agent',
      action: 'send_event',
      identity: { type: 'bot', botId: bot.botId, via: 'bot_token' },
      request: body,
      status: 200,
      response: response.body,
    });
    expect(Date.parse(call.time)).not.toBeNaN();
    const failed = await agentCall(sandbox, 'send_event', {}, { auth: 'Bearer nope' });
    expect(sandbox.journal.calls().at(-1)).toMatchObject({ status: 401, response: failed.body });
  });

  it('records delivery attempts and serves everything at GET /_sandbox/journal', async () => {
    sandbox = await startSandbox();
    receiver = await startReceiver();
    receiver.respond((count) => (count === 1 ? 500 : 200));
    const webhookId = await registerWebhook(sandbox, receiver, { action: 'incoming_chat' });
    sandbox.scenario.openChat();
    const ok = await sandbox.journal.waitForDelivery((entry) => entry.ok);
    expect(ok).toMatchObject({
      kind: 'delivery',
      webhookId,
      action: 'incoming_chat',
      url: receiver.url,
      attempt: 2,
      status: 200,
    });
    const response = await fetch(`${sandbox.url}/_sandbox/journal?kind=delivery`);
    const { entries } = (await response.json()) as { entries: unknown[] };
    expect(entries.map((entry) => [at(entry, 'attempt'), at(entry, 'status')])).toEqual([
      [1, 500],
      [2, 200],
    ]);
    const all = (await (await fetch(`${sandbox.url}/_sandbox/journal`)).json()) as {
      entries: unknown[];
    };
    expect(all.entries.map((entry) => at(entry, 'kind'))).toEqual([
      'call',
      'webhook',
      'delivery',
      'delivery',
    ]);
    const since = (await (await fetch(`${sandbox.url}/_sandbox/journal?since=2`)).json()) as {
      entries: unknown[];
    };
    expect(since.entries).toHaveLength(2);
  });

  it('waitForCall rejects after its deadline', async () => {
    sandbox = await startSandbox();
    await expect(
      sandbox.journal.waitForCall((entry) => entry.action === 'never', 50),
    ).rejects.toThrow(/no matching call/);
  });
});
