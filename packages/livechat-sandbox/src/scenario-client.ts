import type { SandboxCredentials } from './credentials.js';
import { ApiError } from './errors.js';
import type { Fault, FaultSpec } from './faults.js';
import type { JournalEntry } from './journal.js';
import { SCENARIO_METHODS, type Scenario, type ScenarioMethod } from './scenario.js';

type AsyncScenario = {
  [K in ScenarioMethod]: (...args: Parameters<Scenario[K]>) => Promise<ReturnType<Scenario[K]>>;
};

/** The sandbox's `/_sandbox` HTTP API, for a test or demo in another process. */
type ScenarioClient = AsyncScenario & {
  credentials: () => Promise<SandboxCredentials>;
  journal: (query?: { kind?: JournalEntry['kind']; since?: number }) => Promise<JournalEntry[]>;
  clearJournal: () => Promise<void>;
  addFault: (spec: FaultSpec) => Promise<Fault>;
  removeFault: (id: string) => Promise<void>;
  clearFaults: () => Promise<void>;
  listFaults: () => Promise<Fault[]>;
  /** Resolves once no webhook delivery is in flight or waiting for a retry. */
  idle: () => Promise<void>;
};

/** A client for a running sandbox's scenario, journal and fault routes. */
export const createScenarioClient = (baseUrl: string): ScenarioClient => {
  const root = baseUrl.replace(/\/+$/, '');
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const response = await fetch(`${root}/_sandbox${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const payload: unknown = await response.json();
    if (!response.ok) {
      const error =
        typeof payload === 'object' && payload !== null && 'error' in payload
          ? (payload.error as { type?: string; message?: string })
          : {};
      throw new ApiError(
        error.type ?? 'internal',
        error.message ?? `HTTP ${response.status}`,
        response.status,
      );
    }
    return payload as T;
  };

  const scenario = Object.fromEntries(
    SCENARIO_METHODS.map((name) => [
      name,
      (input: unknown = {}) => call('POST', `/scenario/${name}`, input),
    ]),
  ) as AsyncScenario;

  return {
    ...scenario,
    credentials: () => call('GET', '/credentials'),
    journal: async ({ kind, since } = {}) => {
      const params = new URLSearchParams();
      if (kind) {
        params.set('kind', kind);
      }
      if (since !== undefined) {
        params.set('since', String(since));
      }
      const query = params.size > 0 ? `?${params}` : '';
      const { entries } = await call<{ entries: JournalEntry[] }>('GET', `/journal${query}`);
      return entries;
    },
    clearJournal: async () => {
      await call('DELETE', '/journal');
    },
    addFault: (spec) => call('POST', '/faults', spec),
    removeFault: async (id) => {
      await call('DELETE', `/faults/${encodeURIComponent(id)}`);
    },
    clearFaults: async () => {
      await call('DELETE', '/faults');
    },
    listFaults: async () => (await call<{ faults: Fault[] }>('GET', '/faults')).faults,
    idle: async () => {
      await call('GET', '/idle');
    },
  };
};
