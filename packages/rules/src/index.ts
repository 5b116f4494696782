export {
  BusinessHours,
  isValidTimeZone,
  isWithinBusinessHours,
  localTimeIn,
  TimeRange,
  WEEKDAYS,
  type Weekday,
} from './business-hours.js';
export {
  type AuthorKind,
  type ClassifyAuthorOptions,
  classifyAuthor,
  customerVisibleText,
  isAnswerEvent,
  isWaitingEvent,
  type KnownUser,
  knownUsersFrom,
  toUserType,
  type UserType,
  usersFromIncomingChat,
  usersFromUserAddedToChat,
} from './classify.js';
export {
  CUSTOM_ID_PREFIXES,
  type CustomIdInput,
  type CustomIdRule,
  customIdFor,
  isOurCustomId,
} from './custom-id.js';
export { configuredKeyword, findKeywords, keywordPattern } from './keywords.js';
export {
  parseRatingScore,
  type RatingProperty,
  type RatingScore,
  type RatingSystemMessage,
  ratingFromProperties,
  ratingFromSystemMessage,
} from './rating.js';
export {
  type CancelIdleReplyIntent,
  type ReactToRatingIntent,
  type RememberUsersIntent,
  type RouteInput,
  type RouteIntent,
  routeWebhook,
  type ScheduleIdleReplyIntent,
  type SetRoutingStatusIntent,
  type SuggestForKeywordIntent,
  type SuggestForTagIntent,
} from './route.js';
export {
  CannedResponsesOverride,
  CannedResponsesSettings,
  DEFAULT_BAD_RATING_TEXT,
  DEFAULT_GOOD_RATING_TEXT,
  DEFAULT_IDLE_MESSAGE,
  IdleReplyOverride,
  IdleReplySettings,
  KeywordSuggestionsMap,
  mergeRuleSettings,
  normaliseKeyword,
  PartialRuleSettings,
  RatingReactionsOverride,
  RatingReactionsSettings,
  REVIEW_URL_PLACEHOLDER,
  RuleSettings,
  type RuleSettingsInput,
  TagSuggestionsMap,
} from './settings.js';
export {
  ChatSnapshot,
  parseTimestamp,
  SnapshotEvent,
  SnapshotUser,
} from './snapshot.js';
