import { cpus } from 'node:os';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchDrain, printDrain } from './drain.js';
import {
  type BenchRedis,
  type FakeLivechat,
  loadAverage,
  profileProcesses,
  redisVersion,
  setNudgeWorkerEnv,
  startBenchRedis,
  startFakeLivechat,
} from './harness.js';
import { benchIngest, printIngest } from './ingest.js';
import { benchLatency, printLatency } from './latency.js';
import { benchRedisCost, printRedisCost } from './redis-cost.js';
import { benchTimers, printTimers } from './timers.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    rounds: { type: 'string', default: '3' },
    // Seconds of load per measured window; each bench has its own default.
    duration: { type: 'string' },
    warmup: { type: 'string', default: '2' },
    rates: { type: 'string', default: '100,300' },
    // Webhooks preloaded for the drain bench, and the worker processes to drain them with.
    backlog: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '1,2,3' },
    // The idle-timer bench: new timers per second, and the other timers pending meanwhile.
    'timer-rate': { type: 'string', default: '250' },
    pending: { type: 'string', default: '10000' },
    // Measure timers coming due while new ones still start (the worker routes and fires at once).
    'steady-timers': { type: 'boolean', default: false },
    // The Redis-cost bench: customer messages per round, sent at this rate.
    messages: { type: 'string', default: '120' },
    'message-rate': { type: 'string', default: '20' },
    // Write a V8 CPU profile of every measured process into this folder (`--cpu-prof`).
    'cpu-prof': { type: 'string' },
    // Settings for Nudge's worker processes, e.g. WORKER_ACT_INLINE=false (comma-separated).
    'worker-env': { type: 'string' },
  },
});

if (values['cpu-prof'] !== undefined) {
  profileProcesses(resolve(values['cpu-prof']));
}
for (const pair of (values['worker-env'] ?? '').split(',').filter(Boolean)) {
  const [key = '', ...rest] = pair.split('=');
  setNudgeWorkerEnv(key, rest.join('='));
}

const rounds = Number(values.rounds);
const warmup = Number(values.warmup);
const duration = (fallback: number) =>
  values.duration === undefined ? fallback : Number(values.duration);

/** Runs `body` with a fresh Redis and fake LiveChat, both stopped afterwards. */
const withServers = async <T>(
  body: (servers: { redis: BenchRedis; fake: FakeLivechat }) => Promise<T>,
): Promise<T> => {
  const redis = await startBenchRedis();
  const fake = await startFakeLivechat();
  try {
    return await body({ redis, fake });
  } finally {
    await fake.stop();
    await redis.stop();
  }
};

const BENCHES: Record<string, () => Promise<void>> = {
  ingest: async () => {
    printIngest(await benchIngest({ seconds: duration(6), warmup, rounds }));
  },
  latency: async () => {
    const rates = (values.rates ?? '').split(',').map(Number);
    printLatency(
      await withServers((servers) =>
        benchLatency({ ...servers, rounds, seconds: duration(6), warmup, rates }),
      ),
    );
  },
  drain: async () => {
    printDrain(
      await withServers((servers) =>
        benchDrain({
          ...servers,
          rounds,
          backlog: Number(values.backlog),
          workerCounts: (values.workers ?? '').split(',').map(Number),
        }),
      ),
    );
  },
  timers: async () => {
    printTimers(
      await withServers((servers) =>
        benchTimers({
          ...servers,
          rounds,
          rate: Number(values['timer-rate']),
          seconds: duration(4),
          pending: Number(values.pending),
          afterSeconds: 5,
          steady: values['steady-timers'] ?? false,
        }),
      ),
    );
  },
  redis: async () => {
    printRedisCost(
      await withServers((servers) =>
        benchRedisCost({
          ...servers,
          rounds,
          messages: Number(values.messages),
          rate: Number(values['message-rate']),
        }),
      ),
    );
  },
};

const names = positionals.length > 0 ? positionals : Object.keys(BENCHES);
const unknown = names.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark(s) ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}`,
  );
  process.exit(2);
}
// The bench SIGKILLs the processes it measured (and its Redis) once a window is over: a
// connection of theirs reset after that ended one run after nine minutes (the socket's owner
// not found). Such a reset is reported and the run goes on; every other error still ends it, and
// a reset that mattered to a measurement shows there as lost actions or a timeout.
process.on('uncaughtException', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'ECONNRESET') {
    throw err;
  }
  console.error(`bench: a connection was reset and left unhandled (${err.message}); going on`);
});

const probe = await startBenchRedis();
const redis = await redisVersion(probe.client);
await probe.stop();
console.log(
  `# npm run bench -- ${process.argv.slice(2).join(' ')}\n` +
    `# ${cpus()[0]?.model ?? '?'} × ${cpus().length}, Node ${process.version}, Redis ${redis}; ${rounds} interleaved round(s)`,
);
for (const name of names) {
  const bench = BENCHES[name] as () => Promise<void>;
  const before = loadAverage();
  const started = Date.now();
  console.log(`\n## ${name}\n\nload average before: ${before}`);
  await bench();
  console.log(
    `\nload average after: ${loadAverage()}  (${Math.round((Date.now() - started) / 1000)} s)`,
  );
}
