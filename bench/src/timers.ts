import { type Job, Queue } from 'bullmq';
import { createdAtOf, idleChatId, tagChatId } from './chats.js';
import {
  type BenchRedis,
  customerMessageWebhook,
  type FakeLivechat,
  fmt,
  median,
  NAIVE_QUEUE,
  openLoop,
  type Pipeline,
  percentile,
  postAll,
  progress,
  ratio,
  SLOW_ORGANIZATION,
  startNaive,
  startNudge,
  table,
  tagWebhook,
  until,
} from './harness.js';
import { growth, PENDING_TIMER, scanMemory, sumOf } from './redis-memory.js';

type Kind = Pipeline['kind'];
type Scenario = { pending: number };

type Lateness = {
  /** Job start − due time (processedOn − (timestamp + delay)), ms. */
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** The bot message's arrival at LiveChat − (customer message + afterSeconds), ms. */
  sentP50: number;
  sentP99: number;
  timers: number;
  /** Timers that ran early by the message's clock and were put off (Nudge only). */
  rescheduled: number;
  /** Bytes per pending timer (its job hash, delayed-set entry, dedup key) with the backlog. */
  pendingTimerBytes: number;
};

export type TimerResults = {
  rate: number;
  afterSeconds: number;
  steady: boolean;
  scenarios: Scenario[];
  runs: Map<string, Lateness[]>;
};

const keyOf = (kind: Kind, { pending }: Scenario) => `${kind}+${pending}`;

const sorted = (values: number[]) => [...values].sort((x, y) => x - y);

const measureOnce = async (
  kind: Kind,
  { pending }: Scenario,
  {
    redis,
    fake,
    rate,
    seconds,
    afterSeconds,
    steady,
    label,
  }: {
    redis: BenchRedis;
    fake: FakeLivechat;
    rate: number;
    seconds: number;
    afterSeconds: number;
    steady: boolean;
    label: string;
  },
): Promise<Lateness> => {
  await redis.flush();
  await fake.reset();
  const options = { redisUrl: redis.url, livechatUrl: fake.url, afterSeconds };
  const pipeline =
    kind === 'nudge'
      ? await startNudge(options)
      : await startNaive({ ...options, delayMs: afterSeconds * 1000 });
  const queue =
    kind === 'nudge'
      ? new Queue('idle-reply', { connection: redis.client, prefix: 'nudge' })
      : new Queue(NAIVE_QUEUE, { connection: redis.client });
  try {
    const url = pipeline.webhookUrl;
    let pendingTimerBytes = Number.NaN;
    if (pending > 0) {
      const before = await scanMemory(redis.client);
      // Customers of the organization whose timers wait an hour, through the real path.
      const now = Date.now();
      await postAll(
        url,
        Array.from({ length: pending }, (_, n) =>
          customerMessageWebhook(idleChatId(`${label}p`, n, now), now, SLOW_ORGANIZATION),
        ),
      );
      await until(
        `${pending} pending timers`,
        async () => ((await queue.getDelayedCount()) >= pending ? true : undefined),
        { timeoutMs: 120_000, everyMs: 200 },
      );
      pendingTimerBytes = sumOf(
        growth(before, await scanMemory(redis.client), pending),
        PENDING_TIMER[kind],
      );
    }
    // Warm-up at the same rate: 2 s of immediate actions and of customer messages whose timers
    // wait an hour, which take every path but a timer's firing.
    const warm = await openLoop({
      url,
      rate,
      seconds: 2,
      make: (n, wallMs) => {
        if (n % 2 === 0) {
          const chatId = tagChatId(`${label}w`, n);
          return { chatId, body: tagWebhook(chatId) };
        }
        const chatId = idleChatId(`${label}s`, n, wallMs);
        return { chatId, body: customerMessageWebhook(chatId, wallMs, SLOW_ORGANIZATION) };
      },
    });
    await fake.waitForSent(Math.ceil(warm.sentAt.size / 2), 30_000);
    await fake.reset();

    // New timers at `rate` for `seconds` (< afterSeconds): they come due at `rate` once no new
    // ones arrive. Steady: for afterSeconds + `seconds`, and only the first `seconds`' timers are
    // measured, which come due while new ones still arrive (routing and firing at once).
    const load = await openLoop({
      url,
      rate,
      seconds: steady ? afterSeconds + seconds : seconds,
      make: (n, wallMs) => {
        const chatId = idleChatId(label, n, wallMs);
        return { chatId, body: customerMessageWebhook(chatId, wallMs) };
      },
    });
    const measured = new Set(
      [...load.sentAt.keys()].filter(
        (chatId) => !steady || (createdAtOf(chatId) ?? 0) < load.startedAtWall + seconds * 1000,
      ),
    );
    const sent = await until(
      'every measured timer to fire',
      async () => {
        const events = (await fake.sent()).filter((event) => measured.has(event.chatId));
        return events.length >= measured.size ? events : undefined;
      },
      { timeoutMs: 60_000, everyMs: 500 },
    );
    const sentLateness = sorted(
      sent.map((event) => event.wallAt - ((createdAtOf(event.chatId) ?? 0) + afterSeconds * 1000)),
    );
    // Every timer that fired for these chats: its first start, against when it was due.
    const jobs: Job[] = await queue.getJobs(['completed'], 0, -1);
    const ours = jobs.filter((job) =>
      measured.has(String(job.data?.chatId ?? job.data?.payload?.chat_id)),
    );
    const firstRuns = new Map<string, Job>();
    let rescheduled = 0;
    for (const job of ours) {
      const chatId = String(job.data?.chatId ?? job.data?.payload?.chat_id);
      if (job.returnvalue?.outcome === 'rescheduled') {
        rescheduled += 1;
      }
      const earlier = firstRuns.get(chatId);
      if (earlier === undefined || (earlier.processedOn ?? 0) > (job.processedOn ?? 0)) {
        firstRuns.set(chatId, job);
      }
    }
    const lateness = sorted(
      [...firstRuns.values()].map(
        (job) => (job.processedOn ?? Number.NaN) - (job.timestamp + (job.opts.delay ?? 0)),
      ),
    );
    if (firstRuns.size < measured.size) {
      throw new Error(
        `${kind}: ${firstRuns.size} completed timers of ${measured.size} (retention too small?)`,
      );
    }
    return {
      p50: percentile(lateness, 50),
      p95: percentile(lateness, 95),
      p99: percentile(lateness, 99),
      max: lateness.at(-1) ?? Number.NaN,
      sentP50: percentile(sentLateness, 50),
      sentP99: percentile(sentLateness, 99),
      timers: lateness.length,
      rescheduled,
      pendingTimerBytes,
    };
  } finally {
    await queue.close();
    await pipeline.stop();
  }
};

/**
 * `timers`: idle timers started by customer messages at `rate` per second (afterSeconds 5), with
 * and without 10,000 other timers pending; how late each started, Nudge against naive delayed
 * jobs (receiver → queue.add with a delay → worker).
 */
export const benchTimers = async ({
  redis,
  fake,
  rounds,
  rate,
  seconds,
  pending,
  afterSeconds,
  steady,
}: {
  redis: BenchRedis;
  fake: FakeLivechat;
  rounds: number;
  rate: number;
  seconds: number;
  pending: number;
  afterSeconds: number;
  /** Measure timers coming due while new ones still start (else: after they stopped). */
  steady: boolean;
}): Promise<TimerResults> => {
  if (!steady && seconds >= afterSeconds) {
    throw new Error(`timers: --duration must be under afterSeconds (${afterSeconds} s)`);
  }
  const scenarios: Scenario[] = [{ pending: 0 }, { pending }];
  const runs = new Map<string, Lateness[]>();
  for (let round = 1; round <= rounds; round += 1) {
    for (const scenario of scenarios) {
      const kinds: Kind[] = round % 2 === 1 ? ['nudge', 'naive'] : ['naive', 'nudge'];
      for (const kind of kinds) {
        const measured = await measureOnce(kind, scenario, {
          redis,
          fake,
          rate,
          seconds,
          afterSeconds,
          steady,
          label: `t${round}${kind}${scenario.pending}`,
        });
        runs.set(keyOf(kind, scenario), [...(runs.get(keyOf(kind, scenario)) ?? []), measured]);
        progress(
          `timers round ${round} ${kind} + ${scenario.pending} pending: p50 ${fmt(measured.p50)} p99 ${fmt(measured.p99)} ms` +
            ` (${measured.timers} timers, ${measured.rescheduled} rescheduled)`,
        );
      }
    }
  }
  return { rate, afterSeconds, steady, scenarios, runs };
};

const backlogOf = ({ pending }: Scenario) =>
  pending === 0 ? 'no backlog' : `${fmt(pending, 0)} timers pending`;

export const printTimers = ({
  rate,
  afterSeconds,
  steady,
  scenarios,
  runs,
}: TimerResults): void => {
  const of = (kind: Kind, scenario: Scenario, pick: (l: Lateness) => number) =>
    median((runs.get(keyOf(kind, scenario)) ?? []).map(pick));
  const timers = median([...runs.values()].flat().map((l) => l.timers));
  console.log(
    `\nidle-timer lateness: timers started at ${rate}/s, coming due at ${rate}/s ${steady ? 'while new ones still start (steady state)' : 'after the last one started'} (afterSeconds ${afterSeconds}; ~${fmt(timers, 0)} timers per run; ms, median of rounds)\n`,
  );
  const rows: string[][] = [];
  const goals: string[] = [];
  for (const scenario of scenarios) {
    for (const kind of ['nudge', 'naive'] as const) {
      rows.push([
        `${kind === 'nudge' ? 'Nudge' : 'naive'}, ${backlogOf(scenario)}`,
        fmt(of(kind, scenario, (l) => l.p50)),
        fmt(of(kind, scenario, (l) => l.p95)),
        fmt(of(kind, scenario, (l) => l.p99)),
        (runs.get(keyOf(kind, scenario)) ?? []).map((l) => fmt(l.p99)).join(', '),
        fmt(of(kind, scenario, (l) => l.max)),
        fmt(of(kind, scenario, (l) => l.sentP50)),
        fmt(of(kind, scenario, (l) => l.sentP99)),
      ]);
    }
    rows.push([
      `Nudge / naive, ${backlogOf(scenario)}`,
      ratio(
        of('nudge', scenario, (l) => l.p50),
        of('naive', scenario, (l) => l.p50),
      ),
      ratio(
        of('nudge', scenario, (l) => l.p95),
        of('naive', scenario, (l) => l.p95),
      ),
      ratio(
        of('nudge', scenario, (l) => l.p99),
        of('naive', scenario, (l) => l.p99),
      ),
      '',
      '',
      ratio(
        of('nudge', scenario, (l) => l.sentP50),
        of('naive', scenario, (l) => l.sentP50),
      ),
      ratio(
        of('nudge', scenario, (l) => l.sentP99),
        of('naive', scenario, (l) => l.sentP99),
      ),
    ]);
    const p99 = of('nudge', scenario, (l) => l.p99);
    goals.push(
      `lateness p99 ≤ 25 ms, ${backlogOf(scenario)}: ${fmt(p99)} ms ${p99 <= 25 ? 'met' : 'NOT met'}`,
    );
  }
  console.log(
    table(
      [
        'pipeline',
        'start p50',
        'start p95',
        'start p99',
        'p99 per round',
        'start max',
        'sent p50',
        'sent p99',
      ],
      rows,
    ),
  );
  console.log(
    '\nstart = job start − due (processedOn − timestamp − delay); sent = bot message at LiveChat − (customer message + afterSeconds)',
  );
  for (const scenario of scenarios.filter(({ pending }) => pending > 0)) {
    const nudge = of('nudge', scenario, (l) => l.pendingTimerBytes);
    const naive = of('naive', scenario, (l) => l.pendingTimerBytes);
    console.log(
      `\nbytes per pending timer with ${fmt(scenario.pending, 0)} pending (job hash, delayed-set entry, dedup key; MEMORY USAGE): ` +
        `Nudge ${fmt(nudge, 0)}, naive ${fmt(naive, 0)}, ${ratio(nudge, naive)}`,
    );
    goals.push(
      `≤ 1.2 KB per pending timer: ${fmt(nudge, 0)} B ${nudge <= 1200 ? 'met' : 'NOT met'}`,
    );
  }
  console.log(`\n${goals.map((goal) => `- ${goal}`).join('\n')}`);
};
