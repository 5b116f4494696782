import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { describe, expect, it, onTestFinished } from 'vitest';
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

  it('on stdout, outlives a closed terminal (EIO) and a reader gone (EPIPE), not a full disk', () => {
    const log = createLogger({ service: 'ingest' });
    const stream = (log as unknown as Record<symbol, Writable>)[pino.symbols.streamSym];
    const failure = (code: string) => Object.assign(new Error(`write ${code}`), { code });
    expect(() => stream?.emit('error', failure('EIO'))).not.toThrow();
    expect(() => stream?.emit('error', failure('EPIPE'))).not.toThrow();
    expect(() => stream?.emit('error', failure('ENOSPC'))).toThrow('write ENOSPC');
  });
});

/**
 * A process that logs `lines` lines of 200 bytes at once, when its stdin says so, then calls
 * exitAfterFlush with code 3 and logs once more, on the next turn. Node runs logger.ts itself
 * (type stripping).
 */
const spawnLogger = (lines: number) => {
  const logger = pathToFileURL(new URL('./logger.ts', import.meta.url).pathname).href;
  const script = `
    import { createLogger, exitAfterFlush } from ${JSON.stringify(logger)};
    const log = createLogger({ service: 'exit-test' });
    process.stdin.once('data', () => {
      for (let i = 0; i < ${lines}; i += 1) log.info({ i }, 'x'.repeat(200));
      exitAfterFlush(log, 3);
      setImmediate(() => log.info('after the exit'));
    });`;
  const child = spawn(process.execPath, ['--input-type=module', '--no-warnings', '-e', script], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  onTestFinished(() => {
    child.kill('SIGKILL');
  });
  const go = () => child.stdin.write('go\n');
  return { child, exited, go };
};

/** Resolves with the exit code, or 'still running' if the process outlives `ms`. */
const exitWithin = (exited: Promise<number | null>, ms: number) =>
  Promise.race([
    exited,
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), ms)),
  ]);

describe('exitAfterFlush', () => {
  it('writes every line, then exits before anything else runs, while stdout is read', async () => {
    const { child, exited, go } = spawnLogger(5_000);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
    });
    go();
    expect(await exitWithin(exited, 10_000)).toBe(3);
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(5_000);
    expect(JSON.parse(lines.at(-1) ?? '')).toMatchObject({ i: 4_999 });
    expect(output).not.toContain('after the exit');
  });

  it('exits when the reader of stdout is gone, with lines still to write', async () => {
    const { child, exited, go } = spawnLogger(5_000);
    child.stdout.destroy();
    go();
    // With pino's buffered default, its write of the rest at exit retried the broken pipe forever.
    expect(await exitWithin(exited, 10_000)).toBe(3);
  });
});
