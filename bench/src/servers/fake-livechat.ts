// A fake LiveChat for benches: answers, at once and from memory, the few calls both pipelines
// make (issue_bot_token, list_routing_statuses, get_chat, add_user_to_chat, send_event) and
// notes when each send_event arrived. The sandbox is the faithful stand-in, but it validates
// and journals every call and delivers webhooks: its own cost would blur what is measured.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FIXTURE_BOT_ID } from '@nudge/livechat/testing';
import { chatSnapshot, monotonicMs } from '../chats.js';
import { listen } from './listen.js';

/** One send_event: the chat, when it arrived (monotonic ms and wall-clock ms), its text. */
type Sent = { chatId: string; at: number; wallAt: number; customId: string };

let sent: Sent[] = [];
let calls: Record<string, number> = {};
let eventCounter = 0;

const answer = (res: ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
};

const readJson = (req: IncomingMessage): Promise<Record<string, unknown>> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve(text === '' ? {} : (JSON.parse(text) as Record<string, unknown>));
      } catch (err) {
        reject(err);
      }
    });
    req.on('error', reject);
  });

const LIVECHAT_CALL = /^\/v3\.[56]\/(agent|configuration)\/action\/([a-z_]+)$/;

const livechat = (action: string, body: Record<string, unknown>, res: ServerResponse) => {
  const receivedAt = monotonicMs();
  calls[action] = (calls[action] ?? 0) + 1;
  switch (action) {
    case 'issue_bot_token':
      return answer(res, 200, { token: `bench-token-${String(body.bot_id)}`, expires_in: 86_400 });
    case 'list_routing_statuses':
      return answer(res, 200, [{ agent_id: FIXTURE_BOT_ID, status: 'accepting_chats' }]);
    case 'get_chat': {
      const chatId = String(body.chat_id);
      return answer(
        res,
        200,
        typeof body.thread_id === 'string'
          ? chatSnapshot(chatId, body.thread_id)
          : chatSnapshot(chatId),
      );
    }
    case 'add_user_to_chat':
      return answer(res, 200, {});
    case 'send_event': {
      const event = (body.event ?? {}) as Record<string, unknown>;
      sent.push({
        chatId: String(body.chat_id),
        at: receivedAt,
        wallAt: Date.now(),
        customId: String(event.custom_id ?? ''),
      });
      eventCounter += 1;
      return answer(res, 200, { event_id: `E${eventCounter}` });
    }
    default:
      return answer(res, 400, {
        error: { type: 'validation', message: `the bench's fake has no ${action}` },
      });
  }
};

await listen((req, res) => {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  readJson(req).then(
    (body) => {
      const call = LIVECHAT_CALL.exec(path);
      if (call && req.method === 'POST') {
        livechat(call[2] ?? '', body, res);
      } else if (path === '/bench/stats') {
        answer(res, 200, { calls, sent: sent.length });
      } else if (path === '/bench/sent') {
        answer(res, 200, sent);
      } else if (path === '/bench/reset' && req.method === 'POST') {
        sent = [];
        calls = {};
        answer(res, 200, {});
      } else {
        answer(res, 404, { error: { type: 'not_found', message: path } });
      }
    },
    () => answer(res, 400, { error: { type: 'validation', message: 'not JSON' } }),
  );
});
