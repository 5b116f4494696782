import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';

const capture = () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, destination };
};

describe('createLogger', () => {
  it('binds the service and redacts secrets, tokens and authorization headers', () => {
    const { lines, destination } = capture();
    const log = createLogger({ service: 'ingest', destination });
    log.info(
      {
        secret_key: 'sk-top',
        body: { secret_key: 'sk-nested' },
        bot: { token: 'tok-1', bot_secret: 'bs-1' },
        req: { headers: { authorization: 'Bearer tok-2' } },
        err: { access_token: 'tok-3' },
      },
      'hello',
    );
    expect(lines).toHaveLength(1);
    const line = lines[0] ?? '';
    expect(JSON.parse(line)).toMatchObject({ service: 'ingest', msg: 'hello' });
    for (const secret of ['sk-top', 'sk-nested', 'tok-1', 'bs-1', 'tok-2', 'tok-3']) {
      expect(line).not.toContain(secret);
    }
    expect(line).toContain('[Redacted]');
  });
});
