import { z } from 'zod';

/** What every rule job's data starts with: where it acts. */
export const ChatJobData = {
  organizationId: z.string().min(1),
  chatId: z.string().min(1),
  threadId: z.string().min(1),
};
