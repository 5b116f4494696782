import { fileURLToPath } from 'node:url';
import { fixtureEnvelope } from '@nudge/livechat/testing';
import { assertQueueRedisPolicy, EVENTS_QUEUE, QUEUE_NAMES } from '@nudge/queues';
import { createRedisLayout, hashTagOf } from '@nudge/runtime';
import {
  connectRedis,
  connectRedisCluster,
  createTestPrefix,
  missingRedisClusterSupport,
  type RedisCluster,
  startNodeProcess,
  startRedisCluster,
  waitFor,
} from '@nudge/testing';
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metricSample, PREFIX, runCli, waitForBotEventsIn } from './e2e-helpers.js';
import { describeRuleScenarios } from './rule-scenarios.js';
import { startStack } from './stack.js';

// Every process on a real Redis Cluster of three primaries (no replicas): the rule scenarios of
// rules.e2e.test.ts, where each queue is in a slot of its own and the queues on different
// shards, then the key layout as measured in the cluster, the start-up policy check of every
// primary, the probes, the dashboard and the CLI.

const missing = missingRedisClusterSupport();

if (missing !== undefined) {
  describe('on a Redis Cluster', () => {
    // Said, not silent; and where CI said the tools are there (.ci/run), a failure.
    it('needs redis-server and a redis-cli with --cluster (Redis 5 or later)', ({ skip }) => {
      const reason = `no local Redis Cluster: ${missing}`;
      if (process.env.NUDGE_CI_TOOLS) {
        expect.fail(`${reason}; NUDGE_CI_TOOLS is set, so it is required`);
      }
      skip(reason);
    });
  });
}

const QUEUES = Object.values(QUEUE_NAMES);
const WORKER_MAIN = fileURLToPath(import.meta.resolve('@nudge/worker/main'));

/** The port of the primary serving each slot, from CLUSTER SLOTS. */
const slotOwnersOf = async (redis: Cluster): Promise<(slot: number) => number> => {
  const ranges = await redis.cluster('SLOTS');
  return (slot) => {
    const port = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1];
    if (port === undefined) {
      throw new Error(`no primary serves slot ${slot}`);
    }
    return port;
  };
};

/** The primaries (ports) holding each queue of `prefix` in cluster mode. */
const queueOwners = async (
  redis: Cluster,
  ownerOf: (slot: number) => number,
  prefix: string,
): Promise<Map<string, number>> => {
  const layout = createRedisLayout(prefix, { cluster: true });
  const owners = await Promise.all(
    QUEUES.map(async (queue) => ownerOf(await redis.cluster('KEYSLOT', layout.queuePrefix(queue)))),
  );
  return new Map(QUEUES.map((queue, i) => [queue, owners[i] ?? -1]));
};

/** Every key of `node` matching `pattern`. */
const scanAll = async (node: Redis, pattern: string): Promise<string[]> => {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1_000);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  return keys;
};

describe.skipIf(missing !== undefined)('on a Redis Cluster of three primaries', () => {
  let cluster: RedisCluster;
  let redis: Cluster;
  let ownerOf: (slot: number) => number;
  let prefix: string;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    redis = connectRedisCluster(cluster.url);
    ownerOf = await slotOwnersOf(redis);
    // A test prefix whose four queues land on all three primaries, so the scenarios below
    // always run across shards (a random one puts them all on one primary 1 time in 27).
    for (;;) {
      const candidate = createTestPrefix();
      const owners = await queueOwners(redis, ownerOf, candidate);
      if (new Set(owners.values()).size === cluster.ports.length) {
        prefix = candidate;
        break;
      }
    }
  }, 30_000);
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
  });

  const stack = describeRuleScenarios(() =>
    startStack({ sharedRedisUrl: cluster.url, cluster: true, prefix }),
  );

  describe('key layout', () => {
    it('spreads the four queues of the default QUEUE_PREFIX over all three primaries', async () => {
      const owners = await queueOwners(redis, ownerOf, 'nudge');
      expect(new Set(owners.values())).toEqual(new Set(cluster.ports));
      // Nudge's own keys: one slot ({nudge}), whichever primary serves it.
      const own = await redis.cluster(
        'KEYSLOT',
        createRedisLayout('nudge', { cluster: true }).keyPrefix,
      );
      expect(cluster.ports).toContain(ownerOf(own));
    });

    it("keeps each queue's keys in one slot, and Nudge's keys in one slot of their own", async () => {
      const layout = stack().layout;
      const byTag = new Map<string, { keys: string[]; ports: Set<number> }>();
      for (const node of redis.nodes('master')) {
        for (const key of await scanAll(node, `*${prefix}*`)) {
          const tag = hashTagOf(key) ?? key;
          const group = byTag.get(tag) ?? { keys: [], ports: new Set<number>() };
          group.keys.push(key);
          group.ports.add(node.options.port ?? -1);
          byTag.set(tag, group);
        }
      }
      const ownTag = hashTagOf(layout.keyPrefix) ?? '';
      const queueTags = QUEUES.map((queue) => hashTagOf(layout.queuePrefix(queue)) ?? '');
      // Nothing is stored outside the layout: every key carries Nudge's tag or a queue's.
      expect(new Set(byTag.keys())).toEqual(new Set([ownTag, ...queueTags]));
      for (const [tag, { ports }] of byTag) {
        // One slot, served by the primary that owns it.
        expect([...ports]).toEqual([ownerOf(await redis.cluster('KEYSLOT', `{${tag}}`))]);
      }
      const ownKinds = new Set(
        byTag.get(ownTag)?.keys.map((key) => key.slice(layout.keyPrefix.length + 1).split(':')[0]),
      );
      for (const kind of ['dedupe', 'sent', 'bot-status', 'chat-users', 'chat-jobs', 'bot-token']) {
        expect(ownKinds).toContain(kind);
      }
      // The queues the scenarios used sit on every primary.
      const queuePorts = queueTags.flatMap((tag) => [...(byTag.get(tag)?.ports ?? [])]);
      expect(new Set(queuePorts)).toEqual(new Set(cluster.ports));
    });
  });

  describe('operations', () => {
    it('checks noeviction on every primary: one evicting shard stops a worker, naming it', async () => {
      expect(await assertQueueRedisPolicy(redis)).toMatchObject({
        evictionPolicy: 'noeviction',
        aofEnabled: true,
        servers: 3,
      });
      const port = cluster.ports[2] ?? 0;
      const shard = connectRedis(`redis://127.0.0.1:${port}`);
      await shard.config('SET', 'maxmemory-policy', 'allkeys-lru');
      try {
        const named = new RegExp(`"allkeys-lru" on cluster primary 127\\.0\\.0\\.1:${port}`);
        await expect(assertQueueRedisPolicy(redis)).rejects.toThrow(named);
        const worker = startNodeProcess({ entry: WORKER_MAIN, env: stack().workerEnv });
        expect((await worker.exited).code).toBe(1);
        expect(worker.lines.some((line) => named.test(line.msg ?? ''))).toBe(true);
      } finally {
        await shard.config('SET', 'maxmemory-policy', 'noeviction');
        shard.disconnect();
      }
    });

    it('refuses a cluster node reached without REDIS_CLUSTER, saying to set it', async () => {
      const env = {
        ...stack().workerEnv,
        REDIS_URL: `redis://127.0.0.1:${cluster.ports[0] ?? 0}`,
        REDIS_CLUSTER: 'false',
      };
      const worker = startNodeProcess({ entry: WORKER_MAIN, env });
      expect((await worker.exited).code).toBe(1);
      const said = /Redis Cluster node \(cluster_enabled:1\): set REDIS_CLUSTER=true/;
      expect(
        worker.lines.some((line) => said.test(line.msg ?? '')),
        worker.output(),
      ).toBe(true);
      const doctor = await runCli(['doctor', '--url', 'https://nudge.example.com/hooks'], env);
      expect(doctor.output).toContain(
        `✗ Redis at ${env.REDIS_URL} is a Redis Cluster node — set REDIS_CLUSTER=true`,
      );
    });

    it('answers the probes, and the dashboard finds a chat and counts jobs across the shards', async () => {
      const running = stack();
      const ready = running.workers[0]?.lines.find((line) => line.msg === 'worker ready');
      const probes = [
        `http://127.0.0.1:${String(ready?.metricsPort)}/readyz`,
        new URL('/readyz', running.ingestUrl).href,
      ];
      const { url } = await running.startDashboard({ DASHBOARD_AUTH: 'off' });
      probes.push(`${url}/readyz`);
      // A process that just started may still be joining the cluster: not ready, for a moment.
      for (const probe of probes) {
        await waitFor(async () => (await fetch(probe)).status === 200, {
          timeoutMs: 5_000,
          what: `${probe} to answer 200`,
        });
      }

      // The route step acts on a whisper itself; LiveChat failing its first call hands it to
      // its rule's queue instead (retried there). One refused call each, in turn: the tag's
      // whisper and the rating's reaction are jobs of their queues, on their own slots.
      const { agentId } = running.sandbox.credentials;
      const { faults, scenario } = running.sandbox;
      const { chatId, threadId } = scenario.openChat({ agentIds: [agentId] });
      faults.add({ action: 'send_event', mode: 'error', errorType: 'internal', times: 1 });
      scenario.tag({ chatId, threadId, tag: 'refund' });
      await waitForBotEventsIn(running, chatId, PREFIX.tag);
      faults.add({ action: 'send_event', mode: 'error', errorType: 'internal', times: 1 });
      scenario.rate({ chatId, score: 1 });
      await waitForBotEventsIn(running, chatId, PREFIX.rating);
      // Webhooks (livechat-events), the whisper (canned-responses) and the reaction
      // (rating-reactions): three queues, three slots.
      const queues = await waitFor(
        async () => {
          const page = await (await fetch(`${url}/chats?chat=${chatId}`)).text();
          const rows = [...page.matchAll(/<tr data-queue="([^"]*)"[^>]*data-state="([^"]*)"/g)];
          const found = new Set(rows.map(([, queue]) => queue));
          // The webhooks' rows too: ingest writes their index entries in batches (50 ms).
          const done =
            found.has('livechat-events') &&
            found.has('canned-responses') &&
            found.has('rating-reactions') &&
            rows.every(([, , state]) => state === 'completed');
          return done ? found : undefined;
        },
        { what: `every job of chat ${chatId} completed on its page` },
      );
      expect(queues).toEqual(new Set(['livechat-events', 'canned-responses', 'rating-reactions']));
      const metrics = await (await fetch(`${url}/metrics`)).text();
      for (const queue of QUEUES) {
        const completed = metricSample(metrics, 'nudge_queue_jobs', { queue, state: 'completed' });
        expect(completed, queue).toBeGreaterThan(0);
      }
    });

    it('nudge status and nudge doctor read every queue and every primary', async () => {
      const env = stack().workerEnv;
      const status = await runCli(['status'], env);
      expect(status.output).toContain(`queues (${cluster.url}, cluster, prefix ${prefix})`);
      for (const queue of QUEUES) {
        expect(status.output).toMatch(new RegExp(`^ {2}${queue} +waiting \\d+ .* workers 1$`, 'm'));
      }
      expect(status.code, status.output).toBe(0);

      const doctor = await runCli(['doctor', '--url', 'https://nudge.example.com/hooks'], env);
      expect(doctor.output).toContain(`✓ Redis Cluster reachable at ${cluster.url} (3 primaries)`);
      expect(doctor.output).toContain('✓ Redis maxmemory-policy noeviction');
      expect(doctor.output).toContain('✓ Redis persistence on (AOF)');
    });

    // Last: it pauses a shard under the running stack.
    it('ingest answers 503 at once while the shard of livechat-events is away, 200 once it is back', async () => {
      const running = stack();
      const port = ownerOf(
        await redis.cluster('KEYSLOT', running.layout.queuePrefix(EVENTS_QUEUE)),
      );
      const readyz = new URL('/readyz', running.ingestUrl).href;
      const post = async (eventId: string) => {
        const envelope = fixtureEnvelope('incoming_event', { secret: running.webhookSecret });
        envelope.payload.event = { ...(envelope.payload.event as object), id: eventId };
        const response = await fetch(running.ingestUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(envelope),
        });
        await response.arrayBuffer();
        return response.status;
      };
      expect(await post('CLUSTER_BEFORE')).toBe(200);
      cluster.pause(port);
      try {
        const started = Date.now();
        expect(await post('CLUSTER_DURING')).toBe(503);
        expect(Date.now() - started).toBeLessThan(2_000);
        expect((await fetch(readyz)).status).toBe(503);
      } finally {
        cluster.resume(port);
      }
      await waitFor(async () => (await post('CLUSTER_AFTER')) === 200, {
        what: 'a 200 once the shard answers again',
      });
      expect((await fetch(readyz)).status).toBe(200);
    });
  });
});
