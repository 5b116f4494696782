import { randomBytes, randomInt, randomUUID } from 'node:crypto';

const ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** A chat or thread ID in LiveChat's shape: 10 upper-case alphanumerics (e.g. `PJ0MRSHTDG`). */
export const createShortId = (): string => {
  let id = '';
  for (let i = 0; i < 10; i++) {
    id += ID_ALPHABET[randomInt(ID_ALPHABET.length)];
  }
  return id;
};

/** 32 hex characters: bot IDs and secrets (create_bot), webhook IDs. */
export const createHexId = (): string => randomBytes(16).toString('hex');

/** Customer IDs are UUIDs in LiveChat. */
export const createCustomerId = (): string => randomUUID();

/**
 * A clock for `created_at` values. LiveChat prints RFC 3339 with microseconds
 * (`2024-05-07T10:00:02.288340Z`); we keep them strictly increasing so events created in the
 * same millisecond still sort in creation order.
 */
export type Clock = {
  /** Milliseconds since the epoch. */
  now: () => number;
  /** A fresh RFC 3339 timestamp with microseconds, later than every previous one. */
  timestamp: () => string;
};

export const createClock = (now: () => number = Date.now): Clock => {
  let lastMicros = 0;
  return {
    now,
    timestamp: () => {
      const micros = Math.max(now() * 1000, lastMicros + 1);
      lastMicros = micros;
      const millis = Math.floor(micros / 1000);
      const iso = new Date(millis).toISOString(); // 2024-05-07T10:00:02.288Z
      const extra = String(micros % 1000).padStart(3, '0');
      return `${iso.slice(0, -1)}${extra}Z`;
    },
  };
};
