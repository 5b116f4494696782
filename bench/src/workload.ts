import { FIXTURES, type FixtureEnvelope } from '@nudge/livechat/testing';

// A realistic mix of LiveChat webhooks, each with unique ids (so deduplication never makes a
// server look faster than it is). Shares per 100 deliveries:
const MIX: [number, (n: string) => FixtureEnvelope][] = [
  [
    60,
    (n) =>
      message(
        n,
        'b7eff798-f8df-4364-8059-649c35c9ed0c',
        'Hi, where is my order #1234? It was due yesterday.',
      ),
  ],
  [10, (n) => message(n, 'smith@example.com', 'Let me check that for you.')],
  [8, (n) => incomingChat(n)],
  [8, (n) => withPayload('thread_tagged', { chat_id: `C${n}`, thread_id: `T${n}`, tag: 'refund' })],
  [
    6,
    (n) =>
      withPayload('thread_properties_updated', {
        chat_id: `C${n}`,
        thread_id: `T${n}`,
        properties: { rating: { score: 1, comment: 'Great help' } },
      }),
  ],
  [
    5,
    (n) =>
      withPayload('chat_deactivated', {
        chat_id: `C${n}`,
        thread_id: `T${n}`,
        user_id: 'smith@example.com',
      }),
  ],
  [3, (n) => withPayload('routing_status_set', { agent_id: `bot${n}`, status: 'accepting chats' })],
];

const withPayload = (
  action: keyof typeof FIXTURES,
  payload: FixtureEnvelope['payload'],
): FixtureEnvelope => ({
  ...structuredClone(FIXTURES[action]),
  payload,
});

const message = (n: string, author: string, text: string) =>
  withPayload('incoming_event', {
    chat_id: `C${n}`,
    thread_id: `T${n}`,
    event: {
      id: `T${n}_1`,
      created_at: '2024-05-07T10:11:12.345678Z',
      type: 'message',
      text,
      author_id: author,
      visibility: 'all',
    },
  });

const incomingChat = (n: string) => {
  const envelope = structuredClone(FIXTURES.incoming_chat) as FixtureEnvelope;
  const json = JSON.stringify(envelope)
    .replaceAll('PS0X0L086G', `C${n}`)
    .replaceAll('PZ070E0W1B', `T${n}`);
  return JSON.parse(json) as FixtureEnvelope;
};

const PLACEHOLDER = '@@N@@';

/** Returns a generator of webhook bodies signed with `secret`: call it once per request. */
export const createWorkload = (secret: string): (() => string) => {
  const templates: string[] = [];
  for (const [share, build] of MIX) {
    const body = JSON.stringify({ ...build(PLACEHOLDER), secret_key: secret });
    for (let i = 0; i < share; i += 1) {
      templates.push(body);
    }
  }
  let sent = 0;
  return () => {
    sent += 1;
    return (templates[sent % templates.length] as string).replaceAll(PLACEHOLDER, String(sent));
  };
};
