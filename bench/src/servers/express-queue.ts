// Baseline (c): the naive receiver — express 5, express.json, one queue.add per request.
import { Queue } from 'bullmq';
import express from 'express';
import { Redis } from 'ioredis';
import { listen } from './listen.js';

const queue = new Queue('naive-express', { connection: new Redis(process.env.REDIS_URL ?? '') });
const app = express();
app.use(express.json({ limit: '1mb' }));
app.post('/livechat/webhooks', async (req, res) => {
  const job = await queue.add(req.body.action, req.body);
  res.json({ ok: true, id: job.id });
});
await listen(app);
