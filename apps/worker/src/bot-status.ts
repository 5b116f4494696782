import type { LivechatClient, RoutingStatus } from '@nudge/livechat';
import {
  createRedisKeys,
  parseStored,
  REDIS_TTL_MS,
  type RedisClient,
  StoredRoutingStatus,
} from '@nudge/runtime';
import type { Logger } from '@nudge/telemetry';

export type BotStatus = RoutingStatus | 'unknown';

export type BotStatusGate = {
  /** Records a status announced by a routing_status_set webhook. */
  record: (organizationId: string, botId: string, status: RoutingStatus) => Promise<void>;
  /**
   * The bot's routing status (webhook cache, else list_routing_statuses, cached briefly), read
   * in one round trip with the values of `alsoGet`: other keys of Nudge's (in the same hash
   * slot on a cluster).
   */
  statusOf: (
    organizationId: string,
    botId: string,
    alsoGet?: readonly string[],
  ) => Promise<{ status: BotStatus; values: (string | null)[] }>;
};

type CreateBotStatusGateOptions = {
  redis: RedisClient;
  /** The prefix of Nudge's keys (`RedisLayout.keyPrefix`). */
  prefix: string;
  /** A client allowed to call list_routing_statuses for the organization, if any. */
  statusReader: (organizationId: string) => LivechatClient | undefined;
  apiCacheMs?: number;
  log: Logger;
};

/**
 * Bots act only while `accepting_chats`. The status comes from routing_status_set webhooks
 * (cached in Redis for every worker); when none was seen, list_routing_statuses answers —
 * which needs agent-level scopes a bot token lacks, so it is asked with the organization's PAT
 * when one is configured. A status nobody can tell is `unknown`, and the rules don't act.
 */
export const createBotStatusGate = ({
  redis,
  prefix,
  statusReader,
  apiCacheMs = 30_000,
  log,
}: CreateBotStatusGateOptions): BotStatusGate => {
  const warned = new Set<string>();
  const keys = createRedisKeys(prefix);
  /** Not cached: list_routing_statuses with a client that may, else `unknown`. */
  const askLivechat = async (organizationId: string, botId: string): Promise<BotStatus> => {
    const client = statusReader(organizationId);
    if (!client) {
      if (!warned.has(organizationId)) {
        warned.add(organizationId);
        log.warn(
          { organizationId },
          'bot routing status unknown: no routing_status_set webhook seen and no PAT or access token to ask LiveChat',
        );
      }
      return 'unknown';
    }
    const statuses = await client.listRoutingStatuses();
    const status = statuses.find((entry) => entry.agent_id === botId)?.status ?? 'offline';
    await redis.set(keys.botStatusFromApi(organizationId, botId), status, 'PX', apiCacheMs);
    return status;
  };
  const statusOf: BotStatusGate['statusOf'] = async (organizationId, botId, alsoGet = []) => {
    const [announced = null, fetched = null, ...values] = await redis.mget(
      keys.botStatus(organizationId, botId),
      keys.botStatusFromApi(organizationId, botId),
      ...alsoGet,
    );
    const cached =
      parseStored(StoredRoutingStatus, announced) ?? parseStored(StoredRoutingStatus, fetched);
    return { status: cached ?? (await askLivechat(organizationId, botId)), values };
  };
  return {
    record: async (organizationId, botId, status) => {
      await redis.set(keys.botStatus(organizationId, botId), status, 'PX', REDIS_TTL_MS.botStatus);
    },
    statusOf,
  };
};
