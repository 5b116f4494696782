import { defineRule } from '../rule.js';
import { IDLE_REPLY_ID, IDLE_WHISPER_ID } from './decide.js';
import { nudgeJob } from './job.js';
import { idleReplyRequest, routeIdleReply } from './route.js';
import { IdleReplyOverride, IdleReplySettings, mergeIdleReply } from './settings.js';

/** Idle reply: a customer waits `afterSeconds` with no agent reply → the bot messages them. */
export const idleReply = defineRule({
  key: 'idleReply',
  queue: 'idle-reply',
  settings: IdleReplySettings,
  override: IdleReplyOverride,
  merge: mergeIdleReply,
  // Customer messages (re)start the timer, agents' answers and the thread closing stop it;
  // incoming_chat and user_added_to_chat also say who in the chat is a customer or an agent.
  webhooks: ['incoming_chat', 'incoming_event', 'chat_deactivated', 'user_added_to_chat'],
  customIds: [IDLE_REPLY_ID, IDLE_WHISPER_ID],
  route: routeIdleReply,
  requestFor: idleReplyRequest,
  jobs: { nudge: nudgeJob },
});
