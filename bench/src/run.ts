import { parseArgs } from 'node:util';
import { benchIngest, printIngest } from './ingest.js';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    duration: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '2' },
    rounds: { type: 'string', default: '3' },
  },
});

const BENCHES: Record<string, () => Promise<void>> = {
  ingest: async () => {
    printIngest(
      await benchIngest({
        seconds: Number(values.duration),
        warmup: Number(values.warmup),
        rounds: Number(values.rounds),
      }),
    );
  },
};

const names = positionals.length > 0 ? positionals : Object.keys(BENCHES);
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  console.log(
    `# ${name}  (Node ${process.version}; ${values.rounds} rounds of ${values.duration} s per server after ${values.warmup} s warm-up)`,
  );
  await bench();
}
