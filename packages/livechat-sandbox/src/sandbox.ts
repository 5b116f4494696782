import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ActionTable, checkScopes } from './actions.js';
import { AGENT_ACTIONS } from './agent-api.js';
import { checkRegion, describeRequester, type Requester, resolveRequester } from './auth.js';
import type { RoutingStatusSpelling } from './chat-webhooks.js';
import { createChats } from './chats.js';
import { CONFIGURATION_ACTIONS } from './configuration-api.js';
import { ApiError } from './errors.js';
import { createFaults, type Fault, type Faults, parseFaultSpec } from './faults.js';
import { createClock } from './ids.js';
import { type CallEntry, createJournal, type Journal, type JournalEntry } from './journal.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import {
  createScenario,
  SCENARIO_METHODS,
  type Scenario,
  type ScenarioMethod,
} from './scenario.js';
import {
  API_VERSIONS,
  type ApiVersion,
  createDefaultSeed,
  createStore,
  installationKey,
  type RoutingStatus,
  type SandboxSeed,
} from './store.js';
import { createDispatcher, type DeliveryTimings } from './webhooks.js';

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

/** The first seeded organization, app and account: what a client needs to talk to the sandbox. */
export type SandboxCredentials = {
  organizationId: string;
  clientId: string;
  accountId: string;
  agentId: string;
  pat: string;
  agentToken: string;
  /** `Basic base64(account_id:PAT)`. */
  patAuthorization: string;
  /** `Bearer <agent token>`. */
  agentAuthorization: string;
};

export type WebhookRegistration = {
  id: string;
  ownerClientId: string;
  action: string;
  url: string;
  secretKey: string;
  type: 'bot' | 'license';
  filters: JsonObject;
  additionalData: string[];
};

export type BotSummary = {
  id: string;
  secret: string;
  name: string;
  organizationId: string;
  ownerClientId: string;
  routingStatus: RoutingStatus;
};

/** Read-only views of the sandbox's state. */
export type SandboxState = {
  webhooks: () => WebhookRegistration[];
  bots: () => BotSummary[];
  licenseWebhooksEnabled: (clientId: string, organizationId?: string) => boolean;
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
// v3.5 became legacy when v3.6 was released (2025-08-07); legacy lasts about 1–1.5 years and
// the header names the end of that stage (§0). The exact date is our guess.
const DEFAULT_LEGACY_UNTIL = '2027-02-07';
const MAX_BODY_BYTES = 10 * 1024 * 1024;
const API_PATH = /^\/v([^/]+)\/(agent|configuration)\/action\/([^/]+)$/;

const TABLES: Readonly<Record<'agent' | 'configuration', ActionTable>> = {
  agent: AGENT_ACTIONS,
  configuration: CONFIGURATION_ACTIONS,
};

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new ApiError('entity_too_large', 'Request body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

const parseJson = (text: string): unknown => {
  if (text.trim() === '') {
    return {};
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('validation', 'Request body is not valid JSON');
  }
};

const send = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  if (res.destroyed || res.headersSent) {
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
};

const credentialsFrom = (seed: SandboxSeed): SandboxCredentials => {
  const organization = seed.organizations[0];
  const app = seed.clientApps[0];
  const account = seed.accounts[0];
  if (!organization || !app || !account?.pat || !account.agentToken) {
    throw new Error(
      'seed: needs an organization, a client app and a first account with a PAT and an agent token',
    );
  }
  return {
    organizationId: organization.id,
    clientId: app.clientId,
    accountId: account.accountId,
    agentId: account.agentId,
    pat: account.pat,
    agentToken: account.agentToken,
    patAuthorization: `Basic ${Buffer.from(`${account.accountId}:${account.pat}`).toString('base64')}`,
    agentAuthorization: `Bearer ${account.agentToken}`,
  };
};

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
  const chats = createChats({
    store,
    clock,
    dispatcher,
    routingStatusSpelling: options.routingStatusSpelling ?? 'spaces',
  });
  const scenario = createScenario({ store, clock, chats });
  const botTokenTtlMs = options.botTokenTtlMs ?? DAY_MS;
  const legacyUntil = options.legacyUntil ?? DEFAULT_LEGACY_UNTIL;

  const state: SandboxState = {
    webhooks: () =>
      store.webhooks.map((webhook) => ({
        id: webhook.id,
        ownerClientId: webhook.ownerClientId,
        action: webhook.action,
        url: webhook.url,
        secretKey: webhook.secretKey,
        type: webhook.type,
        filters: structuredClone(webhook.filters) as JsonObject,
        additionalData: [...webhook.additionalData],
      })),
    bots: () =>
      [...store.bots.values()].map((bot) => ({
        id: bot.id,
        secret: bot.secret,
        name: bot.name,
        organizationId: bot.organizationId,
        ownerClientId: bot.ownerClientId,
        routingStatus: bot.routingStatus,
      })),
    licenseWebhooksEnabled: (clientId, organizationId = credentials.organizationId) =>
      store.installations.get(installationKey(organizationId, clientId))?.licenseWebhooksEnabled ===
      true,
  };

  /** Waits for a fault's hang/hold to end; false when the sandbox closed meanwhile. */
  const released = async (fault: Fault, ms?: number): Promise<boolean> => {
    try {
      await faults.waitUntilReleased(fault, ms);
      return true;
    } catch {
      return false;
    }
  };

  const handleApi = async (
    req: IncomingMessage,
    res: ServerResponse,
    rawVersion: string,
    api: 'agent' | 'configuration',
    action: string,
  ) => {
    const headers: Record<string, string> = rawVersion === '3.5' ? { Legacy: legacyUntil } : {};
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch (err) {
      if (err instanceof ApiError) {
        send(res, err.status, err.toBody(), headers);
      }
      return;
    }
    let request: unknown = rawBody;
    try {
      request = parseJson(rawBody);
    } catch {
      // answered below as `validation`
    }
    const version = (API_VERSIONS as readonly string[]).includes(rawVersion)
      ? (rawVersion as ApiVersion)
      : undefined;
    const tryRequester = (): Requester | undefined => {
      if (!version) {
        return undefined;
      }
      try {
        return resolveRequester({ store, headers: req.headers, version, api, now: clock.now() });
      } catch {
        return undefined;
      }
    };
    const entry: CallEntry = journal.record({
      kind: 'call',
      version: rawVersion,
      api,
      action,
      identity: req.headers.authorization ? describeRequester(tryRequester()) : undefined,
      ...(typeof req.headers['x-region'] === 'string' ? { region: req.headers['x-region'] } : {}),
      request,
    });

    let status = 200;
    let response: JsonValue;
    let holdFault: Fault | undefined;
    try {
      if (req.method !== 'POST') {
        throw new ApiError('validation', `Use POST for ${action}`, 405);
      }
      if (!version) {
        throw new ApiError('unsupported_version', `Unsupported API version: ${rawVersion}`);
      }
      const table = TABLES[api];
      const definition = Object.hasOwn(table, action) ? table[action] : undefined;
      if (!definition) {
        // LiveChat's answer to an unknown action is undocumented; not_found is our pick.
        throw new ApiError('not_found', `Unknown ${api} action: ${action}`);
      }
      const fault = faults.take(version, action);
      if (fault) {
        entry.fault = { id: fault.id, mode: fault.mode };
        if (fault.mode === 'error') {
          throw new ApiError(
            fault.errorType,
            fault.message ?? `Injected ${fault.errorType} fault`,
            fault.status,
          );
        }
        if (fault.mode === 'delay' || fault.mode === 'hang') {
          const ms = fault.mode === 'delay' ? fault.delayMs : undefined;
          if (!(await released(fault, ms))) {
            res.destroy();
            return;
          }
        }
        if (fault.mode === 'hold') {
          holdFault = fault;
        }
      }
      const body = parseJson(rawBody);
      if (!isJsonObject(body)) {
        throw new ApiError('validation', 'Request body must be a JSON object');
      }
      const requester =
        definition.auth === 'required'
          ? resolveRequester({ store, headers: req.headers, version, api, now: clock.now() })
          : undefined;
      entry.identity = describeRequester(requester);
      if (requester) {
        checkRegion(store, requester, req.headers);
        checkScopes(requester, definition.scopes);
      }
      response = definition.handle({
        version,
        requester,
        body,
        store,
        clock,
        chats,
        botTokenTtlMs,
      });
    } catch (err) {
      if (err instanceof ApiError) {
        status = err.status;
        response = err.toBody();
      } else {
        status = 500;
        response = { error: { type: 'internal', message: String(err) } };
      }
    }
    journal.answer(entry, status, response);
    if (holdFault) {
      const holdMs = holdFault.mode === 'hold' ? holdFault.holdMs : undefined;
      if (!(await released(holdFault, holdMs))) {
        res.destroy();
        return;
      }
    }
    send(res, status, response, headers);
  };

  const handleSandboxRoute = async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
  ): Promise<void> => {
    const path = url.pathname.replace(/^\/_sandbox/, '');
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'DELETE' ? {} : parseJson(await readBody(req));
    if (method === 'GET' && path === '/health') {
      return send(res, 200, { ok: true });
    }
    if (method === 'GET' && path === '/credentials') {
      return send(res, 200, credentials);
    }
    if (method === 'GET' && path === '/state') {
      return send(res, 200, { webhooks: state.webhooks(), bots: state.bots() });
    }
    if (method === 'GET' && path === '/journal') {
      const kind = url.searchParams.get('kind');
      const since = Number(url.searchParams.get('since') ?? 0);
      const entries = journal.entries.filter(
        (entry: JournalEntry) => entry.seq > since && (kind === null || entry.kind === kind),
      );
      return send(res, 200, { entries });
    }
    if (method === 'DELETE' && path === '/journal') {
      journal.clear();
      return send(res, 200, {});
    }
    const chatMatch = /^\/chats\/([^/]+)$/.exec(path);
    if (method === 'GET' && chatMatch?.[1]) {
      // What the bot did, for people: the chat with every thread, as the scenario API reads it.
      return send(res, 200, scenario.getChat({ chatId: decodeURIComponent(chatMatch[1]) }));
    }
    if (method === 'GET' && path === '/idle') {
      await dispatcher.idle();
      return send(res, 200, {});
    }
    if (path === '/faults') {
      if (method === 'GET') {
        return send(res, 200, { faults: faults.list() });
      }
      if (method === 'POST') {
        return send(res, 200, faults.add(parseFaultSpec(body)));
      }
      if (method === 'DELETE') {
        faults.clear();
        return send(res, 200, {});
      }
    }
    const faultMatch = /^\/faults\/([^/]+)$/.exec(path);
    if (method === 'DELETE' && faultMatch?.[1]) {
      if (!faults.remove(decodeURIComponent(faultMatch[1]))) {
        throw new ApiError('not_found', `Fault not found: ${faultMatch[1]}`);
      }
      return send(res, 200, {});
    }
    const scenarioMatch = /^\/scenario\/([A-Za-z]+)$/.exec(path);
    if (method === 'POST' && scenarioMatch?.[1]) {
      const name = scenarioMatch[1];
      if (!(SCENARIO_METHODS as readonly string[]).includes(name)) {
        throw new ApiError('not_found', `Unknown scenario method: ${name}`);
      }
      const run = scenario[name as ScenarioMethod] as (input: unknown) => unknown;
      return send(res, 200, run(body));
    }
    throw new ApiError('not_found', `No sandbox route ${method} ${url.pathname}`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const apiMatch = API_PATH.exec(url.pathname);
    if (apiMatch) {
      const [, version = '', api = '', action = ''] = apiMatch;
      // The pattern only matches `agent` or `configuration`.
      await handleApi(req, res, version, api === 'agent' ? 'agent' : 'configuration', action);
      return;
    }
    try {
      if (url.pathname === '/_sandbox' || url.pathname.startsWith('/_sandbox/')) {
        await handleSandboxRoute(req, res, url);
        return;
      }
      throw new ApiError('not_found', `Not found: ${req.method} ${url.pathname}`);
    } catch (err) {
      const error = err instanceof ApiError ? err : new ApiError('internal', String(err), 500);
      send(res, error.status, error.toBody());
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      send(res, 500, { error: { type: 'internal', message: String(err) } });
    });
  });
  server.listen(options.port ?? 0, options.host ?? '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    credentials,
    scenario,
    journal,
    faults,
    state,
    idle: () => dispatcher.idle(),
    close: () => {
      closing ??= (async () => {
        faults.close();
        dispatcher.close();
        const closed = once(server, 'close');
        server.close();
        server.closeAllConnections();
        await closed;
      })();
      return closing;
    },
  };
};
