import { tagChatId } from './chats.js';
import {
  type BenchRedis,
  cpuMeter,
  type FakeLivechat,
  fmt,
  median,
  openLoop,
  type Pipeline,
  percentile,
  progress,
  ratio,
  startNaive,
  startNudge,
  table,
  tagWebhook,
} from './harness.js';

type Kind = Pipeline['kind'];

/** One measured window of one pipeline at one rate. */
type Window = {
  p50: number;
  p95: number;
  p99: number;
  max: number;
  actions: number;
  missing: number;
  extra: number;
  non200: number;
  /** CPU ms per bot action: receiver, workers, Redis; and the harness's (not counted). */
  cpu: { receiver: number; workers: number; redis: number; fake: number; bench: number };
  /** LiveChat calls per bot action, by action. */
  calls: Record<string, number>;
};

export type LatencyResults = { rates: number[]; windows: Map<string, Window[]> };

const keyOf = (kind: Kind, rate: number) => `${kind}@${rate}`;

const measureWindow = async ({
  kind,
  rate,
  seconds,
  warmup,
  label,
  redis,
  fake,
}: {
  kind: Kind;
  rate: number;
  seconds: number;
  warmup: number;
  label: string;
  redis: BenchRedis;
  fake: FakeLivechat;
}): Promise<Window> => {
  await redis.flush();
  await fake.reset();
  const options = { redisUrl: redis.url, livechatUrl: fake.url };
  const pipeline = kind === 'nudge' ? await startNudge(options) : await startNaive(options);
  try {
    const url = pipeline.webhookUrl;
    // Warm-up at the same rate (JIT, connections, scripts, the bot token), then drained.
    const warm = await openLoop({
      url,
      rate,
      seconds: warmup,
      make: (n) => {
        const chatId = tagChatId(`${label}w`, n);
        return { chatId, body: tagWebhook(chatId) };
      },
    });
    await fake.waitForSent(warm.sentAt.size, 30_000);
    await fake.reset();

    const meter = cpuMeter({
      receiver: pipeline.receiver ? [pipeline.receiver.pid] : [],
      workers: pipeline.workers.map((worker) => worker.pid),
      redis: [redis.pid],
      fake: [fake.pid],
    });
    const benchCpu = process.cpuUsage();
    const load = await openLoop({
      url,
      rate,
      seconds,
      make: (n) => {
        const chatId = tagChatId(label, n);
        return { chatId, body: tagWebhook(chatId) };
      },
    });
    await fake.waitForSent(load.sentAt.size, 30_000).catch(() => undefined);
    const cpu = meter();
    const benchUsed = process.cpuUsage(benchCpu);
    const { calls } = await fake.stats();
    const sent = await fake.sent();
    const latencies: number[] = [];
    const seen = new Set<string>();
    let extra = 0;
    for (const event of sent) {
      const at = load.sentAt.get(event.chatId);
      if (at === undefined || seen.has(event.chatId)) {
        extra += 1;
      } else {
        seen.add(event.chatId);
        latencies.push(event.at - at);
      }
    }
    latencies.sort((x, y) => x - y);
    const actions = latencies.length;
    return {
      p50: percentile(latencies, 50),
      p95: percentile(latencies, 95),
      p99: percentile(latencies, 99),
      max: latencies.at(-1) ?? Number.NaN,
      actions,
      missing: load.sentAt.size - actions,
      extra,
      non200: load.non200 + load.errors,
      cpu: {
        receiver: (cpu.receiver ?? 0) / actions,
        workers: (cpu.workers ?? 0) / actions,
        redis: (cpu.redis ?? 0) / actions,
        fake: (cpu.fake ?? 0) / actions,
        bench: (benchUsed.user + benchUsed.system) / 1000 / actions,
      },
      calls: Object.fromEntries(
        Object.entries(calls).map(([action, count]) => [action, count / actions]),
      ),
    };
  } finally {
    await pipeline.stop();
  }
};

/**
 * `latency`: webhook → bot action for the tag → whisper rule, open loop at each rate, Nudge
 * against the naive one-hop pipeline; and the CPU each used per bot action in the same windows.
 */
export const benchLatency = async ({
  redis,
  fake,
  rounds,
  seconds,
  warmup,
  rates,
}: {
  redis: BenchRedis;
  fake: FakeLivechat;
  rounds: number;
  seconds: number;
  warmup: number;
  rates: number[];
}): Promise<LatencyResults> => {
  const windows = new Map<string, Window[]>();
  for (let round = 1; round <= rounds; round += 1) {
    for (const rate of rates) {
      // Alternate which pipeline goes first, so neither always gets the calmer half.
      const kinds: Kind[] = round % 2 === 1 ? ['nudge', 'naive'] : ['naive', 'nudge'];
      for (const kind of kinds) {
        const window = await measureWindow({
          kind,
          rate,
          seconds,
          warmup,
          label: `r${round}${kind}${rate}`,
          redis,
          fake,
        });
        windows.set(keyOf(kind, rate), [...(windows.get(keyOf(kind, rate)) ?? []), window]);
        progress(
          `latency round ${round} ${kind} @ ${rate}/s: p50 ${fmt(window.p50)} p99 ${fmt(window.p99)} ms, ` +
            `${fmt(window.cpu.receiver + window.cpu.workers + window.cpu.redis, 2)} CPU ms/action` +
            (window.missing + window.extra + window.non200 > 0
              ? `, missing ${window.missing} extra ${window.extra} non-200 ${window.non200}`
              : ''),
        );
      }
    }
  }
  return { rates, windows };
};

const LABEL: Record<Kind, string> = {
  nudge: 'Nudge (ingest → route → rule job)',
  naive: 'naive (receiver → 1 queue → worker)',
};

export const printLatency = ({ rates, windows }: LatencyResults): void => {
  const of = (kind: Kind, rate: number, pick: (w: Window) => number) =>
    median((windows.get(keyOf(kind, rate)) ?? []).map(pick));
  const perRound = (kind: Kind, rate: number, pick: (w: Window) => number) =>
    (windows.get(keyOf(kind, rate)) ?? []).map((w) => fmt(pick(w))).join(', ');
  const cpuTotal = (w: Window) => w.cpu.receiver + w.cpu.workers + w.cpu.redis;
  const goals: string[] = [];
  for (const rate of rates) {
    const rows = (['nudge', 'naive'] as const).map((kind) => [
      LABEL[kind],
      fmt(of(kind, rate, (w) => w.p50)),
      fmt(of(kind, rate, (w) => w.p95)),
      fmt(of(kind, rate, (w) => w.p99)),
      perRound(kind, rate, (w) => w.p99),
      String((windows.get(keyOf(kind, rate)) ?? []).reduce((n, w) => n + w.missing + w.extra, 0)),
    ]);
    rows.push([
      'Nudge / naive',
      ratio(
        of('nudge', rate, (w) => w.p50),
        of('naive', rate, (w) => w.p50),
      ),
      ratio(
        of('nudge', rate, (w) => w.p95),
        of('naive', rate, (w) => w.p95),
      ),
      ratio(
        of('nudge', rate, (w) => w.p99),
        of('naive', rate, (w) => w.p99),
      ),
      '',
      '',
    ]);
    console.log(`\ntag → whisper at ${rate} webhooks/s (open loop; ms, median of rounds)\n`);
    console.log(
      table([`${rate}/s`, 'p50 ms', 'p95 ms', 'p99 ms', 'p99 per round', 'lost/extra'], rows),
    );
    for (const p of ['p50', 'p99'] as const) {
      const r = of('nudge', rate, (w) => w[p]) / of('naive', rate, (w) => w[p]);
      goals.push(
        `${p} at ${rate}/s ≤ 1.5× naive: ${r.toFixed(3)}× ${r <= 1.5 ? 'met' : 'NOT met'}`,
      );
    }
  }
  console.log('\nCPU per bot action (ms; receiver + workers + Redis, median of rounds)\n');
  const cpuRows: string[][] = [];
  for (const rate of rates) {
    for (const kind of ['nudge', 'naive'] as const) {
      cpuRows.push([
        `${LABEL[kind]} @ ${rate}/s`,
        fmt(
          of(kind, rate, (w) => w.cpu.receiver),
          2,
        ),
        fmt(
          of(kind, rate, (w) => w.cpu.workers),
          2,
        ),
        fmt(
          of(kind, rate, (w) => w.cpu.redis),
          2,
        ),
        fmt(of(kind, rate, cpuTotal), 2),
        kind === 'nudge'
          ? ratio(of('nudge', rate, cpuTotal), of('naive', rate, cpuTotal))
          : '1.00×',
        fmt(
          of(kind, rate, (w) => w.cpu.fake),
          2,
        ),
        fmt(
          of(kind, rate, (w) => w.cpu.bench),
          2,
        ),
      ]);
    }
    const r = of('nudge', rate, cpuTotal) / of('naive', rate, cpuTotal);
    goals.push(
      `CPU per action at ${rate}/s ≤ 1.25× naive: ${r.toFixed(3)}× ${r <= 1.25 ? 'met' : 'NOT met'}`,
    );
  }
  console.log(
    table(
      [
        'pipeline',
        'receiver',
        'workers',
        'Redis',
        'total',
        'vs naive',
        'fake LiveChat (not counted)',
        'load generator (not counted)',
      ],
      cpuRows,
    ),
  );
  for (const kind of ['nudge', 'naive'] as const) {
    const first = windows.get(keyOf(kind, rates[0] ?? 0))?.[0];
    const calls = Object.entries(first?.calls ?? {})
      .map(([action, perAction]) => `${action} ${perAction.toFixed(2)}`)
      .join(', ');
    console.log(`\nLiveChat calls per bot action, ${kind} (round 1, ${rates[0]}/s): ${calls}`);
  }
  console.log(`\n${goals.map((goal) => `- ${goal}`).join('\n')}`);
};
