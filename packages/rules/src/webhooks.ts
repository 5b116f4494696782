import type { WebhookAction } from '@nudge/livechat';
import type { RuleSettings } from './settings.js';

// Which LiveChat webhooks each rule needs, read off `routeWebhook` (route.ts): change both
// together. `nudge setup` registers the union for the rules that are enabled.

/** Every setup needs these: the bot status gate reads routing_status_set. */
export const ALWAYS_NEEDED: readonly WebhookAction[] = ['routing_status_set'];

export const WEBHOOKS_BY_RULE = {
  // Customer messages (re)start the timer, agents' answers and the thread closing stop it;
  // incoming_chat and user_added_to_chat also say who in the chat is a customer or an agent.
  idleReply: ['incoming_chat', 'incoming_event', 'chat_deactivated', 'user_added_to_chat'],
  // Tags, and keywords in customer messages (the first one arrives inside incoming_chat; an
  // edited message may add one); user_added_to_chat tells agents' messages from customers'.
  cannedResponses: [
    'thread_tagged',
    'incoming_chat',
    'incoming_event',
    'event_updated',
    'user_added_to_chat',
  ],
  // The rating thread property, and the rating system messages.
  ratingReactions: ['thread_properties_updated', 'incoming_event'],
} as const satisfies Record<keyof RuleSettings, readonly WebhookAction[]>;

/** The webhook actions the enabled rules of these settings need, in a stable order. */
export const webhookActionsFor = (settings: readonly RuleSettings[]): WebhookAction[] => {
  const needed = new Set<WebhookAction>(ALWAYS_NEEDED);
  for (const rules of settings) {
    for (const rule of Object.keys(WEBHOOKS_BY_RULE) as (keyof RuleSettings)[]) {
      if (rules[rule].enabled) {
        for (const action of WEBHOOKS_BY_RULE[rule]) {
          needed.add(action);
        }
      }
    }
  }
  return [...needed].sort();
};
