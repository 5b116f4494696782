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
};

export type TimerResults = {
  rate: number;
  afterSeconds: number;
  scenarios: Scenario[];
  runs: Map<string, Lateness[]>;
};

const keyOf = (kind: Kind, { pending }: Scenario) => `${kind}+${pending}`;
const HOUR_MS = 3_600_000;

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
    label,
  }: {
    redis: BenchRedis;
    fake: FakeLivechat;
    rate: number;
    seconds: number;
    afterSeconds: number;
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
    if (pending > 0) {
      if (kind === 'nudge') {
        // Customers of the organization whose timers wait an hour, through the real path.
        const now = Date.now();
        await postAll(
          url,
          Array.from({ length: pending }, (_, n) =>
            customerMessageWebhook(idleChatId(`${label}p`, n, now), now, SLOW_ORGANIZATION),
          ),
        );
      } else {
        // The naive receiver's delay is fixed: its backlog goes straight into its queue.
        for (let from = 0; from < pending; from += 1000) {
          await queue.addBulk(
            Array.from({ length: Math.min(1000, pending - from) }, (_, i) => ({
              name: 'incoming_event',
              data: { payload: { chat_id: `pending-${from + i}`, thread_id: 'x' } },
              opts: { delay: HOUR_MS },
            })),
          );
        }
      }
      await until(
        `${pending} pending timers`,
        async () => ((await queue.getDelayedCount()) >= pending ? true : undefined),
        { timeoutMs: 120_000, everyMs: 200 },
      );
    }
    // Warm-up: a second of immediate actions through the same processes.
    const warm = await openLoop({
      url,
      rate,
      seconds: 1,
      make: (n) => {
        const chatId = tagChatId(`${label}w`, n);
        return { chatId, body: tagWebhook(chatId) };
      },
    });
    await fake.waitForSent(warm.sentAt.size, 30_000);
    await fake.reset();

    const load = await openLoop({
      url,
      rate,
      seconds,
      make: (n, wallMs) => {
        const chatId = idleChatId(label, n, wallMs);
        return { chatId, body: customerMessageWebhook(chatId, wallMs) };
      },
    });
    await fake.waitForSent(load.sentAt.size, (afterSeconds + 60) * 1000);
    const sent = (await fake.sent()).filter((event) => load.sentAt.has(event.chatId));
    const sentLateness = sorted(
      sent.map((event) => event.wallAt - ((createdAtOf(event.chatId) ?? 0) + afterSeconds * 1000)),
    );
    // Every timer that fired for these chats: its first start, against when it was due.
    const jobs: Job[] = await queue.getJobs(['completed'], 0, -1);
    const ours = jobs.filter((job) =>
      load.sentAt.has(String(job.data?.chatId ?? job.data?.payload?.chat_id)),
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
    if (firstRuns.size < load.sentAt.size) {
      throw new Error(
        `${kind}: ${firstRuns.size} completed timers of ${load.sentAt.size} (retention too small?)`,
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
}: {
  redis: BenchRedis;
  fake: FakeLivechat;
  rounds: number;
  rate: number;
  seconds: number;
  pending: number;
  afterSeconds: number;
}): Promise<TimerResults> => {
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
  return { rate, afterSeconds, scenarios, runs };
};

export const printTimers = ({ rate, afterSeconds, scenarios, runs }: TimerResults): void => {
  const of = (kind: Kind, scenario: Scenario, pick: (l: Lateness) => number) =>
    median((runs.get(keyOf(kind, scenario)) ?? []).map(pick));
  console.log(
    `\nidle-timer lateness at ${rate} new timers/s (afterSeconds ${afterSeconds}; ms, median of rounds)\n`,
  );
  const rows: string[][] = [];
  const goals: string[] = [];
  for (const scenario of scenarios) {
    for (const kind of ['nudge', 'naive'] as const) {
      rows.push([
        `${kind === 'nudge' ? 'Nudge' : 'naive'}, ${fmt(scenario.pending, 0)} other pending`,
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
      `Nudge / naive, ${fmt(scenario.pending, 0)} pending`,
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
      `lateness p99 ≤ 25 ms with ${fmt(scenario.pending, 0)} pending: ${fmt(p99)} ms ${p99 <= 25 ? 'met' : 'NOT met'}`,
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
  console.log(`\n${goals.map((goal) => `- ${goal}`).join('\n')}`);
};
