import { QUEUE_RETENTION } from '@nudge/queues';
import type { Redis } from 'ioredis';
import { idleChatId, tagChatId } from './chats.js';
import {
  type BenchRedis,
  customerMessageWebhook,
  type FakeLivechat,
  fmt,
  http,
  median,
  openLoop,
  type Pipeline,
  progress,
  ratio,
  SLOW_ORGANIZATION,
  sleep,
  startNaive,
  startNudge,
  table,
  tagWebhook,
  until,
} from './harness.js';
import {
  growth,
  type KeyGroup,
  type Memory,
  PENDING_TIMER,
  scanMemory,
  sumOf,
} from './redis-memory.js';
import { type RedisProxy, startRedisProxy, type Traffic } from './redis-proxy.js';

type Kind = Pipeline['kind'];

type Snapshot = {
  at: number;
  commandstats: Record<string, number>;
  receiver: Traffic;
  worker: Traffic;
};

/** Redis work per customer message (background subtracted). */
type Cost = {
  roundTrips: number;
  receiverRoundTrips: number;
  workerRoundTrips: number;
  clientCommands: number;
  /** Every command Redis ran, those inside scripts included (INFO commandstats). */
  commands: number;
  byCommand: Record<string, number>;
  bytesOut: number;
  bytesIn: number;
};

type Measured = {
  routed: Cost;
  /** Routed, then the timer fired and the bot's message went out. */
  fired: Cost;
  /** Key groups' growth per message while the timers were pending, and after they fired. */
  pendingMemory: Memory;
  firedMemory: Memory;
};

export type RedisCostResults = { messages: number; runs: Map<Kind, Measured[]> };

const parseCommandstats = (info: string): Record<string, number> => {
  const stats: Record<string, number> = {};
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    stats[match[1] as string] = Number(match[2]);
  }
  return stats;
};

const snapshot = async (
  redis: Redis,
  proxies: { receiver: RedisProxy; worker: RedisProxy },
): Promise<Snapshot> => ({
  at: Date.now(),
  commandstats: parseCommandstats(await redis.info('commandstats')),
  receiver: proxies.receiver.traffic(),
  worker: proxies.worker.traffic(),
});

/** The work between two snapshots, less the background rate, per message. */
const costBetween = (from: Snapshot, to: Snapshot, background: Cost, messages: number): Cost => {
  const seconds = (to.at - from.at) / 1000;
  const per = (value: number, idle: number) => (value - idle * seconds) / messages;
  const byCommand: Record<string, number> = {};
  for (const [name, calls] of Object.entries(to.commandstats)) {
    // The bench's own INFO is not the pipeline's.
    if (name !== 'info') {
      byCommand[name] = per(
        calls - (from.commandstats[name] ?? 0),
        background.byCommand[name] ?? 0,
      );
    }
  }
  const traffic = (pick: (t: Traffic) => number) =>
    pick(to.receiver) - pick(from.receiver) + pick(to.worker) - pick(from.worker);
  return {
    roundTrips: per(
      traffic((t) => t.roundTrips),
      background.roundTrips,
    ),
    receiverRoundTrips: per(
      to.receiver.roundTrips - from.receiver.roundTrips,
      background.receiverRoundTrips,
    ),
    workerRoundTrips: per(
      to.worker.roundTrips - from.worker.roundTrips,
      background.workerRoundTrips,
    ),
    clientCommands: per(
      traffic((t) => t.commands),
      background.clientCommands,
    ),
    commands: Object.values(byCommand).reduce((sum, n) => sum + n, 0),
    byCommand,
    bytesOut: per(
      traffic((t) => t.bytesOut),
      background.bytesOut,
    ),
    bytesIn: per(
      traffic((t) => t.bytesIn),
      background.bytesIn,
    ),
  };
};

const ZERO: Cost = {
  roundTrips: 0,
  receiverRoundTrips: 0,
  workerRoundTrips: 0,
  clientCommands: 0,
  commands: 0,
  byCommand: {},
  bytesOut: 0,
  bytesIn: 0,
};

const addCosts = (a: Cost, b: Cost): Cost => {
  const byCommand: Record<string, number> = { ...a.byCommand };
  for (const [name, n] of Object.entries(b.byCommand)) {
    byCommand[name] = (byCommand[name] ?? 0) + n;
  }
  return {
    roundTrips: a.roundTrips + b.roundTrips,
    receiverRoundTrips: a.receiverRoundTrips + b.receiverRoundTrips,
    workerRoundTrips: a.workerRoundTrips + b.workerRoundTrips,
    clientCommands: a.clientCommands + b.clientCommands,
    commands: a.commands + b.commands,
    byCommand,
    bytesOut: a.bytesOut + b.bytesOut,
    bytesIn: a.bytesIn + b.bytesIn,
  };
};

/** Jobs the worker's /metrics counts for `queue` with `outcome` (0 before the first). */
const jobsCounted = async (metricsUrl: string, queue: string, outcome: string) => {
  const text = (await http(`${metricsUrl}/metrics`)).body;
  let total = 0;
  for (const line of text.split('\n')) {
    if (
      line.startsWith('nudge_jobs_total{') &&
      line.includes(`queue="${queue}"`) &&
      line.includes(`outcome="${outcome}"`)
    ) {
      total += Number(line.slice(line.lastIndexOf(' ') + 1));
    }
  }
  return total;
};

/** Long enough for every message to be routed, and memory read, before the first timer fires. */
const AFTER_SECONDS = 10;

const measureOnce = async (
  kind: Kind,
  {
    redis,
    fake,
    messages,
    rate,
    label,
  }: { redis: BenchRedis; fake: FakeLivechat; messages: number; rate: number; label: string },
): Promise<Measured> => {
  await redis.flush();
  await fake.reset();
  const proxies = {
    receiver: await startRedisProxy(redis.server.port),
    worker: await startRedisProxy(redis.server.port),
  };
  const options = {
    redisUrl: redis.url,
    livechatUrl: fake.url,
    receiverRedisUrl: proxies.receiver.url,
    workerRedisUrl: proxies.worker.url,
    afterSeconds: AFTER_SECONDS,
  };
  const pipeline =
    kind === 'nudge'
      ? await startNudge(options)
      : await startNaive({ ...options, delayMs: AFTER_SECONDS * 1000 });
  const metricsUrl = pipeline.workers[0]?.metricsUrl;
  const send = (tag: string, count: number) =>
    openLoop({
      url: pipeline.webhookUrl,
      rate,
      seconds: count / rate,
      make: (n, wallMs) => {
        const chatId = idleChatId(`${label}${tag}`, n, wallMs);
        return { chatId, body: customerMessageWebhook(chatId, wallMs) };
      },
    });
  try {
    // Warm-up: immediate actions, and customer messages whose timers wait an hour, take every
    // path once (and Redis keeps the scripts loaded across the bench's flushes).
    const warm = await openLoop({
      url: pipeline.webhookUrl,
      rate,
      seconds: 10 / rate,
      make: (n) => {
        const chatId = tagChatId(`${label}w`, n);
        return { chatId, body: tagWebhook(chatId) };
      },
    });
    const slow = await openLoop({
      url: pipeline.webhookUrl,
      rate,
      seconds: 10 / rate,
      make: (n, wallMs) => {
        const chatId = idleChatId(`${label}s`, n, wallMs);
        return { chatId, body: customerMessageWebhook(chatId, wallMs, SLOW_ORGANIZATION) };
      },
    });
    await fake.waitForSent(warm.sentAt.size, 30_000);
    if (metricsUrl) {
      // Every warm-up webhook routed (and the two routing_status_set): none may still be in
      // flight while the background is measured.
      await until('the warm-up routed', async () =>
        (await jobsCounted(metricsUrl, 'livechat-events', 'routed')) >=
        2 + warm.sentAt.size + slow.sentAt.size
          ? true
          : undefined,
      );
    }
    await sleep(500);
    await fake.reset();
    const before = await scanMemory(redis.client);

    // What the pipeline does idle (blocking waits, heartbeats), to subtract.
    const idleFrom = await snapshot(redis.client, proxies);
    await sleep(3_000);
    const background = costBetween(
      idleFrom,
      await snapshot(redis.client, proxies),
      { ...ZERO },
      (Date.now() - idleFrom.at) / 1000,
    );

    const routedBefore = metricsUrl
      ? await jobsCounted(metricsUrl, 'livechat-events', 'routed')
      : 0;
    const start = await snapshot(redis.client, proxies);
    await send('m', messages);
    if (metricsUrl) {
      await until('every message routed', async () =>
        (await jobsCounted(metricsUrl, 'livechat-events', 'routed')) >= routedBefore + messages
          ? true
          : undefined,
      );
    }
    // The last jobs' moveToFinished follows the handler.
    await sleep(300);
    const routedAt = await snapshot(redis.client, proxies);
    const pending = await scanMemory(redis.client);
    const fireFrom = await snapshot(redis.client, proxies);
    if (fireFrom.at - start.at > AFTER_SECONDS * 1000) {
      throw new Error('routing outlasted the timers: the phases overlap (lower --messages)');
    }
    await fake.waitForSent(messages, 60_000);
    await sleep(500);
    const firedAt = await snapshot(redis.client, proxies);
    const fired = await scanMemory(redis.client);
    const routed = costBetween(start, routedAt, background, messages);
    return {
      routed,
      fired: addCosts(routed, costBetween(fireFrom, firedAt, background, messages)),
      pendingMemory: growth(before, pending, messages),
      firedMemory: growth(before, fired, messages),
    };
  } finally {
    await pipeline.stop();
    await proxies.receiver.close();
    await proxies.worker.close();
  }
};

/**
 * `redis`: what one customer message (an incoming_event that starts an idle timer) costs Redis,
 * once routed and after its timer fired: round trips and commands counted by a proxy, commands
 * including those scripts run from INFO commandstats, and the memory of what it leaves.
 */
export const benchRedisCost = async ({
  redis,
  fake,
  rounds,
  messages,
  rate,
}: {
  redis: BenchRedis;
  fake: FakeLivechat;
  rounds: number;
  messages: number;
  rate: number;
}): Promise<RedisCostResults> => {
  const runs = new Map<Kind, Measured[]>();
  for (let round = 1; round <= rounds; round += 1) {
    const kinds: Kind[] = round % 2 === 1 ? ['nudge', 'naive'] : ['naive', 'nudge'];
    for (const kind of kinds) {
      const measured = await measureOnce(kind, {
        redis,
        fake,
        messages,
        rate,
        label: `c${round}${kind}`,
      });
      runs.set(kind, [...(runs.get(kind) ?? []), measured]);
      progress(
        `redis round ${round} ${kind}: routed ${fmt(measured.routed.roundTrips)} round trips, ` +
          `${fmt(measured.routed.commands)} commands; fired ${fmt(measured.fired.roundTrips)} / ${fmt(measured.fired.commands)}`,
      );
    }
  }
  return { messages, runs };
};

const RETAINED: Record<Kind, { label: string; pattern: RegExp }[]> = {
  nudge: [
    {
      label: 'a stored webhook (livechat-events)',
      pattern: /^nudge:livechat-events:(<job>|completed)$/,
    },
    { label: 'a fired timer (idle-reply)', pattern: /^nudge:idle-reply:(<job>|completed)$/ },
  ],
  naive: [{ label: 'a fired timer (naive)', pattern: /^bull:naive:(<job>|completed)$/ }],
};

const ttlText = (ms: number) =>
  ms < 0 ? 'none' : ms >= 3_600_000 ? `${fmt(ms / 3_600_000, 0)} h` : `${fmt(ms / 1000, 0)} s`;

export const printRedisCost = ({ messages, runs }: RedisCostResults): void => {
  const of = (kind: Kind, pick: (m: Measured) => number) =>
    median((runs.get(kind) ?? []).map(pick));
  const rows: [string, (c: Cost) => number, number][] = [
    ['round trips (receiver + worker)', (c) => c.roundTrips, 1],
    ['  of which the receiver', (c) => c.receiverRoundTrips, 1],
    ['  of which the worker', (c) => c.workerRoundTrips, 1],
    ['commands sent by clients', (c) => c.clientCommands, 1],
    ['commands run, scripts included', (c) => c.commands, 1],
    ['  of which EVALSHA/EVAL', (c) => (c.byCommand.evalsha ?? 0) + (c.byCommand.eval ?? 0), 1],
    ['  of which XADD (BullMQ events)', (c) => c.byCommand.xadd ?? 0, 1],
    ['bytes to Redis', (c) => c.bytesOut, 0],
    ['bytes from Redis', (c) => c.bytesIn, 0],
  ];
  console.log(
    `\nRedis per customer message (an incoming_event starting an idle timer; ${messages} messages per round, background subtracted, median of rounds)\n`,
  );
  console.log(
    table(
      [
        'per message',
        'Nudge routed',
        'naive stored',
        'ratio',
        'Nudge fired',
        'naive fired',
        'ratio',
      ],
      rows.map(([label, pick, digits]) => {
        const nr = of('nudge', (m) => pick(m.routed));
        const ar = of('naive', (m) => pick(m.routed));
        const nf = of('nudge', (m) => pick(m.fired));
        const af = of('naive', (m) => pick(m.fired));
        return [
          label,
          fmt(nr, digits),
          fmt(ar, digits),
          ratio(nr, ar),
          fmt(nf, digits),
          fmt(af, digits),
          ratio(nf, af),
        ];
      }),
    ),
  );
  for (const [stage, when] of [
    ['routed', 'once routed'],
    ['fired', 'after the timer fired'],
  ] as const) {
    for (const kind of ['nudge', 'naive'] as const) {
      const names = new Set((runs.get(kind) ?? []).flatMap((m) => Object.keys(m[stage].byCommand)));
      const commands = [...names]
        .map((name) => [name, of(kind, (m) => m[stage].byCommand[name] ?? 0)] as const)
        .filter(([, n]) => n >= 0.05)
        .sort((a, b) => b[1] - a[1])
        .map(([name, n]) => `${name} ${fmt(n)}`)
        .join(', ');
      console.log(`\ncommands per message ${when}, ${kind}: ${commands}`);
    }
  }

  for (const kind of ['nudge', 'naive'] as const) {
    const groups = new Set(
      (runs.get(kind) ?? []).flatMap((m) => [...m.pendingMemory.keys(), ...m.firedMemory.keys()]),
    );
    const memoryOf = (
      which: 'pendingMemory' | 'firedMemory',
      group: string,
      pick: (g: KeyGroup) => number,
    ) =>
      of(kind, (m) => {
        const entry = m[which].get(group);
        return entry ? pick(entry) : 0;
      });
    console.log(
      `\nRedis memory per customer message by key group, ${kind} (MEMORY USAGE growth)\n`,
    );
    console.log(
      table(
        [
          'key group',
          'keys, timer pending',
          'bytes, timer pending',
          'keys, fired',
          'bytes, fired',
          'TTL',
        ],
        [...groups].sort().map((group) => [
          group,
          fmt(
            memoryOf('pendingMemory', group, (g) => g.keys),
            2,
          ),
          fmt(
            memoryOf('pendingMemory', group, (g) => g.bytes),
            0,
          ),
          fmt(
            memoryOf('firedMemory', group, (g) => g.keys),
            2,
          ),
          fmt(
            memoryOf('firedMemory', group, (g) => g.bytes),
            0,
          ),
          ttlText(
            Math.max(
              ...(runs.get(kind) ?? []).map(
                (m) => m.firedMemory.get(group)?.ttlMs ?? m.pendingMemory.get(group)?.ttlMs ?? -1,
              ),
            ),
          ),
        ]),
      ),
    );
  }

  const pendingTimer = (kind: Kind) => of(kind, (m) => sumOf(m.pendingMemory, PENDING_TIMER[kind]));
  const total = (kind: Kind, which: 'pendingMemory' | 'firedMemory') =>
    of(kind, (m) => [...m[which].values()].reduce((sum, g) => sum + g.bytes, 0));
  console.log('\nbytes (median of rounds)\n');
  console.log(
    table(
      ['', 'Nudge', 'naive', 'ratio'],
      [
        [
          'per pending timer (job hash, delayed-set entry, dedup key)',
          fmt(pendingTimer('nudge'), 0),
          fmt(pendingTimer('naive'), 0),
          ratio(pendingTimer('nudge'), pendingTimer('naive')),
        ],
        [
          'per customer message, timer pending (every key group)',
          fmt(total('nudge', 'pendingMemory'), 0),
          fmt(total('naive', 'pendingMemory'), 0),
          ratio(total('nudge', 'pendingMemory'), total('naive', 'pendingMemory')),
        ],
        [
          'per customer message, timer fired (every key group)',
          fmt(total('nudge', 'firedMemory'), 0),
          fmt(total('naive', 'firedMemory'), 0),
          ratio(total('nudge', 'firedMemory'), total('naive', 'firedMemory')),
        ],
        ...RETAINED.nudge.map(({ label, pattern }) => [
          `per retained job: ${label} (hash + completed-set entry)`,
          fmt(
            of('nudge', (m) => sumOf(m.firedMemory, pattern)),
            0,
          ),
          '',
          '',
        ]),
        ...RETAINED.naive.map(({ label, pattern }) => [
          `per retained job: ${label} (hash + completed-set entry)`,
          '',
          fmt(
            of('naive', (m) => sumOf(m.firedMemory, pattern)),
            0,
          ),
          '',
        ]),
      ],
    ),
  );
  const perJob = (pattern: RegExp) => of('nudge', (m) => sumOf(m.firedMemory, pattern));
  const { completed, failed } = QUEUE_RETENTION;
  const bound = RETAINED.nudge
    .map(
      ({ label, pattern }) => `${label}: ${fmt((completed.count * perJob(pattern)) / 1e6, 1)} MB`,
    )
    .join('; ');
  console.log(
    `\nretained jobs (QUEUE_RETENTION, per queue): completed ≤ ${fmt(completed.count, 0)} jobs and ≤ ${fmt(completed.age / 3600, 0)} h, ` +
      `failed ≤ ${fmt(failed.count, 0)} and ≤ ${fmt(failed.age / 86_400, 0)} d; ${fmt(completed.count, 0)} completed jobs at the bytes above: ${bound}. ` +
      'Keys outside the queues are bounded by their TTL only (table above).',
  );
  const rt = of('nudge', (m) => m.routed.roundTrips);
  const commands = of('nudge', (m) => m.routed.commands);
  const timer = pendingTimer('nudge');
  console.log(
    [
      '',
      `- ≤ 10 round trips per customer message once routed: ${fmt(rt)} ${rt <= 10 ? 'met' : 'NOT met'}`,
      `- ≤ 60 commands (scripts included) once routed: ${fmt(commands)} ${commands <= 60 ? 'met' : 'NOT met'}`,
      `- ≤ 1.2 KB per pending timer: ${fmt(timer, 0)} B ${timer <= 1200 ? 'met' : 'NOT met'}`,
    ].join('\n'),
  );
};
