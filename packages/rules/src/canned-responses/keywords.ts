import { normaliseKeyword } from './settings.js';

// A keyword matches as a whole word or phrase: not preceded or followed by a letter, digit or
// underscore (Unicode-aware, so "zamówienie" is one word), case-insensitive, and any run of
// whitespace in the text matches the single spaces of a phrase.
const WORD_CHAR = String.raw`[\p{L}\p{N}\p{M}_]`;

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/gu, '\\$&');

/** The regular expression matching `keyword` as a whole word/phrase, case-insensitively. */
export const keywordPattern = (keyword: string): RegExp => {
  const body = keyword.trim().split(/\s+/u).map(escapeRegExp).join(String.raw`\s+`);
  return new RegExp(`(?<!${WORD_CHAR})${body}(?!${WORD_CHAR})`, 'iu');
};

/** The configured keywords (as spelled in the config) that occur in `text`, in config order. */
export const findKeywords = (text: string, keywords: Iterable<string>): string[] =>
  [...keywords].filter((keyword) => keywordPattern(keyword).test(text));

/** The key of `byKeyword` that `keyword` names (exact, else case-insensitive), if configured. */
export const configuredKeyword = (
  byKeyword: Readonly<Record<string, readonly string[]>>,
  keyword: string,
): string | undefined => {
  if (Object.hasOwn(byKeyword, keyword)) {
    return keyword;
  }
  const wanted = normaliseKeyword(keyword);
  return Object.keys(byKeyword).find((candidate) => normaliseKeyword(candidate) === wanted);
};
