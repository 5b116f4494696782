import { once } from 'node:events';
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { waitFor } from '@nudge/testing';
import type { Sandbox, SandboxOptions, SandboxSeed } from '../src/index.js';
import { createDefaultSeed, createSandbox } from '../src/index.js';

/** Small delivery timings so retry tests finish quickly. */
const FAST_DELIVERY = { timeoutMs: 300, retryDelaysMs: [40, 40, 40] };

/** A sandbox for one test, closed by `afterEach`. */
export const startSandbox = (options: SandboxOptions = {}): Promise<Sandbox> =>
  createSandbox({ delivery: FAST_DELIVERY, ...options });

/** A second organization with one agent (and its PAT), for cross-organization checks. */
export const OTHER_ORGANIZATION = {
  organizationId: '7d3b1a52-0c4e-4f8a-9d6b-2e5f8a1c3b7d',
  accountId: '11111111-2222-4333-8444-555555555555',
  agentId: 'other@example.com',
  pat: 'dal:other-pat',
  authorization: `Basic ${Buffer.from('11111111-2222-4333-8444-555555555555:dal:other-pat').toString('base64')}`,
} as const;

/** The default seed plus `OTHER_ORGANIZATION`. */
export const seedWithOtherOrganization = (): SandboxSeed => {
  const seed = createDefaultSeed();
  const other = OTHER_ORGANIZATION;
  seed.organizations.push({ id: other.organizationId, name: 'Other' });
  seed.accounts.push({
    accountId: other.accountId,
    agentId: other.agentId,
    organizationId: other.organizationId,
    pat: other.pat,
  });
  return seed;
};

/** Reads a nested value from parsed JSON without `any`. */
export const at = (value: unknown, ...path: Array<string | number>): unknown => {
  let current = value;
  for (const key of path) {
    if (current === null || typeof current !== 'object') {
      return undefined;
    }
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
};

/** A nested string; throws when it is missing. */
export const str = (value: unknown, ...path: Array<string | number>): string => {
  const found = at(value, ...path);
  if (typeof found !== 'string') {
    throw new Error(`expected a string at ${path.join('.')}, got ${JSON.stringify(found)}`);
  }
  return found;
};

type ApiResponse = { status: number; headers: Headers; body: unknown };

/** POSTs to the sandbox like a LiveChat client. */
export const post = async (
  sandbox: Sandbox,
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<ApiResponse> => {
  const response = await fetch(`${sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: response.status, headers: response.headers, body: await response.json() };
};

type CallOptions = { version?: string; auth?: string; headers?: Record<string, string> };

/** Agent Chat API call; PAT auth and v3.5 by default. */
export const agentCall = (
  sandbox: Sandbox,
  action: string,
  body: unknown,
  { version = '3.5', auth = sandbox.credentials.patAuthorization, headers = {} }: CallOptions = {},
) =>
  post(sandbox, `/v${version}/agent/action/${action}`, body, {
    ...(auth ? { Authorization: auth } : {}),
    ...headers,
  });

/** Configuration API call; PAT auth and v3.5 by default. */
export const configCall = (
  sandbox: Sandbox,
  action: string,
  body: unknown,
  { version = '3.5', auth = sandbox.credentials.patAuthorization, headers = {} }: CallOptions = {},
) =>
  post(sandbox, `/v${version}/configuration/action/${action}`, body, {
    ...(auth ? { Authorization: auth } : {}),
    ...headers,
  });

export type BotSetup = { botId: string; secret: string; token: string; authorization: string };

/** create_bot + issue_bot_token through the API, as an app would. */
export const setupBot = async (
  sandbox: Sandbox,
  { name = 'Helper Bot', avatar }: { name?: string; avatar?: string } = {},
): Promise<BotSetup> => {
  const { credentials } = sandbox;
  const created = await configCall(sandbox, 'create_bot', {
    name,
    owner_client_id: credentials.clientId,
    ...(avatar ? { avatar } : {}),
  });
  if (created.status !== 200) {
    throw new Error(`create_bot failed: ${JSON.stringify(created.body)}`);
  }
  const botId = str(created.body, 'id');
  const secret = str(created.body, 'secret');
  const issued = await configCall(
    sandbox,
    'issue_bot_token',
    {
      bot_id: botId,
      client_id: credentials.clientId,
      bot_secret: secret,
      organization_id: credentials.organizationId,
    },
    // The account's PAT, like every doc example (issue_bot_token needs credentials).
    { auth: credentials.patAuthorization },
  );
  const token = str(issued.body, 'token');
  return { botId, secret, token, authorization: `Bearer ${token}` };
};

export type Received = { body: unknown; headers: IncomingHttpHeaders; count: number };
/** What the receiver answers to the n-th request (1-based): a status, or `hang` (never answer). */
export type Responder = (count: number, body: unknown) => number | 'hang';

/** A local webhook receiver capturing deliveries. */
export type Receiver = {
  readonly url: string;
  readonly received: Received[];
  respond: (responder: Responder) => void;
  /** Deliveries with this `action`, in arrival order. */
  byAction: (action: string) => Received[];
  waitForCount: (count: number, action?: string, timeoutMs?: number) => Promise<Received[]>;
  close: () => Promise<void>;
};

export const startReceiver = async (): Promise<Receiver> => {
  const received: Received[] = [];
  const hanging = new Set<ServerResponse>();
  let responder: Responder = () => 200;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      const count = received.length + 1;
      received.push({ body, headers: req.headers, count });
      const answer = responder(count, body);
      if (answer === 'hang') {
        hanging.add(res);
        return;
      }
      res.writeHead(answer, { 'Content-Type': 'text/plain' });
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const byAction = (action: string) =>
    received.filter((item) => at(item.body, 'action') === action);
  return {
    url: `http://127.0.0.1:${port}/livechat/webhook`,
    received,
    respond: (next) => {
      responder = next;
    },
    byAction,
    waitForCount: (count, action, timeoutMs = 5_000) =>
      waitFor(
        () => {
          const items = action === undefined ? received : byAction(action);
          return items.length >= count ? items : undefined;
        },
        { timeoutMs, what: `${count} ${action ?? ''} deliveries` },
      ),
    close: async () => {
      for (const res of hanging) {
        res.destroy();
      }
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
};

/** register_webhook through the API with PAT auth; returns the webhook ID. */
export const registerWebhook = async (
  sandbox: Sandbox,
  receiver: Receiver,
  fields: Record<string, unknown>,
  version = '3.5',
): Promise<string> => {
  const response = await configCall(
    sandbox,
    'register_webhook',
    {
      url: receiver.url,
      secret_key: 'sandbox-test-secret-0123456789abcdef',
      owner_client_id: sandbox.credentials.clientId,
      type: 'license',
      ...fields,
    },
    { version },
  );
  if (response.status !== 200) {
    throw new Error(`register_webhook failed: ${JSON.stringify(response.body)}`);
  }
  return str(response.body, 'id');
};

const typeOf = (value: unknown): string =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

/**
 * Differences between the *shape* of `actual` and a documented `example`: the same keys
 * (recursively) with the same JSON types. `optional` paths may be missing from `actual`,
 * `extra` paths may appear in it, `skip` paths are not compared. Array elements are compared
 * to the example element with the same `type` field, else the first one. Paths use `.` and
 * `[]` for array elements, e.g. `payload.chat.users[].created_at`.
 */
export const shapeDiff = (
  actual: unknown,
  example: unknown,
  options: { optional?: string[]; extra?: string[]; skip?: string[] } = {},
  path = '',
): string[] => {
  const { optional = [], extra = [], skip = [] } = options;
  if (skip.includes(path)) {
    return [];
  }
  const expectedType = typeOf(example);
  const actualType = typeOf(actual);
  if (expectedType !== actualType) {
    return [`${path || '<root>'}: expected ${expectedType}, got ${actualType}`];
  }
  if (Array.isArray(example) && Array.isArray(actual)) {
    if (example.length === 0) {
      return [];
    }
    return actual.flatMap((item) => {
      const sameType = example.find(
        (candidate) =>
          at(candidate, 'type') !== undefined && at(candidate, 'type') === at(item, 'type'),
      );
      return shapeDiff(item, sameType ?? example[0], options, `${path}[]`);
    });
  }
  if (expectedType !== 'object') {
    return [];
  }
  const expectedObject = example as Record<string, unknown>;
  const actualObject = actual as Record<string, unknown>;
  const child = (key: string) => (path ? `${path}.${key}` : key);
  const diffs: string[] = [];
  for (const key of Object.keys(expectedObject)) {
    if (!(key in actualObject)) {
      if (!optional.includes(child(key)) && !skip.includes(child(key))) {
        diffs.push(`${child(key)}: missing`);
      }
      continue;
    }
    diffs.push(...shapeDiff(actualObject[key], expectedObject[key], options, child(key)));
  }
  // An empty example object (e.g. `properties: {}`) stands for "any object".
  if (Object.keys(expectedObject).length > 0) {
    for (const key of Object.keys(actualObject)) {
      if (!(key in expectedObject) && !extra.includes(child(key)) && !skip.includes(child(key))) {
        diffs.push(`${child(key)}: not in the documented example`);
      }
    }
  }
  return diffs;
};
