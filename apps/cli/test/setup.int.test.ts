import { runSetup, SetupError, secretFingerprint } from '@nudge/cli';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import {
  type CliFixture,
  collect,
  PUBLIC_URL,
  registerForeignWebhook,
  SECRET,
  startCliFixture,
} from './helpers.js';

const ALL_ACTIONS = [
  'chat_deactivated',
  'event_updated',
  'incoming_chat',
  'incoming_event',
  'routing_status_set',
  'thread_properties_updated',
  'thread_tagged',
  'user_added_to_chat',
];

let fixture: CliFixture;

beforeEach(async () => {
  fixture = await startCliFixture({ redisUrl: inject('redisUrl') });
});
afterEach(async () => {
  await fixture.close();
});

const setup = async (
  options: { url?: string; secret?: string; dryRun?: boolean; requireBotIds?: boolean } = {},
) => {
  const context = await fixture.context(options.requireBotIds ?? false);
  const output = collect();
  const report = await runSetup({
    rules: context.rules,
    adminClient: context.adminClient,
    url: options.url ?? PUBLIC_URL,
    secret: options.secret ?? SECRET,
    dryRun: options.dryRun ?? false,
    out: output.out,
  });
  return { ...report, output };
};

const webhooks = () =>
  fixture.sandbox.state
    .webhooks()
    .map(({ action, url, type, secretKey, filters }) => ({ action, url, type, secretKey, filters }))
    .sort((a, b) => a.action.localeCompare(b.action));

describe('nudge setup', () => {
  it('creates a bot routing never assigns chats, registers the rules’ webhooks, sets it accepting', async () => {
    const { bots, changes, output } = await setup();
    const [bot] = bots;
    expect(bot).toMatchObject({ created: true, secret: expect.any(String) });
    expect(output.text()).toContain(`bot: { id: ${bot?.id}, secret: env:NUDGE_BOT_SECRET }`);
    expect(output.text()).toContain(`NUDGE_BOT_SECRET=${bot?.secret}`);

    const created = await fixture.admin.getBot({ id: bot?.id ?? '', fields: ['groups'] });
    expect(created).toMatchObject({
      name: 'Nudge',
      default_group_priority: 'supervisor',
      groups: [{ id: 0, priority: 'supervisor' }],
    });
    expect(webhooks()).toEqual(
      ALL_ACTIONS.map((action) => ({
        action,
        url: PUBLIC_URL,
        type: 'bot',
        secretKey: SECRET,
        // The bot's own messages need no webhook: the route step ignores them anyway.
        filters:
          action === 'incoming_event' || action === 'event_updated'
            ? { source_type: ['other_clients', 'system'] }
            : {},
      })),
    );
    expect(fixture.sandbox.state.bots()).toEqual([
      expect.objectContaining({ id: bot?.id, routingStatus: 'accepting_chats' }),
    ]);
    expect(changes).toBe(1 + ALL_ACTIONS.length + 1);

    // LiveChat routes a new customer chat to an accepting bot unless its priority forbids it.
    const { chatId } = fixture.sandbox.scenario.openChat({ message: 'Hi' });
    const users = (fixture.sandbox.scenario.getChat({ chatId }) as { users: { id: string }[] })
      .users;
    expect(users.map((user) => user.id)).not.toContain(bot?.id);
  });

  it('twice leaves exactly one set of webhooks and one bot, and the second run changes nothing', async () => {
    const first = await setup();
    const id = first.bots[0]?.id ?? '';
    await fixture.writeRules({ bot: { id, secret: 'env:BOT_SECRET' } });
    fixture.env.BOT_SECRET = first.bots[0]?.secret ?? '';
    const before = fixture.sandbox.state.webhooks();

    const second = await setup();
    expect(second.changes).toBe(0);
    expect(second.output.lines.filter((line) => line.includes('kept'))).toHaveLength(
      1 + ALL_ACTIONS.length + 1,
    );
    expect(fixture.sandbox.state.webhooks()).toEqual(before);
    expect(fixture.sandbox.state.bots().map((bot) => bot.id)).toEqual([id]);

    // Run before the operator copied the bot into the file: found again, not created twice.
    await fixture.writeRules();
    const third = await setup();
    expect(third.output.text()).toContain(`found bot Nudge (${id}), created by an earlier setup`);
    expect(fixture.sandbox.state.bots()).toHaveLength(1);
    expect(fixture.sandbox.state.webhooks()).toEqual(before);
  });

  it('--dry-run reports what it would do and changes nothing', async () => {
    const { changes, output } = await setup({ dryRun: true });
    // The bot, and each webhook; the routing status waits for a bot that exists.
    expect(changes).toBe(1 + ALL_ACTIONS.length);
    expect(output.text()).toContain('would create bot Nudge');
    expect(output.text()).toContain('would register incoming_event');
    expect(fixture.sandbox.state.bots()).toEqual([]);
    expect(fixture.sandbox.state.webhooks()).toEqual([]);
  });

  it('replaces the webhooks when the URL or the secret changed, and drops those of disabled rules', async () => {
    const first = await setup();
    await fixture.writeRules(
      { bot: { id: first.bots[0]?.id, secret: 'env:BOT_SECRET' } },
      { idleReply: { enabled: false }, cannedResponses: { enabled: false } },
    );
    fixture.env.BOT_SECRET = first.bots[0]?.secret ?? '';
    const moved = 'https://new.example.com/livechat/webhooks';
    const { output } = await setup({ url: moved, secret: 'a-rotated-secret-9c1e' });
    expect(output.text()).toContain(`remove incoming_chat → ${PUBLIC_URL}`);
    expect(webhooks()).toEqual([
      expect.objectContaining({
        action: 'incoming_event',
        url: moved,
        secretKey: 'a-rotated-secret-9c1e',
      }),
      expect.objectContaining({ action: 'routing_status_set', url: moved }),
      expect.objectContaining({ action: 'thread_properties_updated', url: moved }),
    ]);
    const described = await fixture.admin.listWebhooks({
      owner_client_id: fixture.sandbox.credentials.clientId,
    });
    expect(
      described.every((webhook) =>
        webhook.description?.includes(secretFingerprint('a-rotated-secret-9c1e')),
      ),
    ).toBe(true);
  });

  it("leaves other apps' and the operator's own webhooks alone", async () => {
    const theirs = await registerForeignWebhook(fixture);
    await setup();
    expect(fixture.sandbox.state.webhooks().map((webhook) => webhook.id)).toContain(theirs);
  });

  it('moves a configured bot to supervisor priority in the served groups', async () => {
    const { clientId } = fixture.sandbox.credentials;
    const bot = await fixture.admin.createBot({ name: 'Helper', owner_client_id: clientId });
    await fixture.writeRules({ bot: { id: bot.id, secret: 'env:BOT_SECRET' }, groups: [0, 2] });
    fixture.env.BOT_SECRET = bot.secret;
    const { output } = await setup();
    expect(output.text()).toContain(
      `update bot Helper (${bot.id}): 0 supervisor, 2 supervisor (was 0 normal)`,
    );
    expect(await fixture.admin.getBot({ id: bot.id, fields: ['groups'] })).toMatchObject({
      groups: [
        { id: 0, priority: 'supervisor' },
        { id: 2, priority: 'supervisor' },
      ],
    });
  });

  it('keeps the priority an operator opted in to', async () => {
    await fixture.writeRules({ botPriority: 'normal' });
    const { bots } = await setup();
    expect(await fixture.admin.getBot({ id: bots[0]?.id ?? '', fields: ['groups'] })).toMatchObject(
      { groups: [{ id: 0, priority: 'normal' }] },
    );
  });

  it('stops with one clear line on what it cannot fix', async () => {
    await fixture.writeRules({ bot: { id: '0123456789abcdef0123456789abcdef', secret: 's' } });
    await expect(setup()).rejects.toThrow(
      /bot 0123456789abcdef0123456789abcdef does not exist in LiveChat: remove its id/,
    );
    await fixture.writeRules({ pat: undefined });
    await expect(setup()).rejects.toBeInstanceOf(SetupError);
    await expect(setup()).rejects.toThrow(/\.pat is not set/);
    expect(fixture.sandbox.state.webhooks()).toEqual([]);
  });
});
