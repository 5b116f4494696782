// Baseline (b): express 5 parsing JSON and acking without storing anything.
import express from 'express';
import { listen } from './listen.js';

const app = express();
app.use(express.json({ limit: '1mb' }));
app.post('/livechat/webhooks', (_req, res) => {
  res.json({ ok: true });
});
await listen(app);
