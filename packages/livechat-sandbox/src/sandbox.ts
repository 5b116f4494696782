import { createApiCallHandler } from './api-calls.js';
import type { RoutingStatusSpelling } from './chat-webhooks.js';
import { createChats } from './chats.js';
import { credentialsFrom, type SandboxCredentials } from './credentials.js';
import { createFaults, type Faults } from './faults.js';
import { startHttpServer } from './http-server.js';
import { createClock } from './ids.js';
import { createJournal, type Journal } from './journal.js';
import { createSandboxRouter } from './sandbox-routes.js';
import { createSandboxState, type SandboxState } from './sandbox-state.js';
import { createScenario, type Scenario } from './scenario.js';
import { createDefaultSeed, createStore, type SandboxSeed } from './store.js';
import type { DeliveryTimings } from './webhook-delivery.js';
import { createDispatcher } from './webhooks.js';

export type SandboxOptions = {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
  /** Webhook delivery: timeout (default 10 000 ms) and retry delays (default 5 s, 20 s, 35 s). */
  delivery?: Partial<DeliveryTimings>;
  /** Bot token lifetime; LiveChat's is 24 h. */
  botTokenTtlMs?: number;
  /** `routing_status_set` status strings: `accepting chats` (documented, default) or `accepting_chats`. */
  routingStatusSpelling?: RoutingStatusSpelling;
  /** Starting data; `createDefaultSeed()` when omitted. */
  seed?: SandboxSeed;
  /** The `Legacy` header value on v3.5 responses. */
  legacyUntil?: string;
};

export type Sandbox = {
  /** `http://127.0.0.1:<port>`: append `/v3.5/agent/action/<name>` etc. */
  readonly url: string;
  readonly port: number;
  readonly credentials: SandboxCredentials;
  readonly scenario: Scenario;
  readonly journal: Journal;
  readonly faults: Faults;
  readonly state: SandboxState;
  /** Resolves once no webhook delivery is in flight or waiting for a retry. */
  idle: () => Promise<void>;
  close: () => Promise<void>;
};

const DEFAULT_TIMINGS: DeliveryTimings = {
  timeoutMs: 10_000,
  retryDelaysMs: [5_000, 20_000, 35_000],
};
const DAY_MS = 24 * 60 * 60 * 1000;
// v3.5 became legacy when v3.6 was released (2025-08-07,
// https://platform.text.com/docs/messaging/agent-chat-api/changelog); legacy lasts about
// 1–1.5 years and the `Legacy` header names the end of that stage
// (https://platform.text.com/docs/messaging#api-versioning). The exact date is our guess.
const DEFAULT_LEGACY_UNTIL = '2027-02-07';

/** Starts a LiveChat stand-in: Agent Chat and Configuration APIs, webhooks, scenarios, faults. */
export const createSandbox = async (options: SandboxOptions = {}): Promise<Sandbox> => {
  const seed = options.seed ?? createDefaultSeed();
  const credentials = credentialsFrom(seed);
  const store = createStore(seed);
  const clock = createClock();
  const journal = createJournal();
  const faults = createFaults();
  const timings = { ...DEFAULT_TIMINGS, ...options.delivery };
  const dispatcher = createDispatcher({ store, journal, timings });
  const routingStatusSpelling = options.routingStatusSpelling ?? 'spaces';
  const chats = createChats({ store, clock, dispatcher, routingStatusSpelling });
  const scenario = createScenario({ store, clock, chats });
  const state = createSandboxState(store, credentials.organizationId);
  const idle = () => dispatcher.idle();
  const server = await startHttpServer({
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
    handlers: {
      api: createApiCallHandler({
        store,
        clock,
        chats,
        journal,
        faults,
        botTokenTtlMs: options.botTokenTtlMs ?? DAY_MS,
        legacyUntil: options.legacyUntil ?? DEFAULT_LEGACY_UNTIL,
      }),
      sandbox: createSandboxRouter({ credentials, state, journal, faults, scenario, idle }),
    },
  });

  let closing: Promise<void> | undefined;
  return {
    url: server.url,
    port: server.port,
    credentials,
    scenario,
    journal,
    faults,
    state,
    idle,
    close: () => {
      closing ??= (async () => {
        faults.close();
        dispatcher.close();
        await server.close();
      })();
      return closing;
    },
  };
};
