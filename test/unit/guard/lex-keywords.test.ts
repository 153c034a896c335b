/**
 * lexStats counts a word as a chain keyword exactly when `CHAIN_KEYWORDS.has(word.toUpperCase())`
 * (for words of at most 9 characters), as it did before its keyword check stopped allocating
 * (issue #13): ASCII words in any case, and words with other characters that toUpperCase maps to
 * a keyword ('ın' → 'IN', 'ſelect' → 'SELECT').
 */
import { describe, expect, it } from 'vitest';
import { lexStats } from '../../../src/guard/lex.js';

const KEYWORDS = [
  'NOT', 'UNION', 'INTERSECT', 'EXCEPT', 'JOIN', 'CASE', 'AT', 'COLLATE', 'IS', 'LIKE', 'ILIKE', 'SIMILAR',
  'BETWEEN', 'OVERLAPS', 'ISNULL', 'NOTNULL', 'IN', 'ANY', 'ALL', 'SOME', 'ARRAY', 'SELECT',
];
const SET = new Set(KEYWORDS);

/** The count the previous implementation gave for `x <word> y` (no operators, no other keywords). */
function expected(word: string): number {
  return word.length <= 9 && SET.has(word.toUpperCase()) ? 1 : 0;
}

function chainOf(word: string): number {
  return lexStats(`x ${word} y`).chainTokens;
}

describe('lexStats chain keywords', () => {
  it('every keyword in upper, lower and mixed case; near misses are not', () => {
    for (const k of KEYWORDS) {
      for (const w of [k, k.toLowerCase(), k[0] + k.slice(1).toLowerCase(), k.toLowerCase() + 's', k.slice(0, -1), `${k}_`, `${k}1`, `${k}$`]) {
        expect(chainOf(w), w).toBe(expected(w));
      }
    }
  });

  it('non-ASCII words count as toUpperCase says (dotless i, long s, ligatures, sharp s)', () => {
    for (const w of ['ın', 'ıs', 'ſelect', 'ſome', 'jOın', 'ılıke', 'ﬁ', 'ß', 'ﬀ', 'ŉ', 'é', 'ın1', 'Ａll', 'aʟʟ']) {
      expect(chainOf(w), w).toBe(expected(w));
    }
    expect(chainOf('ın')).toBe(1);
    expect(chainOf('ſelect')).toBe(1);
  });

  it('a word whose first character is ASCII and a later one is not takes the same path (iſ → IS)', () => {
    for (const w of ['iſ', 'joın', 'ſomE', 'arraı', 'selecſ', '_in', 'in_', '_', 'a\u00e9', 'unıon']) {
      expect(chainOf(w), w).toBe(expected(w));
    }
    expect(chainOf('iſ')).toBe(1);
    expect(chainOf('joın')).toBe(1);
  });

  it('random words over letters that matter agree with the previous rule', () => {
    const alphabet = ['a', 'A', 'i', 'I', 'ı', 'n', 'N', 's', 'S', 'ſ', 't', 'T', 'l', 'L', 'e', 'E', 'c', 'y', 'Y', 'o', 'u', 'j', 'r', 'k', 'ﬁ', '_', '1'];
    let seed = 1234567;
    const rnd = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    for (let t = 0; t < 20_000; t++) {
      const len = 1 + rnd(10);
      let w = ['a', 'I', 'ı', 'n', 's', 'ſ', 'S', 'j', 'u', 'l'][rnd(10)] as string;
      for (let i = 1; i < len; i++) w += alphabet[rnd(alphabet.length)];
      expect(chainOf(w), w).toBe(expected(w));
    }
  });
});
