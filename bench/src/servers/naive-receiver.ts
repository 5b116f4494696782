// The naive pipeline's receiver: node:http, JSON.parse, the secret compared, one queue.add per
// webhook (the whole body as the job), 200 once Redis has it. NAIVE_DELAY_MS makes each
// customer message (incoming_event) a timer, a delayed job: the idle-timer and Redis-cost
// benches' baseline; those of NAIVE_SLOW_ORGANIZATION wait an hour, as in Nudge's bench rules.
// Other webhooks are acted on at once.
import { timingSafeEqual } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { listen } from './listen.js';

const secret = Buffer.from(process.env.NAIVE_SECRET ?? '');
const delay = Number(process.env.NAIVE_DELAY_MS ?? 0);
const slowOrganization = process.env.NAIVE_SLOW_ORGANIZATION;
const HOUR_MS = 3_600_000;
const queue = new Queue(process.env.NAIVE_QUEUE ?? 'naive', {
  connection: new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: null }),
});

const reply = (res: import('node:http').ServerResponse, status: number) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(status === 200 ? '{"ok":true}' : '{"ok":false}');
};

await listen((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      reply(res, 400);
      return;
    }
    const given = Buffer.from(String(body.secret_key ?? ''));
    if (given.length !== secret.length || !timingSafeEqual(given, secret)) {
      reply(res, 401);
      return;
    }
    delete body.secret_key;
    const action = String(body.action);
    const timer =
      action !== 'incoming_event' || delay === 0
        ? {}
        : { delay: body.organization_id === slowOrganization ? HOUR_MS : delay };
    queue.add(action, body, timer).then(
      () => reply(res, 200),
      () => reply(res, 503),
    );
  });
});
