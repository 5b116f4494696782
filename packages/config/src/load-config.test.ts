import { describe, expect, it } from 'vitest';
import { CliEnv, DashboardEnv, IngestEnv, RedisEnv, WorkerEnv } from './env.js';
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

describe('REDIS_URL, REDIS_CLUSTER and QUEUE_PREFIX', () => {
  const issuesOf = (env: Record<string, string>): readonly string[] => {
    try {
      loadConfig(RedisEnv, env);
      return [];
    } catch (err) {
      return (err as ConfigError).issues;
    }
  };

  it('takes one URL by default, and one or more comma-separated nodes for a cluster', () => {
    expect(loadConfig(RedisEnv, {})).toEqual({
      REDIS_URL: 'redis://127.0.0.1:6379',
      REDIS_CLUSTER: false,
      QUEUE_PREFIX: 'nudge',
    });
    const nodes = 'redis://a:7000, redis://b:7001,redis://c:7002';
    expect(loadConfig(RedisEnv, { REDIS_URL: nodes, REDIS_CLUSTER: 'true' })).toMatchObject({
      REDIS_URL: nodes,
      REDIS_CLUSTER: true,
    });
    expect(issuesOf({ REDIS_URL: 'rediss://u:p@a:7000/0', REDIS_CLUSTER: '1' })).toEqual([]);
    expect(issuesOf({ REDIS_CLUSTER: 'true', QUEUE_PREFIX: '{nudge}' })).toEqual([]);
  });

  it('says in one line what is wrong', () => {
    expect(issuesOf({ REDIS_URL: 'redis://a:1,redis://b:2' })).toEqual([
      'REDIS_URL: several URLs are for a Redis Cluster: set REDIS_CLUSTER=true, or give one URL',
    ]);
    expect(issuesOf({ REDIS_URL: 'redis://a:1,http://b', REDIS_CLUSTER: 'true' })).toEqual([
      'REDIS_URL: expected redis:// or rediss:// URL (comma-separated nodes with REDIS_CLUSTER=true)',
    ]);
    expect(issuesOf({ REDIS_CLUSTER: 'cluster' })).toEqual([
      'REDIS_CLUSTER: expected true/false/1/0',
    ]);
    expect(issuesOf({ REDIS_URL: 'redis://a:1/2', REDIS_CLUSTER: 'yes' })).toEqual([
      'REDIS_URL: a Redis Cluster has database 0 only: drop the /<database> from REDIS_URL',
    ]);
    expect(issuesOf({ REDIS_URL: 'redis://a:1,rediss://b:2', REDIS_CLUSTER: 'yes' })).toEqual([
      "REDIS_URL: mixes redis:// and rediss://: a cluster's nodes share one TLS setting",
    ]);
    expect(issuesOf({ REDIS_CLUSTER: 'true', QUEUE_PREFIX: 'nu{dge' })).toEqual([
      'QUEUE_PREFIX: on a Redis Cluster braces only as one hash tag, e.g. {nudge}; or none, and Nudge tags each queue',
    ]);
    // A database number is fine on one Redis, braces too: nothing changes there.
    expect(issuesOf({ REDIS_URL: 'redis://a:1/2', QUEUE_PREFIX: 'nu{dge' })).toEqual([]);
  });

  it("is checked by every app's schema", () => {
    const env = { REDIS_URL: 'redis://a:1,redis://b:2', LIVECHAT_WEBHOOK_SECRETS: 's' };
    for (const schema of [IngestEnv, WorkerEnv, CliEnv, DashboardEnv]) {
      expect(() => loadConfig(schema, { ...env, DASHBOARD_AUTH: 'off' })).toThrow(
        /REDIS_URL: several URLs are for a Redis Cluster/,
      );
      expect(
        loadConfig(schema, { ...env, REDIS_CLUSTER: 'true', DASHBOARD_AUTH: 'off' }),
      ).toMatchObject({ REDIS_CLUSTER: true });
    }
  });
});
