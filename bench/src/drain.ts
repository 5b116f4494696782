import { Queue } from 'bullmq';
import { monotonicMs, tagChatId } from './chats.js';
import {
  type BenchRedis,
  cpuMeter,
  type FakeLivechat,
  fmt,
  median,
  NAIVE_QUEUE,
  type Pipeline,
  postAll,
  progress,
  ratio,
  startNaive,
  startNudge,
  table,
  tagWebhook,
} from './harness.js';

type Config = { kind: Pipeline['kind']; workers: number };

type Drained = {
  actionsPerSecond: number;
  workerCpuMs: number;
  /** Bot actions per second of CPU the worker processes used. */
  perWorkerCpuSecond: number;
  redisCpuMsPerAction: number;
};

export type DrainResults = { backlog: number; configs: Config[]; runs: Map<string, Drained[]> };

const keyOf = ({ kind, workers }: Config) => `${kind}×${workers}`;

/**
 * One drain: the backlog goes in through the pipeline's receiver while no worker runs, the
 * queue is paused, the workers start, and the clock and CPU meters start when it resumes.
 */
const drainOnce = async (
  config: Config,
  {
    redis,
    fake,
    backlog,
    label,
  }: { redis: BenchRedis; fake: FakeLivechat; backlog: number; label: string },
): Promise<Drained> => {
  await redis.flush();
  await fake.reset();
  const options = { redisUrl: redis.url, livechatUrl: fake.url, workers: 0 };
  const pipeline = config.kind === 'nudge' ? await startNudge(options) : await startNaive(options);
  const queue =
    config.kind === 'nudge'
      ? new Queue('livechat-events', { connection: redis.client, prefix: 'nudge' })
      : new Queue(NAIVE_QUEUE, { connection: redis.client });
  try {
    const bodies = Array.from({ length: backlog }, (_, n) => tagWebhook(tagChatId(label, n)));
    await postAll(pipeline.webhookUrl, bodies);
    await pipeline.stopReceiver();
    await queue.pause();
    for (let i = 0; i < config.workers; i += 1) {
      await pipeline.addWorker();
    }
    const meter = cpuMeter({
      workers: pipeline.workers.map((worker) => worker.pid),
      redis: [redis.pid],
    });
    const start = monotonicMs();
    await queue.resume();
    await fake.waitForSent(backlog, 180_000);
    const cpu = meter();
    const sent = await fake.sent();
    const end = Math.max(...sent.map((event) => event.at));
    const workerCpuMs = cpu.workers ?? 0;
    return {
      actionsPerSecond: (backlog * 1000) / (end - start),
      workerCpuMs,
      perWorkerCpuSecond: (backlog * 1000) / workerCpuMs,
      redisCpuMsPerAction: (cpu.redis ?? 0) / backlog,
    };
  } finally {
    await queue.close();
    await pipeline.stop();
  }
};

/**
 * `drain`: a preloaded backlog of tag webhooks drained by 1, 2 and 3 Nudge worker processes,
 * and by one naive worker; throughput and bot actions per worker CPU-second.
 */
export const benchDrain = async ({
  redis,
  fake,
  rounds,
  backlog,
  workerCounts,
}: {
  redis: BenchRedis;
  fake: FakeLivechat;
  rounds: number;
  backlog: number;
  workerCounts: number[];
}): Promise<DrainResults> => {
  const configs: Config[] = [
    { kind: 'naive', workers: 1 },
    ...workerCounts.map((workers) => ({ kind: 'nudge' as const, workers })),
  ];
  const runs = new Map<string, Drained[]>();
  for (let round = 1; round <= rounds; round += 1) {
    const order = round % 2 === 1 ? configs : [...configs].reverse();
    for (const config of order) {
      const drained = await drainOnce(config, {
        redis,
        fake,
        backlog,
        label: `d${round}${config.kind}${config.workers}`,
      });
      runs.set(keyOf(config), [...(runs.get(keyOf(config)) ?? []), drained]);
      progress(
        `drain round ${round} ${config.kind} × ${config.workers}: ${fmt(drained.actionsPerSecond, 0)} actions/s, ` +
          `${fmt(drained.perWorkerCpuSecond, 0)} per worker CPU-s`,
      );
    }
  }
  return { backlog, configs, runs };
};

export const printDrain = ({ backlog, configs, runs }: DrainResults): void => {
  const of = (config: Config, pick: (d: Drained) => number) =>
    median((runs.get(keyOf(config)) ?? []).map(pick));
  const naive = { kind: 'naive', workers: 1 } as const;
  console.log(
    `\ndrain of ${fmt(backlog, 0)} preloaded tag webhooks (each one bot action; median of rounds)\n`,
  );
  console.log(
    table(
      [
        'pipeline',
        'actions/s',
        'per round',
        'worker CPU s',
        'actions / worker CPU-s',
        'Redis CPU ms/action',
        'actions/s vs naive',
        'per CPU-s vs naive',
      ],
      configs.map((config) => [
        `${config.kind === 'nudge' ? 'Nudge' : 'naive'}, ${config.workers} worker process${config.workers > 1 ? 'es' : ''}`,
        fmt(
          of(config, (d) => d.actionsPerSecond),
          0,
        ),
        (runs.get(keyOf(config)) ?? []).map((d) => fmt(d.actionsPerSecond, 0)).join(', '),
        fmt(of(config, (d) => d.workerCpuMs) / 1000, 2),
        fmt(
          of(config, (d) => d.perWorkerCpuSecond),
          0,
        ),
        fmt(
          of(config, (d) => d.redisCpuMsPerAction),
          2,
        ),
        ratio(
          of(config, (d) => d.actionsPerSecond),
          of(naive, (d) => d.actionsPerSecond),
        ),
        ratio(
          of(config, (d) => d.perWorkerCpuSecond),
          of(naive, (d) => d.perWorkerCpuSecond),
        ),
      ]),
    ),
  );
  const one = of({ kind: 'nudge', workers: 1 }, (d) => d.perWorkerCpuSecond);
  console.log(
    `\n- one worker process ≥ 1,000 actions per worker CPU-second: ${fmt(one, 0)} ${one >= 1000 ? 'met' : 'NOT met'}`,
  );
};
