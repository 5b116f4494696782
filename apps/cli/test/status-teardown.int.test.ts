import { runStatus, runTeardown } from '@nudge/cli';
import { createWorkerConnection, QUEUE_NAMES } from '@nudge/queues';
import { connectRedis, deleteKeysWithPrefix } from '@nudge/testing';
import { Queue, Worker } from 'bullmq';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  type CliFixture,
  collect,
  PUBLIC_URL,
  registerForeignWebhook,
  setUpFixture,
  startCliFixture,
} from './helpers.js';

let fixture: CliFixture;
let botId: string;

beforeEach(async () => {
  fixture = await startCliFixture({ redisUrl: inject('redisUrl') });
  botId = await setUpFixture(fixture);
});
afterEach(async () => {
  await fixture.close();
  const redis = connectRedis(inject('redisUrl'));
  await deleteKeysWithPrefix(redis, fixture.env.QUEUE_PREFIX ?? '');
  redis.disconnect();
});

describe('nudge status', () => {
  it("shows the bot and its routing status, Nudge's webhooks, queue counts and workers", async () => {
    const redis = connectRedis(inject('redisUrl'));
    const prefix = fixture.env.QUEUE_PREFIX;
    const tags = new Queue(QUEUE_NAMES.cannedResponses, { connection: redis, prefix });
    await tags.add('tag-suggestions', { chatId: 'C1' });
    await tags.add('tag-suggestions', { chatId: 'C2' }, { delay: 60_000 });
    const workerConnection = createWorkerConnection(inject('redisUrl'));
    const worker = new Worker(QUEUE_NAMES.ratingReactions, async () => undefined, {
      connection: workerConnection,
      prefix,
    });
    await worker.waitUntilReady();
    try {
      const output = collect();
      expect(await runStatus({ context: await fixture.context(), out: output.out })).toBe(0);
      expect(output.lines).toContain(`organization ${fixture.sandbox.credentials.organizationId}`);
      expect(output.lines).toContain(
        `  bot Nudge (${botId}): accepting_chats; groups 0 supervisor`,
      );
      expect(output.lines).toContain('  webhooks: 8');
      expect(output.lines).toContainEqual(
        expect.stringMatching(new RegExp(`thread_tagged +bot → ${PUBLIC_URL}`)),
      );
      expect(output.lines).toContainEqual(
        expect.stringMatching(
          /canned-responses +waiting 1 {2}delayed 1 {2}active 0 {2}failed 0 {2}workers 0/,
        ),
      );
      expect(output.lines).toContainEqual(expect.stringMatching(/rating-reactions .* workers 1$/));
    } finally {
      await worker.close();
      await tags.close();
      workerConnection.disconnect();
      redis.disconnect();
    }
  });

  it('says what it could not read, and fails', async () => {
    fixture.env.REDIS_URL = 'redis://127.0.0.1:1';
    const output = collect();
    expect(await runStatus({ context: await fixture.context(), out: output.out })).toBe(1);
    expect(output.text()).toMatch(/Redis unreadable: connect ECONNREFUSED/);
  });
});

describe('nudge teardown', () => {
  it('removes what setup made after asking, and nothing when the answer is no', async () => {
    const theirs = await registerForeignWebhook(fixture);
    const questions: string[] = [];
    const declined = collect();
    expect(
      await runTeardown({
        context: await fixture.context(),
        confirm: async (question) => {
          questions.push(question);
          return false;
        },
        out: declined.out,
      }),
    ).toBeUndefined();
    expect(questions).toEqual(['Remove these 9 item(s)?']);
    expect(declined.lines.at(-1)).toBe('nothing changed');
    expect(fixture.sandbox.state.webhooks()).toHaveLength(9);

    const done = collect();
    expect(
      await runTeardown({
        context: await fixture.context(),
        confirm: async () => true,
        out: done.out,
      }),
    ).toBe(9);
    expect(fixture.sandbox.state.webhooks().map((webhook) => webhook.id)).toEqual([theirs]);
    expect(fixture.sandbox.state.bots()).toEqual([]);
    expect(done.text()).toContain(`delete bot Nudge (${botId})`);
  });

  it('sets a bot the operator made offline instead of deleting it', async () => {
    const { clientId } = fixture.sandbox.credentials;
    const own = await fixture.admin.createBot({ name: 'Mine', owner_client_id: clientId });
    fixture.env.OWN_SECRET = own.secret;
    await fixture.writeRules({ bot: { id: own.id, secret: 'env:OWN_SECRET' } });
    await fixture.admin.setRoutingStatus({ agent_id: own.id, status: 'accepting_chats' });
    const output = collect();
    await runTeardown({
      context: await fixture.context(),
      confirm: async () => true,
      out: output.out,
    });
    expect(output.text()).toContain(`set bot Mine (${own.id}) offline`);
    // The setup-made bot is found by its name and job title even though the file moved on.
    expect(output.text()).toContain(`delete bot Nudge (${botId})`);
    expect(fixture.sandbox.state.bots()).toEqual([
      expect.objectContaining({ id: own.id, routingStatus: 'offline' }),
    ]);
  });
});
