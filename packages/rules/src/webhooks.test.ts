import { WEBHOOK_ACTIONS, WEBHOOK_PAYLOADS, type WebhookAction } from '@nudge/livechat';
import {
  FIXTURE_AGENT_ID,
  FIXTURE_BOT_ID,
  FIXTURE_CUSTOMER_ID,
  FIXTURE_ORGANIZATION_ID,
  FIXTURES,
} from '@nudge/livechat/testing';
import { describe, expect, it } from 'vitest';
import { type RouteInput, routeWebhook } from './route.js';
import { RuleSettings } from './settings.js';
import { ALWAYS_NEEDED, WEBHOOKS_BY_RULE, webhookActionsFor } from './webhooks.js';

const RULES = Object.keys(WEBHOOKS_BY_RULE) as (keyof typeof WEBHOOKS_BY_RULE)[];

/** Settings with only `rule` enabled (or none), and something configured for each rule. */
const only = (rule: keyof RuleSettings | undefined): RuleSettings =>
  RuleSettings.parse({
    idleReply: { enabled: rule === 'idleReply' },
    cannedResponses: {
      enabled: rule === 'cannedResponses',
      byTag: { refund: ['Refunds take 3–5 business days.'] },
      byKeyword: { 'where is my order': ['Track it here'] },
    },
    ratingReactions: { enabled: rule === 'ratingReactions' },
  });

const withEvent = (fields: Record<string, unknown>) => ({
  ...structuredClone(FIXTURES.incoming_event.payload),
  event: { id: 'K600PKZON8_9', type: 'message', visibility: 'all', ...fields },
});

// Each action's fixture, plus the incoming_event variants the rules tell apart.
const SAMPLES: [WebhookAction, unknown][] = [
  ...WEBHOOK_ACTIONS.map((action): [WebhookAction, unknown] => [action, FIXTURES[action].payload]),
  ['incoming_event', withEvent({ text: 'Hello?', author_id: FIXTURE_CUSTOMER_ID })],
  [
    'incoming_chat',
    (() => {
      const payload = WEBHOOK_PAYLOADS.incoming_chat.parse(FIXTURES.incoming_chat.payload);
      payload.chat.thread.events.push({
        id: 'PZ070E0W1B_2',
        type: 'message',
        text: 'Where is my order?',
        author_id: FIXTURE_CUSTOMER_ID,
        visibility: 'all',
      });
      return payload;
    })(),
  ],
  ['incoming_event', withEvent({ text: 'On it', author_id: FIXTURE_AGENT_ID })],
  [
    'incoming_event',
    withEvent({
      type: 'system_message',
      system_message_type: 'rating.chat_rated',
      text_vars: { score: 'good' },
    }),
  ],
];

// Intents that act or schedule; `remember-users` only feeds the author classification of the
// rules that read messages, whatever is enabled.
const intentsOf = (action: WebhookAction, payload: unknown, settings: RuleSettings) =>
  routeIntents(action, payload, settings).filter((intent) => intent.kind !== 'remember-users');

const routeIntents = (action: WebhookAction, payload: unknown, settings: RuleSettings) =>
  routeWebhook({
    action,
    payload: WEBHOOK_PAYLOADS[action].parse(payload),
    organizationId: FIXTURE_ORGANIZATION_ID,
    botIds: new Set([FIXTURE_BOT_ID]),
    knownUsers: new Map([
      [FIXTURE_CUSTOMER_ID, 'customer'],
      [FIXTURE_AGENT_ID, 'agent'],
    ]),
    settings,
    now: Date.parse('2024-05-07T10:12:00Z'),
  } as RouteInput);

describe('webhookActionsFor', () => {
  it.each(RULES)('covers every webhook the %s rule reacts to, and no other', (rule) => {
    const settings = only(rule);
    const needed = new Set(webhookActionsFor([settings]));
    const reacting = new Set(
      SAMPLES.filter(([action, payload]) => intentsOf(action, payload, settings).length > 0).map(
        ([action]) => action,
      ),
    );
    // With no rule enabled only the always-needed webhooks (the bot status) do anything.
    const baseline = new Set(
      SAMPLES.filter(
        ([action, payload]) => intentsOf(action, payload, only(undefined)).length > 0,
      ).map(([action]) => action),
    );
    expect([...baseline].sort()).toEqual([...ALWAYS_NEEDED].sort());
    for (const action of reacting) {
      expect(needed).toContain(action);
    }
    // Beyond what acts, a rule that reads messages needs only what says who wrote them.
    const extra = [...needed].filter(
      (action) => !reacting.has(action) && !ALWAYS_NEEDED.includes(action),
    );
    expect(extra).toEqual(rule === 'ratingReactions' ? [] : ['user_added_to_chat']);
  });

  it('is the union over organizations, and only the bot status when every rule is off', () => {
    expect(webhookActionsFor([only(undefined)])).toEqual(['routing_status_set']);
    expect(webhookActionsFor([only('ratingReactions'), only('idleReply')])).toEqual(
      [
        ...new Set([
          ...WEBHOOKS_BY_RULE.ratingReactions,
          ...WEBHOOKS_BY_RULE.idleReply,
          'routing_status_set',
        ]),
      ].sort(),
    );
  });
});
