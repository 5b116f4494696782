import { ApiError, statusForErrorType } from './errors.js';
import { isJsonObject } from './json.js';

type FaultTarget = {
  /** An Agent Chat / Configuration API action name, or `*` for every action. */
  action: string;
  /** Only calls on this API version; both when omitted. */
  version?: string;
  /** How many calls the fault applies to; until removed when omitted. */
  times?: number;
};

/**
 * - `error`: answer `{ error: { type, message } }` with `status` (default: the type's status).
 * - `delay`: wait `delayMs`, then handle the call normally.
 * - `hang`: never answer (the action is not performed) until the fault is removed — then the
 *   call is handled normally — or the sandbox closes (the connection is dropped).
 * - `hold`: perform the action and record it, then hold the response for `holdMs` (until the
 *   fault is removed or the sandbox closes when omitted). For "killed after sending" tests.
 */
export type FaultSpec = FaultTarget &
  (
    | { mode: 'error'; errorType: string; status?: number; message?: string }
    | { mode: 'delay'; delayMs: number }
    | { mode: 'hang' }
    | { mode: 'hold'; holdMs?: number }
  );

export type Fault = FaultSpec & { id: string; hits: number };

export type Faults = {
  add: (spec: FaultSpec) => Fault;
  remove: (id: string) => boolean;
  clear: () => void;
  list: () => Fault[];
  /** Internal: the fault for this call, if any (counts a hit). */
  take: (version: string, action: string) => Fault | undefined;
  /** Internal: resolves when the fault is removed, or after `ms` if given; rejects on close. */
  waitUntilReleased: (fault: Fault, ms?: number) => Promise<void>;
  /** Internal: rejects every pending wait (sandbox closing). */
  close: () => void;
};

/** Per-action fault injection: errors N times, delays, hangs, accept-then-hold. */
export const createFaults = (): Faults => {
  const faults: Fault[] = [];
  const waiters = new Set<{ faultId: string; resolve: () => void; reject: (err: Error) => void }>();
  let counter = 0;
  let closed = false;

  const release = (faultId: string) => {
    for (const waiter of waiters) {
      if (waiter.faultId === faultId) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  return {
    add: (spec) => {
      counter += 1;
      const fault = { ...spec, id: `fault-${counter}`, hits: 0 } as Fault;
      faults.push(fault);
      return fault;
    },
    remove: (id) => {
      const index = faults.findIndex((fault) => fault.id === id);
      if (index === -1) {
        return false;
      }
      faults.splice(index, 1);
      release(id);
      return true;
    },
    clear: () => {
      for (const fault of faults.splice(0)) {
        release(fault.id);
      }
    },
    list: () => faults.map((fault) => ({ ...fault })),
    take: (version, action) => {
      const fault = faults.find(
        (candidate) =>
          (candidate.action === '*' || candidate.action === action) &&
          (candidate.version === undefined || candidate.version === version) &&
          (candidate.times === undefined || candidate.hits < candidate.times),
      );
      if (fault) {
        fault.hits += 1;
      }
      return fault;
    },
    waitUntilReleased: (fault, ms) => {
      if (closed) {
        return Promise.reject(new Error('sandbox closed'));
      }
      return new Promise<void>((resolve, reject) => {
        const waiter = {
          faultId: fault.id,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
          reject: (err: Error) => {
            clearTimeout(timer);
            reject(err);
          },
        };
        const timer =
          ms === undefined
            ? undefined
            : setTimeout(() => {
                waiters.delete(waiter);
                resolve();
              }, ms);
        waiters.add(waiter);
      });
    },
    close: () => {
      closed = true;
      for (const waiter of waiters) {
        waiter.reject(new Error('sandbox closed'));
      }
      waiters.clear();
    },
  };
};

const FAULT_MODES = ['error', 'delay', 'hang', 'hold'];

/** Checks a fault spec that arrived over HTTP (`POST /_sandbox/faults`). */
export const parseFaultSpec = (value: unknown): FaultSpec => {
  const invalid = (message: string) => new ApiError('validation', `fault: ${message}`);
  if (!isJsonObject(value)) {
    throw invalid('body must be an object');
  }
  const { action, version, times, mode } = value;
  if (typeof action !== 'string' || action === '') {
    throw invalid('`action` is required');
  }
  if (version !== undefined && typeof version !== 'string') {
    throw invalid('`version` must be a string');
  }
  if (times !== undefined && (typeof times !== 'number' || !Number.isInteger(times) || times < 1)) {
    throw invalid('`times` must be a positive integer');
  }
  if (typeof mode !== 'string' || !FAULT_MODES.includes(mode)) {
    throw invalid(`\`mode\` must be one of: ${FAULT_MODES.join(', ')}`);
  }
  const target = {
    action,
    ...(version === undefined ? {} : { version }),
    ...(times === undefined ? {} : { times }),
  };
  const nonNegative = (key: string): number | undefined => {
    const ms = value[key];
    if (ms === undefined) {
      return undefined;
    }
    if (typeof ms !== 'number' || ms < 0) {
      throw invalid(`\`${key}\` must be a non-negative number`);
    }
    return ms;
  };
  switch (mode) {
    case 'error': {
      const { errorType, status, message } = value;
      if (typeof errorType !== 'string' || errorType === '') {
        throw invalid('`errorType` is required for mode error');
      }
      if (status !== undefined && (typeof status !== 'number' || status < 100 || status > 599)) {
        throw invalid('`status` must be an HTTP status');
      }
      if (message !== undefined && typeof message !== 'string') {
        throw invalid('`message` must be a string');
      }
      return {
        ...target,
        mode,
        errorType,
        status: status ?? statusForErrorType(errorType),
        ...(message === undefined ? {} : { message }),
      };
    }
    case 'delay': {
      const delayMs = nonNegative('delayMs');
      if (delayMs === undefined) {
        throw invalid('`delayMs` is required for mode delay');
      }
      return { ...target, mode, delayMs };
    }
    case 'hold': {
      const holdMs = nonNegative('holdMs');
      return { ...target, mode, ...(holdMs === undefined ? {} : { holdMs }) };
    }
    default:
      return { ...target, mode: 'hang' };
  }
};
