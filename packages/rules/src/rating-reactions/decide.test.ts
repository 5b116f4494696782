import { describe, expect, it } from 'vitest';
import { customIdFor } from '../custom-ids.js';
import type { ChatSnapshot, SnapshotEvent } from '../shared/snapshot.js';
import { decideRatingReaction } from './decide.js';
import type { RatingScore } from './rating.js';
import {
  DEFAULT_BAD_RATING_TEXT,
  DEFAULT_GOOD_RATING_TEXT,
  RatingReactionsSettings,
} from './settings.js';

const ORG = 'org-1';
const DEFAULTS = RatingReactionsSettings.parse({});

const snapshot = (thread: Partial<ChatSnapshot['thread']> = {}): ChatSnapshot => ({
  id: 'chat-1',
  users: [],
  thread: { id: 'thread-1', active: true, events: [], ...thread },
});
const rating = (score: unknown, comment?: string) => ({
  properties: { rating: comment === undefined ? { score } : { score, comment } },
});
const system = (system_message_type: string, text_vars = {}): SnapshotEvent => ({
  id: `s-${system_message_type}`,
  type: 'system_message',
  system_message_type,
  text_vars,
});

const decide = (
  chat: ChatSnapshot,
  score: RatingScore,
  { comment, settings = DEFAULTS }: { comment?: string; settings?: RatingReactionsSettings } = {},
) =>
  decideRatingReaction({
    chat,
    organizationId: ORG,
    threadId: 'thread-1',
    score,
    comment,
    settings,
  });
const reasonOf = (decision: ReturnType<typeof decide>) => (decision.act ? 'act' : decision.reason);
const idFor = (score: RatingScore) =>
  customIdFor({
    rule: 'rating',
    organizationId: ORG,
    chatId: 'chat-1',
    threadId: 'thread-1',
    key: String(score),
  });

describe('decideRatingReaction', () => {
  it('whispers the good or bad text while the thread’s rating still has that score', () => {
    expect(decide(snapshot(rating(1)), 1)).toEqual({
      act: true,
      text: DEFAULT_GOOD_RATING_TEXT,
      customId: idFor(1),
      visibility: 'agents',
    });
    expect(decide(snapshot(rating('0')), 0)).toMatchObject({
      act: true,
      text: DEFAULT_BAD_RATING_TEXT,
    });
  });

  it('quotes the comment: the thread’s current one, else the job’s', () => {
    expect(decide(snapshot(rating(0, 'Slow answers')), 0, { comment: 'old' })).toMatchObject({
      text: `${DEFAULT_BAD_RATING_TEXT}\nTheir comment: "Slow answers"`,
    });
    expect(decide(snapshot(rating(0)), 0, { comment: 'From the job' })).toMatchObject({
      text: `${DEFAULT_BAD_RATING_TEXT}\nTheir comment: "From the job"`,
    });
    const commented = [system('rating.chat_commented', { comment: 'Later comment' })];
    expect(decide(snapshot({ ...rating(0), events: commented }), 0)).toMatchObject({
      text: `${DEFAULT_BAD_RATING_TEXT}\nTheir comment: "Later comment"`,
    });
  });

  it('substitutes or appends the review link', () => {
    const link = (good: string) =>
      decide(snapshot(rating(1)), 1, {
        settings: RatingReactionsSettings.parse({ good, reviewUrl: 'https://example.com/r' }),
      });
    expect(link('Ask for a review: {reviewUrl} — thanks!')).toMatchObject({
      text: 'Ask for a review: https://example.com/r — thanks!',
    });
    expect(link('Ask for a review.')).toMatchObject({
      text: 'Ask for a review. https://example.com/r',
    });
  });

  it('does not react to a score that changed since; the new score reacts anew', () => {
    const changed = snapshot(rating(0));
    expect(reasonOf(decide(changed, 1))).toBe('rating changed');
    const now = decide(changed, 0);
    expect(now).toMatchObject({ act: true, customId: idFor(0) });
    expect(idFor(0)).not.toBe(idFor(1));
  });

  it('acts without a rating property, unless the thread’s last rating message disagrees', () => {
    expect(reasonOf(decide(snapshot(), 1))).toBe('act');
    const ratedGood = system('rating.chat_rated', { score: 'good' });
    expect(reasonOf(decide(snapshot({ events: [ratedGood] }), 1))).toBe('act');
    expect(reasonOf(decide(snapshot({ events: [ratedGood] }), 0))).toBe('rating changed');
    const cancelled = [ratedGood, system('rating.chat_rating_canceled')];
    expect(reasonOf(decide(snapshot({ events: cancelled }), 1))).toBe('rating cancelled');
    // The property, when present, is the truth.
    expect(reasonOf(decide(snapshot({ ...rating(1), events: cancelled }), 1))).toBe('act');
  });

  it('does nothing in an inactive thread, when disabled, or when already sent', () => {
    expect(reasonOf(decide(snapshot({ ...rating(1), active: false }), 1))).toBe('thread inactive');
    expect(reasonOf(decide(snapshot({ ...rating(1), id: 'thread-0' }), 1))).toBe('other thread');
    const off = RatingReactionsSettings.parse({ enabled: false });
    expect(reasonOf(decide(snapshot(rating(1)), 1, { settings: off }))).toBe('disabled');
    const sent = { id: 'w', type: 'message', custom_id: idFor(1), visibility: 'agents' };
    expect(reasonOf(decide(snapshot({ ...rating(1), events: [sent] }), 1))).toBe('already sent');
  });
});
