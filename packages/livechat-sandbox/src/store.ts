import type { JsonObject } from './json.js';

export type ApiVersion = '3.5' | '3.6';
export const API_VERSIONS: readonly ApiVersion[] = ['3.5', '3.6'];

/** Routing statuses as the Agent Chat API spells them (webhooks may use spaces instead). */
export type RoutingStatus = 'accepting_chats' | 'not_accepting_chats' | 'offline';
export const ROUTING_STATUSES: readonly RoutingStatus[] = [
  'accepting_chats',
  'not_accepting_chats',
  'offline',
];

export type Visibility = 'all' | 'agents';
export const VISIBILITIES: readonly Visibility[] = ['all', 'agents'];

/** `region`: the data center serving it (`dal`, `fra`); requests elsewhere are misdirected. */
export type Organization = { id: string; name: string; region: string };

/** Requests without `X-Region` go to `dal`, LiveChat's default data center. */
export const DEFAULT_REGION = 'dal';

export type ClientApp = { clientId: string; name: string };

/** An app installed in an organization; license webhooks flow while enabled. */
export type Installation = {
  organizationId: string;
  clientId: string;
  licenseWebhooksEnabled: boolean;
};

/**
 * An agent's role (Configuration API). It decides how deleted events read: `normal` agents get
 * a stripped deleted event, higher roles the original with `deleted: true`.
 */
export type AgentRole = 'owner' | 'viceowner' | 'administrator' | 'normal';

export type Agent = {
  /** Agents are identified by e-mail in chats (`smith@example.com`). */
  id: string;
  role: AgentRole;
  /** The account UUID a PAT is issued to (`Basic base64(account_id:PAT)`). */
  accountId: string;
  organizationId: string;
  name: string;
  avatar: string;
  routingStatus: RoutingStatus;
  pat: string | undefined;
  agentToken: string | undefined;
  /** The client ID the agent OAuth token was issued through. */
  agentTokenClientId: string | undefined;
  scopes: ReadonlySet<string>;
};

export type BotGroup = { id: number; priority: string };

export type Bot = {
  id: string;
  secret: string;
  organizationId: string;
  ownerClientId: string;
  name: string;
  avatar: string | undefined;
  maxChatsCount: number;
  defaultGroupPriority: string;
  jobTitle: string | undefined;
  groups: BotGroup[];
  workScheduler: JsonObject | undefined;
  timezone: string | undefined;
  /** v3.6 field; `chatbot` by default. */
  type: string;
  routingStatus: RoutingStatus;
  /**
   * How the bot was created: PAT callers list PAT-created bots with `all: false`
   * (https://platform.text.com/docs/management/configuration-api#list-bots).
   */
  createdVia: 'pat' | 'token' | 'seed';
};

export type Customer = {
  id: string;
  organizationId: string;
  name: string;
  email: string | undefined;
  createdAt: string;
  chatsCount: number;
  threadsCount: number;
};

export type WebhookType = 'bot' | 'license';

export type WebhookFilters = {
  author_type?: 'customer' | 'agent';
  only_my_chats?: boolean;
  chat_presence?: {
    user_ids?: { values?: string[]; exclude_values?: string[] };
    my_bots?: boolean;
  };
  source_type?: Array<'my_client' | 'other_clients' | 'system'>;
  agent_ids?: string[];
};

export type Webhook = {
  id: string;
  ownerClientId: string;
  action: string;
  url: string;
  secretKey: string;
  type: WebhookType;
  description: string | undefined;
  filters: WebhookFilters;
  additionalData: string[];
  /** The API version it was registered through. */
  version: ApiVersion;
};

export type BotToken = {
  token: string;
  botId: string;
  clientId: string;
  organizationId: string;
  expiresAt: number;
};

/**
 * An event exactly as LiveChat serialises it (`id`, `type`, `created_at`, …). A deleted event
 * keeps its content and gets `deleted: true`; requesters see it per their role (chat-views.ts).
 */
export type ChatEvent = JsonObject & {
  id: string;
  type: string;
  created_at: string;
  visibility: Visibility;
  deleted?: true;
};

export type ChatMember = {
  id: string;
  kind: 'customer' | 'agent' | 'bot';
  present: boolean;
  visibility: Visibility;
};

export type Thread = {
  id: string;
  active: boolean;
  createdAt: string;
  userIds: string[];
  events: ChatEvent[];
  properties: Record<string, JsonObject>;
  access: { group_ids: number[] };
  tags: string[];
  eventCounter: number;
};

export type Chat = {
  id: string;
  organizationId: string;
  createdAt: string;
  members: ChatMember[];
  threads: Thread[];
  properties: Record<string, JsonObject>;
  access: { group_ids: number[] };
};

export type SeedOrganization = {
  id: string;
  name?: string;
  /** Its data center; `dal` by default. */
  region?: string;
};
export type SeedClientApp = {
  clientId: string;
  name?: string;
  /** Organizations that installed the app (license webhooks start enabled there). */
  installedIn?: string[];
};
export type SeedAccount = {
  accountId: string;
  agentId: string;
  organizationId: string;
  name?: string;
  pat?: string;
  agentToken?: string;
  agentTokenClientId?: string;
  routingStatus?: RoutingStatus;
  /** Defaults to every scope the sandbox checks. */
  scopes?: string[];
  /** Defaults to `owner`: seeded accounts see everything, as they always have. */
  role?: AgentRole;
};
export type SeedBot = {
  id: string;
  secret: string;
  organizationId: string;
  ownerClientId: string;
  name: string;
  routingStatus?: RoutingStatus;
};

/** The sandbox's starting data. The first organization, app and account are "the" credentials. */
export type SandboxSeed = {
  organizations: SeedOrganization[];
  clientApps: SeedClientApp[];
  accounts: SeedAccount[];
  bots?: SeedBot[];
};

/** Every scope the sandbox checks; seeded accounts get all of them unless told otherwise. */
export const ALL_SCOPES: readonly string[] = [
  'chats--all:rw',
  'chats--access:rw',
  'agents--my:rw',
  'agents--all:rw',
  'agents-bot--my:rw',
  'agents-bot--all:rw',
  'customers:rw',
  'webhooks.configuration:rw',
  'webhooks.state:rw',
];

/** The scopes of a bot token (https://platform.text.com/docs/management/configuration-api#issue-bot-token). */
export const BOT_TOKEN_SCOPES: readonly string[] = [
  'chats--access:rw',
  'agents-bot--my:rw',
  'customers:rw',
];

// Fixed defaults so a demo's configuration survives sandbox restarts. The organization and
// client IDs are the ones used in the docs' examples.
export const DEFAULT_ORGANIZATION_ID = '390e44e6-f1e6-0368-c6dd-74f14508c2e0';
export const DEFAULT_CLIENT_ID = 'c6e4f62e2a2dab12531235b12c5a2a6b';
const DEFAULT_ACCOUNT_ID = 'b8f0c7a2-4d3e-4f5a-9b6c-7d8e9f0a1b2c';
export const DEFAULT_AGENT_ID = 'agent@example.com';
// Real tokens carry a data-centre prefix (`dal:`), so clients that parse it keep working.
const DEFAULT_PAT = 'dal:sandbox-pat-3f9a6c1e8b2d4f70a1c5';
const DEFAULT_AGENT_TOKEN = 'dal:sandbox-agent-token-7c2e9a41d5b86f03';

/** The default seed: one organization, one app installed there, one agent with a PAT and a token. */
export const createDefaultSeed = (): SandboxSeed => ({
  organizations: [{ id: DEFAULT_ORGANIZATION_ID, name: 'Sandbox Organization' }],
  clientApps: [
    { clientId: DEFAULT_CLIENT_ID, name: 'Nudge', installedIn: [DEFAULT_ORGANIZATION_ID] },
  ],
  accounts: [
    {
      accountId: DEFAULT_ACCOUNT_ID,
      agentId: DEFAULT_AGENT_ID,
      organizationId: DEFAULT_ORGANIZATION_ID,
      name: 'Sandbox Agent',
      pat: DEFAULT_PAT,
      agentToken: DEFAULT_AGENT_TOKEN,
      agentTokenClientId: DEFAULT_CLIENT_ID,
    },
  ],
});

export type Store = {
  organizations: Map<string, Organization>;
  clientApps: Map<string, ClientApp>;
  installations: Map<string, Installation>;
  agents: Map<string, Agent>;
  bots: Map<string, Bot>;
  customers: Map<string, Customer>;
  /** In registration order. */
  webhooks: Webhook[];
  botTokens: Map<string, BotToken>;
  chats: Map<string, Chat>;
  /** Thread ID → chat ID, to keep thread IDs unique. */
  threadOwners: Map<string, string>;
};

export const installationKey = (organizationId: string, clientId: string): string =>
  `${organizationId}/${clientId}`;

/** A bot with create_bot's defaults: group 0 at `normal` priority, up to 6 chats. */
export const defaultBot = (
  fields: Pick<
    Bot,
    'id' | 'secret' | 'organizationId' | 'ownerClientId' | 'name' | 'routingStatus' | 'createdVia'
  >,
): Bot => ({
  id: fields.id,
  secret: fields.secret,
  organizationId: fields.organizationId,
  ownerClientId: fields.ownerClientId,
  name: fields.name,
  avatar: undefined,
  maxChatsCount: 6,
  defaultGroupPriority: 'normal',
  jobTitle: undefined,
  groups: [{ id: 0, priority: 'normal' }],
  workScheduler: undefined,
  timezone: undefined,
  type: 'chatbot',
  routingStatus: fields.routingStatus,
  createdVia: fields.createdVia,
});

/** Builds the in-memory state from a seed, checking its references. */
export const createStore = (seed: SandboxSeed): Store => {
  const store: Store = {
    organizations: new Map(),
    clientApps: new Map(),
    installations: new Map(),
    agents: new Map(),
    bots: new Map(),
    customers: new Map(),
    webhooks: [],
    botTokens: new Map(),
    chats: new Map(),
    threadOwners: new Map(),
  };
  const requireOrganization = (id: string, what: string) => {
    if (!store.organizations.has(id)) {
      throw new Error(`seed: ${what} refers to unknown organization ${id}`);
    }
  };
  for (const org of seed.organizations) {
    store.organizations.set(org.id, {
      id: org.id,
      name: org.name ?? org.id,
      region: org.region ?? DEFAULT_REGION,
    });
  }
  for (const app of seed.clientApps) {
    store.clientApps.set(app.clientId, { clientId: app.clientId, name: app.name ?? app.clientId });
    for (const organizationId of app.installedIn ?? []) {
      requireOrganization(organizationId, `client app ${app.clientId}`);
      // Installing an app enables its license webhooks
      // (https://platform.text.com/docs/management/configuration-api#enable-license-webhooks).
      store.installations.set(installationKey(organizationId, app.clientId), {
        organizationId,
        clientId: app.clientId,
        licenseWebhooksEnabled: true,
      });
    }
  }
  for (const account of seed.accounts) {
    requireOrganization(account.organizationId, `account ${account.accountId}`);
    store.agents.set(account.agentId, {
      id: account.agentId,
      role: account.role ?? 'owner',
      accountId: account.accountId,
      organizationId: account.organizationId,
      name: account.name ?? account.agentId,
      avatar: 'https://cdn.livechat-files.com/api/file/lc/avatar/sandbox.png',
      routingStatus: account.routingStatus ?? 'accepting_chats',
      pat: account.pat,
      agentToken: account.agentToken,
      agentTokenClientId: account.agentTokenClientId,
      scopes: new Set(account.scopes ?? ALL_SCOPES),
    });
  }
  for (const bot of seed.bots ?? []) {
    requireOrganization(bot.organizationId, `bot ${bot.id}`);
    store.bots.set(
      bot.id,
      defaultBot({
        id: bot.id,
        secret: bot.secret,
        organizationId: bot.organizationId,
        ownerClientId: bot.ownerClientId,
        name: bot.name,
        routingStatus: bot.routingStatus ?? 'offline',
        createdVia: 'seed',
      }),
    );
  }
  return store;
};

/** The latest thread of a chat (every chat has at least one). */
export const latestThread = (chat: Chat): Thread => {
  const thread = chat.threads.at(-1);
  if (!thread) {
    throw new Error(`chat ${chat.id} has no thread`);
  }
  return thread;
};
