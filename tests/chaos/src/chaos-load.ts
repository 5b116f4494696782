import { setTimeout as delay } from 'node:timers/promises';
import type { ChaosStack } from './chaos-stack.js';
import type { expectedActions } from './rows.js';

// The big run's load and its chaos: chats played at a steady pace while a supervisor kills a
// random worker now and then (and starts another, as an orchestrator would), Redis is killed
// (kill -9) and restarted on its AOF, and LiveChat answers 500s, rate-limits, hangs and
// rejects the bot's token for a while.

export const KEYWORD = 'where is my order';

export type ChaosLoadOptions = {
  chats: number;
  /** The chats are spread over this long; the chaos happens meanwhile. */
  durationMs: number;
  /** Roughly how often a worker is killed (randomly 0.5–1.5× this); 0: never. */
  killEveryMs: number;
  /** Redis kill -9 + restarts, evenly spread. */
  redisRestarts: number;
  /** How long Redis stays down each time. */
  redisOutageMs: number;
  /** 500s, too_many_requests, hangs and a rejected token along the way. */
  livechatFaults: boolean;
  expected: ReturnType<typeof expectedActions>;
};

export type ChaosLoadStats = { chats: number; workerKills: number; redisRestarts: number };

const randomBetween = (low: number, high: number) => low + Math.random() * (high - low);

/** Plays `chats` chats with the chaos described above; resolves once all are played. */
export const runChaosLoad = async (
  chaos: ChaosStack,
  options: ChaosLoadOptions,
): Promise<ChaosLoadStats> => {
  const { scenario, faults } = chaos.sandbox;
  const stats: ChaosLoadStats = { chats: 0, workerKills: 0, redisRestarts: 0 };
  const started = Date.now();
  const until = started + options.durationMs;
  const at = (fraction: number) => started + fraction * options.durationMs;
  const sleepUntil = (time: number) => delay(Math.max(0, time - Date.now()));

  const play = async () => {
    for (let i = 0; i < options.chats; i += 1) {
      const score = i % 2 === 0 ? 1 : 0;
      const chat = scenario.openChat({ message: `Hi, ${KEYWORD}? (#${i})` });
      const waiting = scenario.customerMessage({ chatId: chat.chatId, text: `Anyone? (#${i})` });
      scenario.tag({ chatId: chat.chatId, tag: 'refund' });
      scenario.rate({ chatId: chat.chatId, score });
      options.expected.keyword(chat, KEYWORD);
      options.expected.tag(chat);
      options.expected.rating(chat, score);
      // No agent answers: the customer's last message is nudged after afterSeconds.
      options.expected.idle(chat, waiting.eventId);
      stats.chats += 1;
      await sleepUntil(at((i + 1) / options.chats)); // the load's pace
    }
  };

  const killWorkers = async () => {
    if (options.killEveryMs <= 0) {
      return;
    }
    for (;;) {
      await delay(randomBetween(0.5, 1.5) * options.killEveryMs); // the chaos's pace
      if (Date.now() >= until) {
        return;
      }
      const alive = chaos.chaosWorkers.filter(
        ({ proc }) => proc.child.exitCode === null && proc.child.signalCode === null,
      );
      const victim = alive[Math.floor(Math.random() * alive.length)];
      if (victim) {
        await chaos.kill(victim.proc, 'SIGKILL');
        stats.workerKills += 1;
        await chaos.startWorkers(1);
      }
    }
  };

  const restartRedis = async () => {
    for (let i = 1; i <= options.redisRestarts; i += 1) {
      await sleepUntil(at(i / (options.redisRestarts + 1)));
      await chaos.redisServer.kill('SIGKILL');
      await delay(options.redisOutageMs); // the outage
      await chaos.redisServer.restart();
      stats.redisRestarts += 1;
    }
  };

  const livechatFaults = async () => {
    if (!options.livechatFaults) {
      return;
    }
    await sleepUntil(at(0.15));
    faults.add({
      action: 'send_event',
      mode: 'error',
      errorType: 'internal',
      status: 500,
      times: 5,
    });
    await sleepUntil(at(0.4));
    faults.add({ action: 'send_event', mode: 'error', errorType: 'too_many_requests', times: 1 });
    await sleepUntil(at(0.55));
    const hang = faults.add({ action: 'get_chat', mode: 'hang', times: 2 });
    await sleepUntil(at(0.7));
    faults.remove(hang.id);
    await sleepUntil(at(0.85));
    faults.add({ action: 'send_event', mode: 'error', errorType: 'authentication', times: 1 });
  };

  await Promise.all([play(), killWorkers(), restartRedis(), livechatFaults()]);
  return stats;
};
