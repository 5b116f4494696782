// Baseline (d): the floor — node:http, JSON.parse, one queue.add per request.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { listen } from './listen.js';

const queue = new Queue('naive-http', { connection: new Redis(process.env.REDIS_URL ?? '') });
await listen((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    queue.add(body.action, body).then(
      (job) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ ok: true, id: job.id }));
      },
      () => {
        res.writeHead(503);
        res.end();
      },
    );
  });
});
