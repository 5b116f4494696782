// Reading a chat rating from its two signals: the thread property
// `rating.score` (documented int 0 = bad, 1 = good; https://platform.text.com/docs/messaging/references/default-properties#rating)
// plus `rating.comment`, and the system
// messages `rating.chat_rated` / `rating.chat_commented` / `rating.chat_rating_canceled`, whose
// `text_vars` are undocumented (third-party code reads `score: "good" | "bad"`, `comment`).

export type RatingScore = 0 | 1;

/** 0 | 1 from `0`/`1`, `"0"`/`"1"`, `"bad"`/`"good"` (any case); undefined for anything else. */
export const parseRatingScore = (value: unknown): RatingScore | undefined => {
  if (value === 0 || value === 1) {
    return value;
  }
  if (typeof value !== 'string') {
    return undefined;
  }
  switch (value.trim().toLowerCase()) {
    case '1':
    case 'good':
      return 1;
    case '0':
    case 'bad':
      return 0;
    default:
      return undefined;
  }
};

const nonEmptyText = (value: unknown): string | undefined =>
  typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;

type RatingProperty = { score?: RatingScore; comment?: string };

/** The `rating` namespace of thread properties (score and comment, each when valid). */
export const ratingFromProperties = (
  properties: Readonly<Record<string, Readonly<Record<string, unknown>>>> | undefined,
): RatingProperty => {
  const rating =
    properties !== undefined && Object.hasOwn(properties, 'rating') ? properties.rating : undefined;
  if (rating === undefined) {
    return {};
  }
  const score = parseRatingScore(rating.score);
  const comment = nonEmptyText(rating.comment);
  return {
    ...(score === undefined ? {} : { score }),
    ...(comment === undefined ? {} : { comment }),
  };
};

export type RatingSystemMessage =
  | { kind: 'rated'; score: RatingScore; comment?: string }
  | { kind: 'commented'; comment?: string }
  | { kind: 'canceled' };

type SystemMessageLike = {
  type: string;
  system_message_type?: unknown;
  text_vars?: Readonly<Record<string, unknown>> | undefined;
};

/**
 * What a rating system message says, or undefined for other events and for a
 * `rating.chat_rated` whose score can't be read.
 */
export const ratingFromSystemMessage = (
  event: SystemMessageLike,
): RatingSystemMessage | undefined => {
  if (event.type !== 'system_message') {
    return undefined;
  }
  const comment = nonEmptyText(event.text_vars?.comment);
  const withComment = comment === undefined ? {} : { comment };
  switch (event.system_message_type) {
    case 'rating.chat_rated': {
      const score = parseRatingScore(event.text_vars?.score);
      return score === undefined ? undefined : { kind: 'rated', score, ...withComment };
    }
    case 'rating.chat_commented':
      return { kind: 'commented', ...withComment };
    case 'rating.chat_rating_canceled':
      return { kind: 'canceled' };
    default:
      return undefined;
  }
};
