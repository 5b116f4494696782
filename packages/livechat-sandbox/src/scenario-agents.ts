import { notFound, validationError } from './errors.js';
import { createHexId } from './ids.js';
import { AGENT_APP, asBody, organizationOf, type ScenarioContext } from './scenario-context.js';
import { defaultBot, ROUTING_STATUSES, type RoutingStatus } from './store.js';
import { optionalEnum, optionalString, requireEnum, requireString } from './validate.js';

// Scenario steps for agents and bots outside chats: routing statuses, new bots.

export type RoutingStatusInput = { agentId: string; status: RoutingStatus };
export type BotStatusInput = { botId: string; status: RoutingStatus };
export type CreateBotInput = {
  name: string;
  /** Defaults to the first seeded client app. */
  ownerClientId?: string;
  organizationId?: string;
  /** Defaults to `offline`, like a bot made with create_bot. */
  status?: RoutingStatus;
};

const setStatus = (
  { store, chats }: ScenarioContext,
  organizationId: string,
  agentId: string,
  status: RoutingStatus,
) => {
  if (status === 'offline' && !store.bots.has(agentId)) {
    throw validationError('`status` offline is allowed for bots only');
  }
  chats.setRoutingStatus(organizationId, agentId, status, AGENT_APP);
};

export const setRoutingStatus = (
  context: ScenarioContext,
  input: RoutingStatusInput,
): RoutingStatusInput => {
  const body = asBody(input);
  const agentId = requireString(body, 'agentId');
  const status = requireEnum(body, 'status', ROUTING_STATUSES);
  const subject = context.store.bots.get(agentId) ?? context.store.agents.get(agentId);
  if (!subject) {
    throw notFound(`Agent not found: ${agentId}`);
  }
  setStatus(context, subject.organizationId, agentId, status);
  return { agentId, status };
};

export const setBotStatus = (context: ScenarioContext, input: BotStatusInput): BotStatusInput => {
  const body = asBody(input);
  const botId = requireString(body, 'botId');
  const status = requireEnum(body, 'status', ROUTING_STATUSES);
  const bot = context.store.bots.get(botId);
  if (!bot) {
    throw notFound(`Bot not found: ${botId}`);
  }
  setStatus(context, bot.organizationId, botId, status);
  return { botId, status };
};

export const createBot = (
  { store }: ScenarioContext,
  input: CreateBotInput,
): { id: string; secret: string } => {
  const body = asBody(input);
  const name = requireString(body, 'name');
  const ownerClientId =
    optionalString(body, 'ownerClientId') ?? store.clientApps.keys().next().value;
  if (ownerClientId === undefined || !store.clientApps.has(ownerClientId)) {
    throw validationError('`ownerClientId` must be a seeded client ID');
  }
  const organizationId = organizationOf(store, body);
  const status = optionalEnum(body, 'status', ROUTING_STATUSES) ?? 'offline';
  const bot = defaultBot({
    id: createHexId(),
    secret: createHexId(),
    organizationId,
    ownerClientId,
    name,
    routingStatus: status,
    createdVia: 'token',
  });
  store.bots.set(bot.id, bot);
  return { id: bot.id, secret: bot.secret };
};
