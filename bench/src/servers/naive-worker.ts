// The naive pipeline's worker: one BullMQ Worker (concurrency 10, Nudge's default per queue)
// that reads the chat (get_chat) and sends one event (send_event, with a custom_id) per job.
// No dedupe, no lock, no bot-status gate, no decision: the floor a real bot can't go below.
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';

const api = `${process.env.LIVECHAT_API_URL ?? ''}/v3.6/agent/action`;
const headers = { 'content-type': 'application/json', authorization: 'Bearer naive-bench' };

const call = async (action: string, body: object): Promise<Record<string, unknown>> => {
  const response = await fetch(`${api}/${action}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  const answer = (await response.json()) as Record<string, unknown>;
  if (!response.ok) {
    throw new Error(`${action}: HTTP ${response.status}`);
  }
  return answer;
};

const worker = new Worker(
  process.env.NAIVE_QUEUE ?? 'naive',
  async (job) => {
    const payload = (job.data as { payload: { chat_id: string; thread_id: string } }).payload;
    const chat = await call('get_chat', {
      chat_id: payload.chat_id,
      thread_id: payload.thread_id,
    });
    const thread = chat.thread as { active?: boolean } | undefined;
    if (thread?.active !== true) {
      return 'skipped';
    }
    await call('send_event', {
      chat_id: payload.chat_id,
      event: {
        type: 'message',
        text: job.name === 'thread_tagged' ? 'Suggested replies…' : 'Thanks for waiting',
        visibility: job.name === 'thread_tagged' ? 'agents' : 'all',
        custom_id: `naive-${job.id}`,
      },
    });
    return 'sent';
  },
  {
    connection: new Redis(process.env.REDIS_URL ?? '', { maxRetriesPerRequest: null }),
    concurrency: 10,
    // As Nudge's workers keep them (QUEUE_RETENTION): the Redis-cost bench compares like with like.
    removeOnComplete: { age: 3_600, count: 5_000 },
    removeOnFail: { age: 7 * 24 * 3_600, count: 50_000 },
  },
);
await worker.waitUntilReady();
console.log(JSON.stringify({ msg: 'worker ready' }));
process.on('SIGTERM', () => {
  void worker.close().then(() => process.exit(0));
});
