import type { ReconcileJob } from '@nudge/queues';
import type { RedisClient } from '@nudge/runtime';
import type { Logger } from '@nudge/telemetry';

export type HeartbeatOptions = {
  redis: RedisClient;
  /** The heartbeat key, shared by every ingest of one prefix. */
  key: string;
  /** A gap longer than this asks for a reconcile; 0: never. */
  gapMs: number;
  requestReconcile: (job: ReconcileJob, key: string) => Promise<void>;
  log: Logger;
  now?: () => number;
};

/**
 * Ingest notes in Redis, every few seconds, that webhooks can be stored. Every ingest of a
 * prefix writes the same key, so the note only goes stale when none could store anything:
 * every ingest down, or Redis. The write that ends such a gap reads the previous note (SET …
 * GET, atomic, so one ingest sees each gap) and, when the gap outlasts `gapMs`, asks the
 * workers to reconcile from just before it began: LiveChat gave up on what it sent meanwhile.
 * A heartbeat gone missing under a running ingest means Redis lost its data: the same ask,
 * from this ingest's last beat (what Redis held, answered 200, is lost; reconciling finds
 * what LiveChat still shows).
 */
export const startHeartbeat = ({
  redis,
  key,
  gapMs,
  requestReconcile,
  log,
  now = Date.now,
}: HeartbeatOptions): { stop: () => void } => {
  const intervalMs = Math.min(5_000, Math.max(250, Math.floor(gapMs / 4)));
  // The last beat this process stored: if Redis then answers with no heartbeat at all, it
  // came back without its data (no AOF, a new node): whatever it held is gone, webhooks
  // already answered 200 included.
  let stored: number | undefined;
  const beat = async () => {
    if (redis.status !== 'ready') {
      return;
    }
    try {
      const at = now();
      const previous = await redis.set(key, String(at), 'GET');
      const before = stored;
      stored = at;
      if (previous === null && before !== undefined && gapMs > 0) {
        log.error(
          { since: new Date(before).toISOString() },
          'redis lost its data (the heartbeat is gone): asking the workers to reconcile',
        );
        await requestReconcile(
          { sinceMs: Math.max(0, before - intervalMs), reason: 'redis lost its data' },
          `lost-${before}`,
        );
        return;
      }
      const last = previous === null ? Number.NaN : Number(previous);
      if (gapMs > 0 && Number.isFinite(last) && at - last > gapMs) {
        const gapSeconds = Math.round((at - last) / 1000);
        log.warn(
          { gapSeconds, since: new Date(last).toISOString() },
          'no ingest could store webhooks for a while: asking the workers to reconcile',
        );
        await requestReconcile(
          {
            sinceMs: Math.max(0, last - intervalMs),
            reason: `no webhook could be stored for ${gapSeconds} s`,
          },
          String(last),
        );
      }
    } catch (err) {
      // Redis is away: the next beat after it returns sees the gap.
      log.debug({ err }, 'heartbeat not stored');
    }
  };
  void beat();
  const timer = setInterval(() => void beat(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
};
