import type { JOB_CATALOG, QueueName } from '@nudge/queues';
import type { Handler } from './processor.js';
import { suggestForKeyword, suggestForTag } from './processors/canned-responses.js';
import { sendIdleReply } from './processors/idle-reply.js';
import { reactToRating } from './processors/rating-reactions.js';
import { routeEvent } from './processors/route.js';

// One handler per job name of each rule queue's catalog: a job added to the catalog without a
// handler here fails to compile.
type RuleHandlers = {
  [Q in keyof typeof JOB_CATALOG]: { [N in keyof (typeof JOB_CATALOG)[Q]]: Handler };
};

const RULE_HANDLERS = {
  'idle-reply': { nudge: sendIdleReply },
  'canned-responses': {
    'tag-suggestions': suggestForTag,
    'keyword-suggestions': suggestForKeyword,
  },
  'rating-reactions': { react: reactToRating },
} satisfies RuleHandlers;

/** Every queue's handlers; on `livechat-events` the job name is the LiveChat action, all routed. */
export const HANDLERS: Record<QueueName, Readonly<Record<string, Handler>>> = {
  'livechat-events': { '*': routeEvent },
  ...RULE_HANDLERS,
};
