import { type Bot, latestThread, type Store } from './store.js';

/** Bot group priorities routing assigns chats to, best first (`supervisor` never). */
const ROUTED_PRIORITIES = ['first', 'normal', 'last'];

/** Chats the bot is present in whose latest thread is active: what counts against its limit. */
const activeChatsOf = (store: Store, botId: string): number => {
  let count = 0;
  for (const chat of store.chats.values()) {
    if (
      latestThread(chat).active &&
      chat.members.some((member) => member.id === botId && member.present)
    ) {
      count += 1;
    }
  }
  return count;
};

/**
 * LiveChat's routing, simulated for bots only: a deliberate simplification, because a bot
 * being routed chats it was never meant to take is what Nudge must avoid (its bots are
 * `supervisor`). The chat goes to an `accepting_chats` bot of one of its groups with priority
 * `first`, `normal` or `last` — `supervisor` bots "will not get any chats assigned
 * automatically" — and a free slot (`max_chats_count`): `first` before `normal` before
 * `last`, ties to the bot with the fewest active chats. Human agents are never routed here
 * (scenarios put them in with `agentIds`).
 */
export const routedBot = (
  store: Store,
  organizationId: string,
  groupIds: readonly number[],
): Bot | undefined => {
  const candidates: Array<{ bot: Bot; rank: number; load: number }> = [];
  for (const bot of store.bots.values()) {
    if (bot.organizationId !== organizationId || bot.routingStatus !== 'accepting_chats') {
      continue;
    }
    const ranks = bot.groups
      .filter((group) => groupIds.includes(group.id))
      .map((group) => ROUTED_PRIORITIES.indexOf(group.priority))
      .filter((rank) => rank !== -1);
    const load = activeChatsOf(store, bot.id);
    if (ranks.length > 0 && load < bot.maxChatsCount) {
      candidates.push({ bot, rank: Math.min(...ranks), load });
    }
  }
  candidates.sort((a, b) => a.rank - b.rank || a.load - b.load);
  return candidates[0]?.bot;
};
