import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold, searchTerms, words } from '../../src/opensearch/search-terms.ts';

/** The folding as the contract's search reads it, without the ASCII shortcut. */
const slowFold = (text: string) =>
  text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
const slowWords = (text: string) => slowFold(text).match(/[\p{L}\p{N}]+/gu) ?? [];

describe('search terms', () => {
  it('fold and words give on ASCII what the Unicode folding gives', () => {
    const text = fc.oneof(fc.string(), fc.string({ unit: 'grapheme' }), fc.constantFrom('Émile Müller', 'ana.cruz@example.com', 'ＡＢＣ ｄｅｆ', 'ﬁne', 'O’Brien-Smith 2nd'));
    fc.assert(
      fc.property(text, (t) => {
        expect(fold(t)).toBe(slowFold(t));
        expect(words(t)).toEqual(slowWords(t));
      }),
      { numRuns: 2000 },
    );
  });

  it('finds a user by a word of the name or the email, without diacritics or case', () => {
    expect(searchTerms('Émile Müller', 'E.Muller@Example.com')).toEqual(['emile', 'muller', 'e', 'example', 'com', 'e.muller@example.com']);
  });
});
