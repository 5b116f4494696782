import { z } from 'zod';
import { mergeFields, NonEmptyText } from '../shared/settings-fields.js';

/** The form of a keyword that identifies it: lower case, inner whitespace collapsed. */
export const normaliseKeyword = (keyword: string): string =>
  keyword.trim().replace(/\s+/gu, ' ').toLocaleLowerCase('en-US');

const Suggestions = z.array(NonEmptyText);

const TagSuggestionsMap = z.record(
  z.string().min(1, { message: 'a tag name must not be empty' }),
  Suggestions,
);

// Keywords match case-insensitively, so two keys differing only in case would be one keyword
// configured twice.
const KeywordSuggestionsMap = z
  .record(z.string().trim().min(1, { message: 'a keyword must not be empty' }), Suggestions)
  .superRefine((byKeyword, ctx) => {
    const seen = new Map<string, string>();
    for (const keyword of Object.keys(byKeyword)) {
      const normalised = normaliseKeyword(keyword);
      const earlier = seen.get(normalised);
      if (earlier !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [keyword],
          message: `duplicates keyword ${JSON.stringify(earlier)} (keywords match case-insensitively)`,
        });
      }
      seen.set(normalised, keyword);
    }
  });

/**
 * canned-responses: suggestions whispered to agents per thread tag (exact, case-sensitive
 * name) and per keyword (whole words/phrases in customer messages, case-insensitive).
 */
export const CannedResponsesSettings = z.strictObject({
  enabled: z.boolean().default(true),
  byTag: TagSuggestionsMap.default({}),
  byKeyword: KeywordSuggestionsMap.default({}),
});
export type CannedResponsesSettings = z.output<typeof CannedResponsesSettings>;

export const CannedResponsesOverride = z.strictObject({
  enabled: z.boolean().optional(),
  byTag: TagSuggestionsMap.optional(),
  byKeyword: KeywordSuggestionsMap.optional(),
});
export type CannedResponsesOverride = z.output<typeof CannedResponsesOverride>;

// Per key: an override's list replaces the default's list for that key (`[]` silences it).
// Keywords are compared case-insensitively, so `Order` overrides a default `order`.
const mergeByKeyword = (
  base: Record<string, string[]>,
  override: Record<string, string[]> | undefined,
): Record<string, string[]> => {
  if (override === undefined) {
    return base;
  }
  const overridden = new Set(Object.keys(override).map(normaliseKeyword));
  const kept = Object.entries(base).filter(
    ([keyword]) => !overridden.has(normaliseKeyword(keyword)),
  );
  return { ...Object.fromEntries(kept), ...override };
};

/** `enabled` is replaced; `byTag`/`byKeyword` merge per key. */
export const mergeCannedResponses = (
  defaults: CannedResponsesSettings,
  override: CannedResponsesOverride | undefined,
): CannedResponsesSettings => ({
  ...mergeFields(defaults, override),
  byTag: { ...defaults.byTag, ...override?.byTag },
  byKeyword: mergeByKeyword(defaults.byKeyword, override?.byKeyword),
});
