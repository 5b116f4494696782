import { describe, expect, it } from 'vitest';
import { chooseBot } from './act-once.js';

const organization = {
  organizationId: 'org-1',
  bots: [
    { id: 'bot-a', secret: 's' },
    { id: 'bot-b', secret: 's' },
  ],
};

describe('chooseBot', () => {
  it('picks the organization bot present in the chat, else the first', () => {
    expect(
      chooseBot(organization, { users: [{ id: 'bot-b', type: 'agent', present: true }] }),
    ).toBe('bot-b');
    expect(chooseBot(organization, { users: [] })).toBe('bot-a');
  });

  it('does not count a bot that left the chat (present: false)', () => {
    const users = [
      { id: 'bot-b', type: 'agent', present: false },
      { id: 'customer-1', type: 'customer', present: true },
    ];
    expect(chooseBot(organization, { users })).toBe('bot-a');
  });
});
