import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CUSTOM_ID_PREFIXES, type CustomIdRule, customIdFor, isOurCustomId } from './custom-ids.js';

const RULES = Object.keys(CUSTOM_ID_PREFIXES) as CustomIdRule[];

const input = fc.record({
  rule: fc.constantFrom(...RULES),
  organizationId: fc.string(),
  chatId: fc.string(),
  threadId: fc.string(),
  key: fc.string(),
});

describe('customIdFor', () => {
  it('is stable, prefixed per rule, short and recognised only for its rule', () => {
    fc.assert(
      fc.property(input, (value) => {
        const id = customIdFor(value);
        expect(customIdFor({ ...value })).toBe(id);
        expect(id.startsWith(CUSTOM_ID_PREFIXES[value.rule])).toBe(true);
        expect(id).toMatch(/^nudge-[a-z]+-[0-9a-f]{24}$/);
        expect(isOurCustomId(id)).toBe(true);
        for (const rule of RULES) {
          expect(isOurCustomId(id, rule)).toBe(rule === value.rule);
        }
      }),
    );
  });

  it('differs when any part differs, separators included', () => {
    fc.assert(
      fc.property(input, input, (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        expect(customIdFor(a)).not.toBe(customIdFor(b));
      }),
    );
    const base = { rule: 'tag' as const, organizationId: 'o', threadId: 't', key: 'k' };
    expect(customIdFor({ ...base, chatId: 'a', threadId: 'bc' })).not.toBe(
      customIdFor({ ...base, chatId: 'ab', threadId: 'c' }),
    );
  });

  it('does not claim foreign ids', () => {
    expect(isOurCustomId(undefined)).toBe(false);
    expect(isOurCustomId('nudge-idle-')).toBe(false);
    expect(isOurCustomId('nudge-idle-0123456789abcdef01234567x')).toBe(false);
    expect(isOurCustomId('x-nudge-idle-0123456789abcdef01234567')).toBe(false);
    expect(isOurCustomId('nudge-idle-0123456789abcdef01234567', 'idle-reply')).toBe(true);
    expect(isOurCustomId('nudge-idlew-0123456789abcdef01234567', 'idle-reply')).toBe(false);
  });
});
