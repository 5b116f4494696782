import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { createLivechatClient } from '@nudge/livechat';
import { createSandbox, createScenarioClient } from '@nudge/livechat-sandbox';
import {
  connectRedis,
  createTestPrefix,
  deleteKeysWithPrefix,
  findFreePort,
  startNodeProcess,
  waitFor,
} from '@nudge/testing';
import { afterEach, describe, expect, inject, it, onTestFinished } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI_MAIN = fileURLToPath(import.meta.resolve('@nudge/cli/main'));

/** The environment of a fresh shell: no Redis, rules file or secrets given. */
const cleanEnv = (): NodeJS.ProcessEnv => {
  const {
    REDIS_URL: _redis,
    NUDGE_CONFIG: _config,
    LIVECHAT_WEBHOOK_SECRETS: _secrets,
    QUEUE_PREFIX: _prefix,
    PORT: _port,
    DASHBOARD_PASSWORD: _password,
    DASHBOARD_USERS: _users,
    DASHBOARD_AUTH: _auth,
    DASHBOARD_PORT: _dashboardPort,
    ...rest
  } = process.env;
  return rest;
};

type Run = {
  child: ChildProcess;
  output: () => string;
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<RegExpExecArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
};

/** A command in its own process group (as a terminal runs it), its output collected. */
const run = (command: string, args: string[], env: NodeJS.ProcessEnv = cleanEnv()): Run => {
  const child = spawn(command, args, {
    cwd: ROOT,
    env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    text += chunk.toString();
  });
  // Output is read to its end before `exited` resolves ('exit' can come before the last
  // lines); a child of npm still holding the pipes does not hold the test more than 5 s.
  const closed = once(child, 'close');
  const exited = once(child, 'exit').then(async ([code, signal]) => {
    await Promise.race([closed, delay(5_000)]);
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });
  return {
    child,
    output: () => text,
    exited,
    waitFor: (pattern, timeoutMs = 60_000) =>
      waitFor(() => pattern.exec(text) ?? undefined, {
        timeoutMs,
        what: `${pattern} in the output of ${command} ${args.join(' ')}:\n${text}`,
      }),
  };
};

const running: Run[] = [];
afterEach(() => {
  for (const { child } of running.splice(0)) {
    try {
      process.kill(-(child.pid ?? 0), 'SIGKILL');
    } catch {
      // gone
    }
  }
});

const refused = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });

/** Processes in the group, and any (detached Redis included) naming the state directory. */
const leftovers = (pgid: number, stateDir: string): string[] => {
  const list = (args: string[]) =>
    spawnSync('pgrep', args, { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);
  return [...list(['-g', String(pgid)]), ...list(['-f', stateDir])];
};

type Started = Run & { stateDir: string; ports: number[]; sandboxUrl: string };

/**
 * `npm start` on free ports with its own state directory, up to the banner. In a terminal:
 * under util-linux's `script`, which runs it in a pseudo-terminal of its own (npm the session
 * leader) and copies what it prints.
 */
const npmStart = async ({ terminal = false } = {}): Promise<Started> => {
  const stateDir = await mkdtemp(join(tmpdir(), 'nudge-npm-start-'));
  const args = [
    'start',
    '--',
    ...['--port', '0', '--sandbox-port', '0', '--dashboard-port', '0', '--state-dir', stateDir],
  ];
  const started = terminal
    ? run('script', ['--quiet', '--flush', '--command', `exec npm ${args.join(' ')}`, '/dev/null'])
    : run('npm', args);
  running.push(started);
  await started.waitFor(/Stop with Ctrl-C/);
  const port = (pattern: RegExp) => Number(pattern.exec(started.output())?.[1]);
  return {
    ...started,
    stateDir,
    sandboxUrl: /sandbox +(http:\/\/[\d.:]+)/.exec(started.output())?.[1] ?? '',
    ports: [
      port(/webhooks +http:\/\/127\.0\.0\.1:(\d+)/),
      port(/sandbox +http:\/\/127\.0\.0\.1:(\d+)/),
      port(/dashboard +http:\/\/127\.0\.0\.1:(\d+)/),
      port(/redis +redis:\/\/127\.0\.0\.1:(\d+) \(spawned\)/),
    ],
  };
};

/**
 * Everything `npm start` started is gone within 10 s: processes, ports, the state file. The
 * process group is npm's (`pgid`), by default the command the test ran.
 */
const expectAllGone = async (started: Started, pgid = started.child.pid ?? 0) => {
  await waitFor(async () => leftovers(pgid, started.stateDir).length === 0, {
    timeoutMs: 10_000,
    what: `no process left (${leftovers(pgid, started.stateDir).join(', ')})`,
  });
  for (const port of started.ports) {
    expect(await refused(port)).toBe(true);
  }
  expect(await readdir(started.stateDir)).not.toContain('stack.json');
};

describe('npm start', () => {
  it('runs the sandbox stack; npm run demo passes; SIGTERM to npm alone leaves nothing behind', async () => {
    const started = await npmStart();
    expect(started.ports.every((port) => port > 0)).toBe(true);
    // Sandbox mode never touches a Redis it did not start.
    expect(started.output()).toMatch(/redis +redis:\/\/127\.0\.0\.1:\d+ \(spawned\)/);

    // The dashboard, with the credentials printed for this run.
    const [, board, password] =
      /dashboard +(http:\/\/[\d.:]+) +user admin, password (\S+) \(generated for this run\)/.exec(
        started.output(),
      ) ?? [];
    expect(board, started.output()).toBeDefined();
    expect((await fetch(`${board}/chats`)).status).toBe(401);
    const loginForm = await fetch(`${board}/login`);
    const cookies = loginForm.headers
      .getSetCookie()
      .map((cookie) => cookie.split(';')[0])
      .join('; ');
    const token = /name="_csrf" value="([^"]+)"/.exec(await loginForm.text())?.[1] ?? '';
    const login = await fetch(`${board}/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: cookies, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _csrf: token, name: 'admin', password: password ?? '' }),
    });
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe('/chats');

    const demo = run('npm', ['run', 'demo', '--', '--state-dir', started.stateDir]);
    running.push(demo);
    expect((await demo.exited).code, demo.output()).toBe(0);
    expect(demo.output()).toContain('✓ idle reply: exactly once');
    expect(demo.output()).toContain('✓ canned responses: exactly once');
    expect(demo.output()).toContain('✓ rating reaction: exactly once');
    expect(demo.output()).toContain('✓ not accepting chats: no bot message');

    process.kill(started.child.pid ?? 0, 'SIGTERM');
    const exit = await started.exited;
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    await expectAllGone(started);
  }, 120_000);

  it('stops on Ctrl-C (SIGINT to the whole group)', async () => {
    const started = await npmStart();
    process.kill(-(started.child.pid ?? 0), 'SIGINT');
    await started.exited;
    await expectAllGone(started);
  }, 60_000);

  it('stops cleanly when its terminal is closed (SIGHUP)', async () => {
    const started = await npmStart({ terminal: true });
    // npm, the session leader of the terminal, and the process group of the whole stack.
    const npm = Number(
      spawnSync('pgrep', ['-P', String(started.child.pid)], { encoding: 'utf8' }).stdout,
    );
    expect(npm).toBeGreaterThan(0);
    try {
      // The terminal goes away: its session leader, then the foreground group, get SIGHUP.
      started.child.kill('SIGKILL');
      await expectAllGone(started, npm);
    } finally {
      try {
        process.kill(-npm, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }, 60_000);

  it('stops cleanly when SIGTERM comes during start-up', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'nudge-npm-start-'));
    const started = run('npm', [
      'start',
      '--',
      '--port',
      '0',
      '--sandbox-port',
      '0',
      '--dashboard-port',
      '0',
      '--state-dir',
      stateDir,
    ]);
    running.push(started);
    // Ingest is up, the workers are not yet.
    await started.waitFor(/\[setup\] organization/);
    process.kill(started.child.pid ?? 0, 'SIGTERM');
    await started.exited;
    expect(started.output()).not.toContain('Stop with Ctrl-C');
    await expectAllGone({ ...started, stateDir, ports: [], sandboxUrl: '' });
  }, 60_000);

  it('stops cleanly when SIGTERM comes during the build', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'nudge-npm-start-'));
    const started = run('npm', ['start', '--', '--state-dir', stateDir]);
    running.push(started);
    await started.waitFor(/nudge\.mjs start/);
    process.kill(started.child.pid ?? 0, 'SIGTERM');
    await started.exited;
    await expectAllGone({ ...started, stateDir, ports: [], sandboxUrl: '' });
  }, 60_000);

  it('still runs the sandbox with .env.example as the environment (cp .env.example .env)', async () => {
    const stateDir = await mkdtemp(join(tmpdir(), 'nudge-env-example-'));
    const port = await findFreePort();
    const started = run(process.execPath, [
      '--env-file=.env.example',
      CLI_MAIN,
      ...['start', '--port', String(port), '--sandbox-port', '0', '--dashboard-port', '0'],
      ...['--state-dir', stateDir],
    ]);
    running.push(started);
    await started.waitFor(/Nudge is running against the LiveChat sandbox/);
    process.kill(started.child.pid ?? 0, 'SIGTERM');
    expect((await started.exited).code).toBe(0);
  }, 60_000);
});

describe('nudge start fails fast, in one line', () => {
  const fails = async (args: string[], env: NodeJS.ProcessEnv) => {
    const startedAt = Date.now();
    const failed = run(
      process.execPath,
      [CLI_MAIN, 'start', '--dashboard-port', '0', ...args],
      env,
    );
    running.push(failed);
    const { code } = await failed.exited;
    return { code, ms: Date.now() - startedAt, lines: failed.output().trim().split('\n') };
  };

  it('on an explicit REDIS_URL nobody answers, within 10 s', async () => {
    const url = `redis://127.0.0.1:${await findFreePort()}`;
    const { code, ms, lines } = await fails(['--port', '0'], { ...cleanEnv(), REDIS_URL: url });
    expect(code).toBe(1);
    expect(ms).toBeLessThan(10_000);
    expect(lines).toEqual([
      expect.stringMatching(
        new RegExp(`^nudge: cannot reach Redis at ${url} \\(REDIS_URL\\): connect ECONNREFUSED`),
      ),
    ]);
  }, 20_000);

  it('on a port in use, naming the port and the option', async () => {
    const port = await findFreePort();
    const { createServer } = await import('node:net');
    const server = createServer().listen(port, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { code, lines } = await fails(['--port', String(port)], cleanEnv());
      expect(code).toBe(1);
      expect(lines).toEqual([
        `nudge: port ${port} is in use: choose another with --port <port> (or PORT)`,
      ]);
    } finally {
      server.close();
    }
  });

  it('on a bad rules file, each problem once under its key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nudge-bad-rules-'));
    const rulesPath = join(dir, 'rules.yaml');
    await writeFile(
      rulesPath,
      [
        'livechat: { clientId: env:NO_SUCH_CLIENT }',
        'organizations:',
        '  o:',
        '    bot: { id: b, secret: s }',
        '    pat: { accountId: a, token: t }',
        '    idleReply: { afterSeconds: 1 }',
      ].join('\n'),
    );
    const { code, lines } = await fails(['--port', '0', '--workers', '2'], {
      ...cleanEnv(),
      NUDGE_CONFIG: rulesPath,
      LIVECHAT_WEBHOOK_SECRETS: 'x',
      REDIS_URL: inject('redisUrl'),
    });
    expect(code).toBe(1);
    expect(lines).toEqual([
      'nudge: Invalid configuration:',
      `  - rules file ${rulesPath}: livechat.clientId: environment variable NO_SUCH_CLIENT is not set`,
      `  - rules file ${rulesPath}: organizations.o.idleReply.afterSeconds: must be at least 5 seconds`,
    ]);
  });
});

describe('nudge start without dashboard credentials', () => {
  it('against a real LiveChat (NUDGE_CONFIG), fails in one line naming what to set', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nudge-no-login-'));
    const rulesPath = join(dir, 'rules.yaml');
    await writeFile(
      rulesPath,
      [
        'livechat: { clientId: c }',
        'organizations:',
        '  o:',
        '    bot: { id: b, secret: s }',
        '    pat: { accountId: a, token: t }',
      ].join('\n'),
    );
    const failed = run(
      process.execPath,
      [CLI_MAIN, 'start', '--port', '0', '--dashboard-port', '0'],
      { ...cleanEnv(), NUDGE_CONFIG: rulesPath, LIVECHAT_WEBHOOK_SECRETS: 'x' },
    );
    running.push(failed);
    expect((await failed.exited).code).toBe(1);
    expect(failed.output().trim()).toBe(
      'nudge: the dashboard needs a login: set DASHBOARD_PASSWORD or DASHBOARD_USERS (name:hash, from `npx nudge hash-password`), or DASHBOARD_AUTH=off',
    );
  });
});

/**
 * The CLI alone (`nudge start`, sandbox mode, free ports, a state directory of its own, JSON
 * logs) up to its banner; `env` says which Redis.
 */
const startCli = async (env: Record<string, string>) => {
  const stateDir = await mkdtemp(join(tmpdir(), 'nudge-start-'));
  const proc = startNodeProcess({
    entry: CLI_MAIN,
    args: [
      ...['start', '--port', '0', '--sandbox-port', '0', '--dashboard-port', '0'],
      ...['--state-dir', stateDir, '--json-logs'],
    ],
    env: { NUDGE_CONFIG: '', LIVECHAT_WEBHOOK_SECRETS: '', ...env },
  });
  try {
    await proc.waitForLine(
      (line) => String(line.msg).startsWith('Nudge is running against the LiveChat sandbox'),
      30_000,
    );
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return proc;
};

describe('nudge start (the CLI alone)', () => {
  it('acts as the bot against the sandbox with an explicit REDIS_URL, and stops on SIGINT', async () => {
    const prefix = createTestPrefix();
    const proc = await startCli({ REDIS_URL: inject('redisUrl'), QUEUE_PREFIX: prefix });
    try {
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

describe('nudge start stopped twice', () => {
  /** The apps whose JSON log says they stopped cleanly ("bye", code 0). */
  const saidBye = (output: string) =>
    ['ingest', 'worker-1', 'dashboard'].filter((app) =>
      output
        .split('\n')
        .some((line) => line.startsWith(`[${app}] {`) && /"code":0,"msg":"bye"/.test(line)),
    );

  /**
   * The CLI stopping, with ingest held in its graceful shutdown by a webhook whose body has
   * not all arrived: `send` finishes that body.
   */
  const stoppingWithIngestBusy = async (signal: NodeJS.Signals) => {
    const proc = await startCli({ REDIS_URL: '' });
    let socket: Socket | undefined;
    // A test that fails half-way leaves nothing running (the apps and Redis follow the CLI).
    onTestFinished(() => {
      proc.kill('SIGKILL');
      socket?.destroy();
    });
    const banner = await proc.waitForLine((line) => /^ *webhooks +http/.test(String(line.msg)));
    const webhooks = new URL(String(banner.msg).trim().split(/ +/)[1] ?? '');
    socket = connect(Number(webhooks.port), webhooks.hostname);
    await once(socket, 'connect');
    const body = JSON.stringify({ action: 'incoming_chat', secret_key: 'wrong', payload: {} });
    socket.write(
      `POST ${webhooks.pathname} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`,
    );
    proc.kill(signal);
    await proc.waitForLine(
      (line) =>
        String(line.msg).startsWith('[ingest] ') && String(line.msg).includes('shutting down'),
    );
    return {
      proc,
      send: () => {
        socket?.end(body.slice(10));
      },
    };
  };

  it('by SIGTERM twice (a supervisor, npm gone): still waits for every app to stop cleanly', async () => {
    const { proc, send } = await stoppingWithIngestBusy('SIGTERM');
    proc.kill('SIGTERM');
    await proc.waitForLine((line) => String(line.msg).includes('still waiting for the apps'));
    send();
    expect((await proc.exited).code).toBe(0);
    expect(saidBye(proc.output())).toEqual(['ingest', 'worker-1', 'dashboard']);
  });

  it('by Ctrl-C twice: does not wait, the apps are killed', async () => {
    const { proc, send } = await stoppingWithIngestBusy('SIGINT');
    proc.kill('SIGINT');
    expect((await proc.exited).code).toBe(1);
    send();
    expect(proc.output()).toContain('[nudge] Ctrl-C twice: killing the apps');
    expect(saidBye(proc.output())).not.toContain('ingest');
  });
});

/** Running, not a zombie left for a parent to reap. */
const isRunning = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
};

// The CLI ties its children to itself through util-linux's setpriv (Linux). Without it the
// children outlive a killed CLI, as documented; CI (NUDGE_CI_TOOLS) requires it.
const HAS_SETPRIV =
  process.platform === 'linux' && spawnSync('setpriv', ['--version']).status === 0;

describe.skipIf(!HAS_SETPRIV && !process.env.NUDGE_CI_TOOLS)(
  'nudge start killed outright (SIGKILL)',
  () => {
    it('takes its apps and the Redis it spawned along', async () => {
      const proc = await startCli({ REDIS_URL: '' });
      let children: number[] = [];
      try {
        children = spawnSync('pgrep', ['-P', String(proc.child.pid)], { encoding: 'utf8' })
          .stdout.trim()
          .split('\n')
          .map(Number);
        const names = children.map((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim());
        // ingest, a worker, the dashboard and redis-server.
        expect(names.filter((name) => name === 'redis-server')).toHaveLength(1);
        expect(children.length).toBeGreaterThanOrEqual(4);

        proc.kill('SIGKILL');
        await waitFor(
          () => {
            const left = children.filter(isRunning);
            if (left.length > 0) {
              const described = left.map(
                (pid) =>
                  `${pid} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')}`,
              );
              throw new Error(`still running: ${described.join('; ')}`);
            }
            return true;
          },
          { timeoutMs: 15_000, what: 'the children of the killed CLI to stop' },
        );
      } finally {
        proc.kill('SIGKILL');
        for (const pid of children.filter(isRunning)) {
          process.kill(pid, 'SIGKILL');
        }
      }
    });
  },
);

describe('nudge <command> --help', () => {
  it.each(['start', 'setup', 'status', 'doctor', 'teardown', 'demo'])(
    'describes %s',
    async (command) => {
      const help = run(process.execPath, [CLI_MAIN, command, '--help']);
      expect((await help.exited).code).toBe(0);
      expect(help.output()).toContain(`Usage: nudge ${command} [options]`);
    },
  );

  it('never waits for a keyboard that is not there: teardown without --yes changes nothing', async () => {
    const sandbox = await createSandbox();
    try {
      const { organizationId, clientId, accountId, pat } = sandbox.credentials;
      const admin = createLivechatClient({
        baseUrl: sandbox.url,
        auth: { type: 'pat', accountId, pat },
      });
      await admin.registerWebhook({
        action: 'incoming_chat',
        url: 'https://nudge.example.com/livechat/webhooks',
        secret_key: 'secret',
        owner_client_id: clientId,
        type: 'bot',
        description: 'nudge: incoming_chat',
      });
      const dir = await mkdtemp(join(tmpdir(), 'nudge-teardown-'));
      await writeFile(
        join(dir, 'rules.yaml'),
        `livechat: { clientId: ${clientId} }\norganizations:\n  ${organizationId}: { pat: { accountId: ${accountId}, token: "${pat}" } }\n`,
      );
      const env = {
        ...cleanEnv(),
        NUDGE_CONFIG: join(dir, 'rules.yaml'),
        LIVECHAT_API_URL: sandbox.url,
      };
      // Standard input is not a terminal here (the tests' own stdin is ignored).
      const asked = run(process.execPath, [CLI_MAIN, 'teardown'], env);
      expect((await asked.exited).code).toBe(1);
      expect(asked.output()).toContain(
        'Not confirmed: standard input is not a terminal; pass --yes',
      );
      expect(sandbox.state.webhooks()).toHaveLength(1);

      const confirmed = run(process.execPath, [CLI_MAIN, 'teardown', '--yes'], env);
      expect((await confirmed.exited).code, confirmed.output()).toBe(0);
      expect(sandbox.state.webhooks()).toEqual([]);
    } finally {
      await sandbox.close();
    }
  });
});
