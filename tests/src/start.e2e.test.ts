import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createScenarioClient } from '@nudge/livechat-sandbox';
import {
  connectRedis,
  createTestPrefix,
  deleteKeysWithPrefix,
  startNodeProcess,
  waitFor,
} from '@nudge/testing';
import { describe, expect, inject, it } from 'vitest';

const CLI_MAIN = fileURLToPath(import.meta.resolve('@nudge/cli').replace(/index\.js$/, 'main.js'));

describe('npm start (nudge start)', () => {
  it('runs ingest and a worker against the sandbox, acts as the bot, and stops cleanly', async () => {
    const prefix = createTestPrefix();
    const stateDir = await mkdtemp(join(tmpdir(), 'nudge-start-'));
    const proc = startNodeProcess({
      entry: CLI_MAIN,
      args: ['start', '--port', '0', '--sandbox-port', '0', '--state-dir', stateDir, '--json-logs'],
      env: {
        REDIS_URL: inject('redisUrl'),
        QUEUE_PREFIX: prefix,
        NUDGE_CONFIG: '',
        LIVECHAT_WEBHOOK_SECRETS: '',
      },
    });
    try {
      await proc.waitForLine(
        (line) => String(line.msg).startsWith('Nudge is running against the LiveChat sandbox'),
        30_000,
      );
      const sandboxLine = await proc.waitForLine((line) =>
        String(line.msg).trim().startsWith('sandbox '),
      );
      const sandboxUrl = /http:\/\/[\d.:]+/.exec(String(sandboxLine.msg))?.[0] ?? '';
      const scenario = createScenarioClient(sandboxUrl);

      const { chatId } = await scenario.openChat({ message: 'Hi, where is my order?' });
      const whisper = await waitFor(
        async () =>
          (await scenario.journal({ kind: 'call' })).find(
            (entry) =>
              entry.kind === 'call' && entry.action === 'send_event' && entry.status === 200,
          ),
        { timeoutMs: 15_000, what: 'the keyword whisper' },
      );
      expect(whisper.kind === 'call' && whisper.request).toMatchObject({
        chat_id: chatId,
        event: { visibility: 'agents', text: expect.stringContaining('example.com/track') },
      });

      proc.kill('SIGINT');
      expect((await proc.exited).code).toBe(0);
    } finally {
      proc.kill('SIGKILL');
      const redis = connectRedis(inject('redisUrl'));
      await deleteKeysWithPrefix(redis, prefix);
      redis.disconnect();
    }
  });
});
