/**
 * A linear, allocation-free pre-parse scan of SQL text, run before libpg-query sees long input.
 *
 * Why: libpg-query's parser, fingerprint and normalize are recursive C compiled to WASM. A very
 * deep expression (`1+1+…` with ~10k terms, thousands of nested sub-selects) overflows the
 * WASM stack: the call throws a RangeError after 100–300 ms and leaks several MB each time.
 * This scan estimates the nesting the input could produce and lets the guard refuse it as
 * STATEMENT_TOO_COMPLEX without calling the parser.
 *
 * Guarantees: O(n), no recursion; skips comments (nested block comments too), string literals
 * (standard, E'' escapes), quoted identifiers and dollar-quoted bodies, so operators inside them
 * are not counted. It is an estimate, not a parser: a miscount only changes whether the guard
 * refuses early; the parse result (and a caught RangeError) still decides.
 * Does not: validate the SQL.
 *
 * Size (#15 item 5): lexStats (~105 lines) stays one loop: it is a single pass over every character of
 * every statement before the parser runs (the first line of defence against a hostile text), and
 * keeping its state in locals of one loop is what keeps that pass cheap; its cases are commented.
 */

export interface LexStats {
  /** Deepest nesting of ( and [. */
  maxDepth: number;
  /** Tokens that can each add one level to a left-deep parse tree (operators, ::, NOT, UNION, JOIN, CASE…). */
  chainTokens: number;
  /** Whether any token other than whitespace and comments was seen. */
  hasTokens: boolean;
}

const CHAIN_KEYWORDS = new Set([
  'NOT', 'UNION', 'INTERSECT', 'EXCEPT', 'JOIN', 'CASE', 'AT', 'COLLATE', 'IS', 'LIKE', 'ILIKE', 'SIMILAR',
  'BETWEEN', 'OVERLAPS', 'ISNULL', 'NOTNULL', 'IN', 'ANY', 'ALL', 'SOME', 'ARRAY', 'SELECT',
]);

/**
 * CHAIN_KEYWORDS by length (0–9 characters) and first letter: index `length * 32 + (letter & 31)`
 * (the upper-case ASCII letter); most words have no candidate at all.
 */
const CHAIN_BY_SHAPE: readonly (readonly string[] | undefined)[] = (() => {
  const table: string[][] = [];
  for (const kw of CHAIN_KEYWORDS) (table[kw.length * 32 + (kw.charCodeAt(0) & 31)] ??= []).push(kw);
  return table;
})();

/**
 * Whether s[i, j) (1–9 characters) is a CHAIN_KEYWORDS word, as
 * `CHAIN_KEYWORDS.has(s.slice(i, j).toUpperCase())` says, without allocating for ASCII words (the
 * usual case; `ascii` false — a word with any other character — takes that exact path, since
 * toUpperCase maps some of them to ASCII letters: 'ı' → 'I').
 */
function isChainKeyword(s: string, i: number, j: number, ascii: boolean): boolean {
  if (!ascii) return CHAIN_KEYWORDS.has(s.slice(i, j).toUpperCase());
  const c0 = s.charCodeAt(i);
  // an identifier starts with a letter or _ (no keyword starts with _): c0 & 31 is the letter's index
  const candidates = c0 === 95 ? undefined : CHAIN_BY_SHAPE[(j - i) * 32 + (c0 & 31)];
  if (candidates === undefined) return false;
  next: for (const kw of candidates) {
    for (let k = 1; k < kw.length; k++) {
      const c = s.charCodeAt(i + k);
      if ((c >= 97 && c <= 122 ? c - 32 : c) !== kw.charCodeAt(k)) continue next;
    }
    return true;
  }
  return false;
}

function isOpChar(c: number): boolean {
  // + - * / < > = ~ ! @ # % ^ & | ` ?
  return (
    c === 43 || c === 45 || c === 42 || c === 47 || c === 60 || c === 62 || c === 61 || c === 126 || c === 33 ||
    c === 64 || c === 35 || c === 37 || c === 94 || c === 38 || c === 124 || c === 96 || c === 63
  );
}

function isIdentStart(c: number): boolean {
  return (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c >= 128;
}

function isIdentChar(c: number): boolean {
  return isIdentStart(c) || (c >= 48 && c <= 57) || c === 36;
}

/** isIdentChar for the ASCII range, as a table (1: an identifier character). */
const IDENT_ASCII: Uint8Array = Uint8Array.from({ length: 128 }, (_, c) => (isIdentChar(c) ? 1 : 0));

/** Skip a '…' literal starting at the quote; `backslash` for E'' strings. Returns the index after it. */
function skipString(s: string, i: number, backslash: boolean): number {
  const n = s.length;
  i++;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (backslash && c === 92) {
      i += 2;
      continue;
    }
    if (c === 39) {
      if (s.charCodeAt(i + 1) === 39) {
        i += 2;
        continue;
      }
      return i + 1;
    }
    i++;
  }
  return n;
}

export function lexStats(s: string): LexStats {
  const n = s.length;
  let depth = 0;
  let maxDepth = 0;
  let chain = 0;
  let hasTokens = false;
  let i = 0;
  while (i < n) {
    const c = s.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13 || c === 12) {
      i++;
      continue;
    }
    if (c === 45 && s.charCodeAt(i + 1) === 45) {
      const nl = s.indexOf('\n', i);
      i = nl === -1 ? n : nl + 1;
      continue;
    }
    if (c === 47 && s.charCodeAt(i + 1) === 42) {
      let level = 1;
      i += 2;
      while (i < n && level > 0) {
        if (s.charCodeAt(i) === 47 && s.charCodeAt(i + 1) === 42) {
          level++;
          i += 2;
        } else if (s.charCodeAt(i) === 42 && s.charCodeAt(i + 1) === 47) {
          level--;
          i += 2;
        } else i++;
      }
      continue;
    }
    hasTokens = true;
    if (c === 39) {
      i = skipString(s, i, false);
      continue;
    }
    if (c === 34) {
      const end = s.indexOf('"', i + 1);
      // "" inside a quoted identifier: keep scanning
      let j = end;
      while (j !== -1 && s.charCodeAt(j + 1) === 34) j = s.indexOf('"', j + 2);
      i = j === -1 ? n : j + 1;
      continue;
    }
    if (c === 36) {
      // $n parameter, or $tag$ … $tag$ dollar quote
      let j = i + 1;
      while (j < n && isIdentChar(s.charCodeAt(j)) && s.charCodeAt(j) !== 36) j++;
      if (s.charCodeAt(j) === 36 && !(s.charCodeAt(i + 1) >= 48 && s.charCodeAt(i + 1) <= 57)) {
        const tag = s.slice(i, j + 1);
        const end = s.indexOf(tag, j + 1);
        i = end === -1 ? n : end + tag.length;
        continue;
      }
      i = j;
      continue;
    }
    if (isIdentStart(c)) {
      let j = i + 1;
      let ascii = c < 128;
      for (; j < n; j++) {
        const d = s.charCodeAt(j);
        if (d >= 128) ascii = false;
        else if (IDENT_ASCII[d] !== 1) break;
      }
      const next = s.charCodeAt(j);
      if (next === 39) {
        // prefixed literal: E'…' (backslash escapes), U&'…', B'…', X'…', N'…'
        const escaped = j - i === 1 && (c === 69 || c === 101);
        i = skipString(s, j, escaped);
        continue;
      }
      if (j - i <= 9 && isChainKeyword(s, i, j, ascii)) chain++;
      i = j;
      continue;
    }
    if (c === 40 || c === 91) {
      depth++;
      if (depth > maxDepth) maxDepth = depth;
      i++;
      continue;
    }
    if (c === 41 || c === 93) {
      if (depth > 0) depth--;
      i++;
      continue;
    }
    if (c === 58 && s.charCodeAt(i + 1) === 58) {
      chain++;
      i += 2;
      continue;
    }
    if (isOpChar(c)) {
      chain++;
      i++;
      while (i < n && isOpChar(s.charCodeAt(i))) {
        const d = s.charCodeAt(i);
        if ((d === 45 && s.charCodeAt(i + 1) === 45) || (d === 47 && s.charCodeAt(i + 1) === 42)) break;
        i++;
      }
      continue;
    }
    i++;
  }
  return { maxDepth, chainTokens: chain, hasTokens };
}
