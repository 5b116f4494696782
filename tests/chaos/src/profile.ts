// How big the chaos rows run. `npm test` runs the short profile (CI's budget); `npm run
// test:chaos` the full one (CHAOS_PROFILE=full); `npm run test:chaos -- --soak 20` (or
// CHAOS_SOAK_MINUTES=20) adds the soak: the big run over and over for that many minutes.

const FULL = process.env.CHAOS_PROFILE === 'full';
const SOAK_MINUTES = Number(process.env.CHAOS_SOAK_MINUTES ?? 0);

export const PROFILE = {
  name: FULL ? 'full' : 'short',
  /** R4: how long connections are reset every second. */
  stormMs: FULL ? 30_000 : 6_000,
  /** R8: jobs pushed through one queue (retention keeps 5 000 completed, the stream ~10 000). */
  retentionJobs: FULL ? 20_000 : 6_000,
  /** The big run: chats played (≈ 11 webhooks each), and over how long. */
  bigRunChats: FULL ? 600 : 120,
  bigRunMs: FULL ? 120_000 : 30_000,
  /**
   * The outage longer than LiveChat's retries: how long ingest stays down, LiveChat's delivery
   * meanwhile (full: its documented 10 s wait and three retries within a minute), and the gap
   * that counts as one (full: the default).
   */
  outage: FULL
    ? {
        seconds: 90,
        delivery: { timeoutMs: 10_000, retryDelaysMs: [5_000, 20_000, 35_000] },
        gapSeconds: 30,
      }
    : {
        seconds: 3,
        delivery: { timeoutMs: 3_000, retryDelaysMs: [200, 500, 1_000] },
        gapSeconds: 2,
      },
  /** 0: no soak. */
  soakMinutes: Number.isFinite(SOAK_MINUTES) && SOAK_MINUTES > 0 ? SOAK_MINUTES : 0,
} as const;
