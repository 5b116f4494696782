import type { IncomingMessage, ServerResponse } from 'node:http';
import { type ActionDefinition, type ActionTable, checkScopes } from './actions.js';
import { AGENT_ACTIONS } from './agent-api.js';
import { checkRegion, describeRequester, type Requester, resolveRequester } from './auth.js';
import type { Chats } from './chats.js';
import { CONFIGURATION_ACTIONS } from './configuration-api.js';
import { ApiError } from './errors.js';
import type { Fault, Faults } from './faults.js';
import { errorAnswer, parseJson, readBody, send } from './http-json.js';
import type { Clock } from './ids.js';
import type { CallEntry, Journal } from './journal.js';
import { isJsonObject, type JsonValue } from './json.js';
import { API_VERSIONS, type ApiVersion, type Store } from './store.js';

export type Api = 'agent' | 'configuration';

/** An API call as its path names it: `/v<version>/<api>/action/<action>`. */
export type ApiCall = { rawVersion: string; api: Api; action: string };

/** What answering API calls needs: the state, the journal and faults, and two settings. */
type ApiDeps = {
  store: Store;
  clock: Clock;
  chats: Chats;
  journal: Journal;
  faults: Faults;
  botTokenTtlMs: number;
  /** The `Legacy` header value on v3.5 responses. */
  legacyUntil: string;
};

/** A call as received: its request, its path, its body and its journal entry. */
type Received = { req: IncomingMessage; call: ApiCall; rawBody: string; entry: CallEntry };

/** The call's answer, and the `hold` fault keeping it back, if any. */
type Answer = { status: number; response: JsonValue; hold: Fault | undefined };

const TABLES: Readonly<Record<Api, ActionTable>> = {
  agent: AGENT_ACTIONS,
  configuration: CONFIGURATION_ACTIONS,
};

const versionOf = (rawVersion: string): ApiVersion | undefined =>
  (API_VERSIONS as readonly string[]).includes(rawVersion) ? (rawVersion as ApiVersion) : undefined;

const requesterOf = (deps: ApiDeps, req: IncomingMessage, version: ApiVersion, api: Api) =>
  resolveRequester({
    store: deps.store,
    headers: req.headers,
    version,
    api,
    now: deps.clock.now(),
  });

/** Journals the call as received. Its identity is a best guess: the call may yet fail auth. */
const recordCall = (
  deps: ApiDeps,
  req: IncomingMessage,
  { rawVersion, api, action }: ApiCall,
  rawBody: string,
): CallEntry => {
  let request: unknown = rawBody;
  try {
    request = parseJson(rawBody);
  } catch {
    // answered as `validation` once the call runs
  }
  const version = versionOf(rawVersion);
  const tryRequester = (): Requester | undefined => {
    if (!version) {
      return undefined;
    }
    try {
      return requesterOf(deps, req, version, api);
    } catch {
      return undefined;
    }
  };
  return deps.journal.record({
    kind: 'call',
    version: rawVersion,
    api,
    action,
    identity: req.headers.authorization ? describeRequester(tryRequester()) : undefined,
    ...(typeof req.headers['x-region'] === 'string' ? { region: req.headers['x-region'] } : {}),
    request,
  });
};

const findAction = (api: Api, action: string): ActionDefinition => {
  const table = TABLES[api];
  const definition = Object.hasOwn(table, action) ? table[action] : undefined;
  if (!definition) {
    // LiveChat's answer to an unknown action is undocumented; not_found is our pick.
    throw new ApiError('not_found', `Unknown ${api} action: ${action}`);
  }
  return definition;
};

/** Waits for a fault's hang/hold to end; false when the sandbox closed meanwhile. */
const released = async (faults: Faults, fault: Fault, ms?: number): Promise<boolean> => {
  try {
    await faults.waitUntilReleased(fault, ms);
    return true;
  } catch {
    return false;
  }
};

/**
 * An injected fault before the action runs: `error` throws, `delay` and `hang` wait (`dropped`
 * when the sandbox closed meanwhile), `hold` comes back to hold the answer once it is made.
 */
const applyFault = async (faults: Faults, fault: Fault): Promise<Fault | 'dropped' | undefined> => {
  if (fault.mode === 'error') {
    throw new ApiError(
      fault.errorType,
      fault.message ?? `Injected ${fault.errorType} fault`,
      fault.status,
    );
  }
  if (fault.mode === 'delay' || fault.mode === 'hang') {
    const ms = fault.mode === 'delay' ? fault.delayMs : undefined;
    return (await released(faults, fault, ms)) ? undefined : 'dropped';
  }
  return fault;
};

/** Runs the action for the authenticated requester; the body must be a JSON object. */
const perform = (
  deps: ApiDeps,
  { req, call, rawBody, entry }: Received,
  version: ApiVersion,
  definition: ActionDefinition,
): JsonValue => {
  const body = parseJson(rawBody);
  if (!isJsonObject(body)) {
    throw new ApiError('validation', 'Request body must be a JSON object');
  }
  const requester =
    definition.auth === 'required' ? requesterOf(deps, req, version, call.api) : undefined;
  entry.identity = describeRequester(requester);
  if (requester) {
    checkRegion(deps.store, requester, req.headers);
    checkScopes(requester, definition.scopes);
  }
  const { store, clock, chats, botTokenTtlMs } = deps;
  return definition.handle({ version, requester, body, store, clock, chats, botTokenTtlMs });
};

/** The answer to a call; `dropped` when the sandbox closed during a delay or hang fault. */
const answer = async (deps: ApiDeps, received: Received): Promise<Answer | 'dropped'> => {
  const { req, call, entry } = received;
  let hold: Fault | undefined;
  try {
    if (req.method !== 'POST') {
      throw new ApiError('validation', `Use POST for ${call.action}`, 405);
    }
    const version = versionOf(call.rawVersion);
    if (!version) {
      throw new ApiError('unsupported_version', `Unsupported API version: ${call.rawVersion}`);
    }
    const definition = findAction(call.api, call.action);
    const fault = deps.faults.take(version, call.action);
    if (fault) {
      entry.fault = { id: fault.id, mode: fault.mode };
      const effect = await applyFault(deps.faults, fault);
      if (effect === 'dropped') {
        return 'dropped';
      }
      hold = effect;
    }
    return { status: 200, response: perform(deps, received, version, definition), hold };
  } catch (err) {
    const { status, body } = errorAnswer(err);
    return { status, response: body, hold };
  }
};

/** Answers Agent Chat / Configuration API calls: journaled, faults applied, then the action. */
export const createApiCallHandler =
  (deps: ApiDeps) =>
  async (req: IncomingMessage, res: ServerResponse, call: ApiCall): Promise<void> => {
    const headers: Record<string, string> =
      call.rawVersion === '3.5' ? { Legacy: deps.legacyUntil } : {};
    let rawBody: string;
    try {
      rawBody = await readBody(req);
    } catch (err) {
      if (err instanceof ApiError) {
        send(res, err.status, err.toBody(), headers);
      }
      return;
    }
    const entry = recordCall(deps, req, call, rawBody);
    const outcome = await answer(deps, { req, call, rawBody, entry });
    if (outcome === 'dropped') {
      res.destroy();
      return;
    }
    deps.journal.answer(entry, outcome.status, outcome.response);
    const { hold } = outcome;
    const holdMs = hold?.mode === 'hold' ? hold.holdMs : undefined;
    if (hold && !(await released(deps.faults, hold, holdMs))) {
      res.destroy();
      return;
    }
    send(res, outcome.status, outcome.response, headers);
  };
