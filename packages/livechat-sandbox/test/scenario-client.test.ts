import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findFreePort, startNodeProcess } from '@nudge/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiError, createScenarioClient, type Sandbox } from '../src/index.js';
import { at, type Receiver, registerWebhook, startReceiver, startSandbox } from './helpers.js';

let sandbox: Sandbox | undefined;
let receiver: Receiver | undefined;

afterEach(async () => {
  await sandbox?.close();
  await receiver?.close();
  sandbox = undefined;
  receiver = undefined;
});

describe('scenario over HTTP (createScenarioClient)', () => {
  it('plays a chat from another process view: webhooks flow as with the in-process API', async () => {
    sandbox = await startSandbox();
    receiver = await startReceiver();
    await registerWebhook(sandbox, receiver, { action: 'incoming_chat' });
    await registerWebhook(sandbox, receiver, { action: 'incoming_event' });
    await registerWebhook(sandbox, receiver, { action: 'chat_deactivated' });
    const client = createScenarioClient(sandbox.url);
    expect(await client.credentials()).toEqual(sandbox.credentials);
    const opened = await client.openChat({ customer: { name: 'Jane' }, message: 'hi' });
    const sent = await client.customerMessage({ chatId: opened.chatId, text: 'anyone?' });
    await client.rate({ chatId: opened.chatId, score: 1 });
    await client.close({ chatId: opened.chatId });
    await client.idle();
    expect(
      receiver.byAction('incoming_chat').map((item) => at(item.body, 'payload', 'chat', 'id')),
    ).toEqual([opened.chatId]);
    expect(
      receiver.byAction('incoming_event').map((item) => at(item.body, 'payload', 'event', 'id')),
    ).toEqual([sent.eventId, `${opened.threadId}_3`]);
    expect(at(receiver.byAction('chat_deactivated')[0]?.body, 'payload')).toEqual({
      chat_id: opened.chatId,
      thread_id: opened.threadId,
    });
    const chat = await client.getChat({ chatId: opened.chatId });
    expect(at(chat, 'threads', 0, 'properties', 'rating')).toEqual({ score: 1 });
    const deliveries = await client.journal({ kind: 'delivery' });
    expect(deliveries).toHaveLength(4);
  });

  it('manages bots, statuses and faults; errors come back as ApiError', async () => {
    sandbox = await startSandbox();
    const client = createScenarioClient(`${sandbox.url}/`);
    const bot = await client.createBot({ name: 'Scripted bot', status: 'accepting_chats' });
    expect(sandbox.state.bots()).toEqual([
      expect.objectContaining({ id: bot.id, routingStatus: 'accepting_chats' }),
    ]);
    await client.setBotStatus({ botId: bot.id, status: 'offline' });
    expect(sandbox.state.bots()[0]?.routingStatus).toBe('offline');
    const fault = await client.addFault({ action: 'get_chat', mode: 'hang' });
    expect(await client.listFaults()).toEqual([
      expect.objectContaining({ id: fault.id, mode: 'hang' }),
    ]);
    await client.removeFault(fault.id);
    expect(await client.listFaults()).toEqual([]);
    const missing = client.customerMessage({ chatId: 'NOSUCHCHAT', text: 'x' });
    await expect(missing).rejects.toBeInstanceOf(ApiError);
    await expect(missing).rejects.toMatchObject({ type: 'not_found', status: 404 });
    const opened = await client.openChat();
    await expect(client.customerMessage({ chatId: opened.chatId, text: '' })).rejects.toMatchObject(
      {
        type: 'validation',
      },
    );
    await expect(
      client.setRoutingStatus({ agentId: sandbox.credentials.agentId, status: 'offline' }),
    ).rejects.toMatchObject({
      type: 'validation',
    });
  });
});

describe('standalone process (dist/main.js)', () => {
  it('prints its URL and credentials, serves the API, and stops once on SIGHUP or SIGTERM', async () => {
    const entry = join(dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
    expect(
      existsSync(entry),
      'build first: npx tsc -p packages/livechat-sandbox/tsconfig.build.json',
    ).toBe(true);
    const port = await findFreePort();
    const child = startNodeProcess({ entry, env: { SANDBOX_PORT: String(port) } });
    try {
      const line = await child.waitForLine((item) => item.msg === 'livechat sandbox listening');
      expect(line).toMatchObject({
        url: `http://127.0.0.1:${port}`,
        organizationId: expect.any(String),
        clientId: expect.any(String),
        accountId: expect.any(String),
        pat: expect.any(String),
        agentToken: expect.any(String),
      });
      const client = createScenarioClient(`http://127.0.0.1:${port}`);
      const credentials = await client.credentials();
      expect(credentials.pat).toBe(line.pat);
      const response = await fetch(`http://127.0.0.1:${port}/v3.6/agent/action/list_chats`, {
        method: 'POST',
        headers: {
          Authorization: credentials.patAuthorization,
          'Content-Type': 'application/json',
        },
        body: '{}',
      });
      expect(response.status).toBe(200);
      await child.waitForLine((item) => item.msg === 'api call' && item.action === 'list_chats');

      // A closed terminal (SIGHUP), then a SIGTERM on top: one clean stop, whichever of the
      // two Node hands over first (SIGHUP unhandled would kill it: no exit code).
      child.kill('SIGHUP');
      child.kill('SIGTERM');
      expect(await child.exited).toMatchObject({ code: 0 });
      const closed = child.lines.filter((item) => item.msg === 'livechat sandbox closed');
      expect(closed).toHaveLength(1);
    } finally {
      child.kill('SIGKILL');
    }
    expect(await child.exited).toEqual({ code: 0, signal: null });
  });
});
