// Example webhooks, one per stored action, modelled on LiveChat's v3.5/v3.6 docs (field
// names and shapes from the Configuration API webhook reference and the Agent Chat data
// structures). Ids are made up; the secret is a placeholder that tests replace.

export const FIXTURE_ORGANIZATION_ID = '390e44e6-f1e6-0368-c6dd-74f14508c2e0';
export const FIXTURE_BOT_ID = '5c9871d5372c824cbf22d860a707a578';
export const FIXTURE_CUSTOMER_ID = 'b7eff798-f8df-4364-8059-649c35c9ed0c';
export const FIXTURE_AGENT_ID = 'smith@example.com';
const CHAT_ID = 'PJ0MRSHTDG';
const THREAD_ID = 'K600PKZON8';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type FixtureEnvelope = {
  webhook_id: string;
  secret_key: string;
  action: string;
  organization_id: string;
  payload: { [key: string]: Json };
  additional_data: { [key: string]: Json };
};

const envelope = (
  action: string,
  payload: FixtureEnvelope['payload'],
  additional_data: FixtureEnvelope['additional_data'] = {},
): FixtureEnvelope => ({
  webhook_id: 'b2f0c7d9a1e34f5c8d7e6f5a4b3c2d1e',
  secret_key: 'fixture-secret',
  action,
  organization_id: FIXTURE_ORGANIZATION_ID,
  payload,
  additional_data,
});

export const FIXTURES = {
  incoming_chat: envelope('incoming_chat', {
    chat: {
      id: 'PS0X0L086G',
      users: [
        {
          id: '345f8235-d60d-433e-63c5-7f813a6ffe25',
          type: 'customer',
          name: 'Jane',
          email: 'jane@example.com',
          present: true,
          last_visit: {
            started_at: '2024-05-07T10:00:01.000000Z',
            geolocation: { country_code: 'PL' },
          },
          statistics: { chats_count: 1, threads_count: 3, visits_count: 5 },
        },
        { id: FIXTURE_BOT_ID, type: 'agent', name: 'Helper Bot', present: true, visibility: 'all' },
      ],
      thread: {
        id: 'PZ070E0W1B',
        active: true,
        created_at: '2024-05-07T10:00:02.288340Z',
        user_ids: ['345f8235-d60d-433e-63c5-7f813a6ffe25', FIXTURE_BOT_ID],
        events: [
          {
            id: 'PZ070E0W1B_1',
            type: 'filled_form',
            form_id: '1473433500211',
            form_type: 'prechat',
            author_id: '345f8235-d60d-433e-63c5-7f813a6ffe25',
            created_at: '2024-05-07T10:00:02.300000Z',
            visibility: 'all',
            fields: [
              { type: 'name', id: '154417206262603539', label: 'Your name', answer: 'Jane' },
            ],
          },
        ],
        properties: {
          routing: { continuous: false, idle: false, unassigned: false },
          source: { client_id: 'c6e4f62e2a2dab12531235b12c5a2a6b' },
        },
        access: { group_ids: [0] },
      },
      properties: { routing: { continuous: false, pinned: false } },
      access: { group_ids: [0] },
    },
  }),
  incoming_event: envelope(
    'incoming_event',
    {
      chat_id: CHAT_ID,
      thread_id: THREAD_ID,
      event: {
        id: `${THREAD_ID}_4`,
        created_at: '2024-05-07T10:11:12.345678Z',
        type: 'message',
        text: 'Where is my order #1234?',
        author_id: FIXTURE_CUSTOMER_ID,
        visibility: 'all',
      },
    },
    { chat_presence_user_ids: [FIXTURE_CUSTOMER_ID, FIXTURE_BOT_ID] },
  ),
  event_updated: envelope('event_updated', {
    chat_id: CHAT_ID,
    thread_id: THREAD_ID,
    event: {
      id: `${THREAD_ID}_4`,
      created_at: '2024-05-07T10:11:12.345678Z',
      type: 'message',
      text: 'Where is my order #12345?',
      author_id: FIXTURE_CUSTOMER_ID,
      visibility: 'all',
    },
  }),
  thread_tagged: envelope('thread_tagged', {
    chat_id: CHAT_ID,
    thread_id: THREAD_ID,
    tag: 'refund',
  }),
  thread_untagged: envelope('thread_untagged', {
    chat_id: CHAT_ID,
    thread_id: THREAD_ID,
    tag: 'refund',
  }),
  chat_deactivated: envelope('chat_deactivated', {
    chat_id: CHAT_ID,
    thread_id: THREAD_ID,
    user_id: FIXTURE_AGENT_ID,
  }),
  chat_transferred: envelope('chat_transferred', {
    chat_id: CHAT_ID,
    thread_id: THREAD_ID,
    requester_id: FIXTURE_AGENT_ID,
    reason: 'manual',
    transferred_to: { group_ids: [1], agent_ids: ['jones@example.com'] },
    queue: { position: 1, wait_time: 0, queued_at: '2024-05-07T10:15:00.000000Z' },
  }),
  user_added_to_chat: envelope('user_added_to_chat', {
    chat_id: CHAT_ID,
    thread_id: THREAD_ID,
    user: {
      id: FIXTURE_AGENT_ID,
      type: 'agent',
      name: 'John Smith',
      present: true,
      visibility: 'all',
    },
    user_type: 'agent',
    reason: 'manual',
    requester_id: FIXTURE_AGENT_ID,
  }),
  thread_properties_updated: envelope('thread_properties_updated', {
    chat_id: CHAT_ID,
    thread_id: THREAD_ID,
    properties: { rating: { score: 1, comment: 'Well done!' } },
  }),
  thread_properties_deleted: envelope('thread_properties_deleted', {
    chat_id: CHAT_ID,
    thread_id: THREAD_ID,
    properties: { rating: ['score', 'comment'] },
  }),
  routing_status_set: envelope('routing_status_set', {
    agent_id: FIXTURE_BOT_ID,
    status: 'accepting chats',
  }),
} as const satisfies Record<string, FixtureEnvelope>;

/** A deep copy of a fixture with the given secret (and optional payload changes). */
export const fixtureEnvelope = (
  action: keyof typeof FIXTURES,
  {
    secret = 'fixture-secret',
    payload = {},
  }: { secret?: string; payload?: FixtureEnvelope['payload'] } = {},
): FixtureEnvelope => {
  const copy = structuredClone(FIXTURES[action]) as FixtureEnvelope;
  return { ...copy, secret_key: secret, payload: { ...copy.payload, ...payload } };
};
