import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SandboxCredentials } from './credentials.js';
import { ApiError } from './errors.js';
import { type Faults, parseFaultSpec } from './faults.js';
import { parseJson, readBody, send } from './http-json.js';
import type { Journal, JournalEntry } from './journal.js';
import type { SandboxState } from './sandbox-state.js';
import { SCENARIO_METHODS, type Scenario, type ScenarioMethod } from './scenario.js';

// The sandbox's own HTTP API under `/_sandbox`: what createScenarioClient calls.

/** A route's request: its one path parameter (if any), the parsed body, the URL. */
type RouteRequest = { param: string; body: unknown; url: URL };

type Route = {
  method: string;
  /** Matched against the path after `/_sandbox`; at most one capture group. */
  path: RegExp;
  /** The body of the 200 answer; errors are thrown as ApiError. */
  answer: (request: RouteRequest) => unknown;
};

type SandboxRoutesDeps = {
  credentials: SandboxCredentials;
  state: SandboxState;
  journal: Journal;
  faults: Faults;
  scenario: Scenario;
  /** Resolves once no webhook delivery is in flight or waiting for a retry. */
  idle: () => Promise<void>;
};

const journalRoutes = (journal: Journal): Route[] => [
  {
    method: 'GET',
    path: /^\/journal$/,
    answer: ({ url }) => {
      const kind = url.searchParams.get('kind');
      const since = Number(url.searchParams.get('since') ?? 0);
      const entries = journal.entries.filter(
        (entry: JournalEntry) => entry.seq > since && (kind === null || entry.kind === kind),
      );
      return { entries };
    },
  },
  {
    method: 'DELETE',
    path: /^\/journal$/,
    answer: () => {
      journal.clear();
      return {};
    },
  },
];

const faultRoutes = (faults: Faults): Route[] => [
  { method: 'GET', path: /^\/faults$/, answer: () => ({ faults: faults.list() }) },
  { method: 'POST', path: /^\/faults$/, answer: ({ body }) => faults.add(parseFaultSpec(body)) },
  {
    method: 'DELETE',
    path: /^\/faults$/,
    answer: () => {
      faults.clear();
      return {};
    },
  },
  {
    method: 'DELETE',
    path: /^\/faults\/([^/]+)$/,
    answer: ({ param }) => {
      if (!faults.remove(decodeURIComponent(param))) {
        throw new ApiError('not_found', `Fault not found: ${param}`);
      }
      return {};
    },
  },
];

const scenarioRoutes = (scenario: Scenario): Route[] => [
  // What the bot did, for people: the chat with every thread, as the scenario API reads it.
  {
    method: 'GET',
    path: /^\/chats\/([^/]+)$/,
    answer: ({ param }) => scenario.getChat({ chatId: decodeURIComponent(param) }),
  },
  {
    method: 'POST',
    path: /^\/scenario\/([A-Za-z]+)$/,
    answer: ({ param: name, body }) => {
      if (!(SCENARIO_METHODS as readonly string[]).includes(name)) {
        throw new ApiError('not_found', `Unknown scenario method: ${name}`);
      }
      const run = scenario[name as ScenarioMethod] as (input: unknown) => unknown;
      return run(body);
    },
  },
];

const sandboxRoutes = ({
  credentials,
  state,
  journal,
  faults,
  scenario,
  idle,
}: SandboxRoutesDeps): Route[] => [
  { method: 'GET', path: /^\/health$/, answer: () => ({ ok: true }) },
  { method: 'GET', path: /^\/credentials$/, answer: () => credentials },
  {
    method: 'GET',
    path: /^\/state$/,
    answer: () => ({ webhooks: state.webhooks(), bots: state.bots() }),
  },
  {
    method: 'GET',
    path: /^\/idle$/,
    answer: async () => {
      await idle();
      return {};
    },
  },
  ...journalRoutes(journal),
  ...faultRoutes(faults),
  ...scenarioRoutes(scenario),
];

/** Answers `/_sandbox` requests; `not_found` when no route matches. */
export const createSandboxRouter = (deps: SandboxRoutesDeps) => {
  const routes = sandboxRoutes(deps);
  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const path = url.pathname.replace(/^\/_sandbox/, '');
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'DELETE' ? {} : parseJson(await readBody(req));
    for (const route of routes) {
      const match = route.method === method ? route.path.exec(path) : null;
      if (match) {
        return send(res, 200, await route.answer({ param: match[1] ?? '', body, url }));
      }
    }
    throw new ApiError('not_found', `No sandbox route ${method} ${url.pathname}`);
  };
};
