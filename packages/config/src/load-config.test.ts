import { describe, expect, it } from 'vitest';
import { IngestEnv } from './env.js';
import { ConfigError, loadConfig } from './load-config.js';

describe('loadConfig(IngestEnv)', () => {
  it('applies defaults and splits the secrets list', () => {
    const config = loadConfig(IngestEnv, { LIVECHAT_WEBHOOK_SECRETS: ' old , new ,' });
    expect(config).toMatchObject({
      REDIS_URL: 'redis://127.0.0.1:6379',
      QUEUE_PREFIX: 'nudge',
      PORT: 3000,
      LIVECHAT_WEBHOOK_SECRETS: ['old', 'new'],
      WEBHOOK_BODY_LIMIT_BYTES: 1_048_576,
      LOG_LEVEL: 'info',
      LOG_PRETTY: false,
    });
  });

  it('reports every bad key at once', () => {
    let error: unknown;
    try {
      loadConfig(IngestEnv, { PORT: 'eighty', REDIS_URL: 'http://x', LOG_LEVEL: 'loud' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const keys = (error as ConfigError).issues.map((issue) => issue.split(':')[0]);
    expect(keys.sort()).toEqual(['LIVECHAT_WEBHOOK_SECRETS', 'LOG_LEVEL', 'PORT', 'REDIS_URL']);
    expect((error as ConfigError).message).toContain('LIVECHAT_WEBHOOK_SECRETS');
  });

  it('treats empty values as unset and rejects an empty secrets list', () => {
    expect(loadConfig(IngestEnv, { PORT: '', LIVECHAT_WEBHOOK_SECRETS: 's' }).PORT).toBe(3000);
    expect(() => loadConfig(IngestEnv, { LIVECHAT_WEBHOOK_SECRETS: ' , ' })).toThrow(
      /LIVECHAT_WEBHOOK_SECRETS: at least one secret/,
    );
  });

  it('parses booleans strictly', () => {
    const env = { LIVECHAT_WEBHOOK_SECRETS: 's' };
    expect(loadConfig(IngestEnv, { ...env, LOG_PRETTY: '1' }).LOG_PRETTY).toBe(true);
    expect(() => loadConfig(IngestEnv, { ...env, LOG_PRETTY: 'maybe' })).toThrow(/LOG_PRETTY/);
  });
});
