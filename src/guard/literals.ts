/**
 * String literals whose token boundaries depend on the server's standard_conforming_strings.
 *
 * Why: the guard parses with standard_conforming_strings = on (libpg-query), where a backslash in
 * '…' is an ordinary character. A server (database, role or cluster setting) with it off reads
 * `\'` as an escaped quote, so the same text splits into different tokens: what the guard judged
 * as the inside of a string literal runs as SQL there. Example, harmless to the guard, reading a
 * denied table on such a server:
 *
 *     SELECT '\'' , (SELECT secret FROM internal.api_keys) AS s, ' AS t -- '
 *
 * Guarantees: `hasAmbiguousStringLiteral` is true for any text that contains a plain '…' (or
 * N'…') literal which, lexed with backslash escapes, would end somewhere else than where the
 * guard's lexer ends it (a backslash before a quote); it is false for text without a backslash,
 * for E'…', dollar-quoted, bit and hex strings, and for backslashes that cannot move a boundary
 * (`'\d+'`, `'C:\temp'`). When the text cannot be scanned it answers true (fail closed).
 * Does not: make the values of literals setting-independent (`'a\nb'` still means two different
 * strings); the gateway's session should pin standard_conforming_strings = on as well.
 */
import { scanSync } from './pgquery.js';

interface ScanToken {
  text?: string;
  tokenName?: string;
}

/** Whether a plain '…' literal ends at the same quote when backslashes escape the next character. */
function sameEndWithEscapes(text: string): boolean {
  const n = text.length;
  let i = 1;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 92) {
      // backslash: escapes the next character (a quote too) when standard_conforming_strings is off
      i += 2;
      continue;
    }
    if (c === 39) {
      if (text.charCodeAt(i + 1) === 39) {
        i += 2;
        continue;
      }
      if (i === n - 1) return true;
      // a continuation: whitespace with a newline, then the next quoted segment
      let j = i + 1;
      let newline = false;
      while (j < n && /\s/.test(text[j] as string)) {
        if (text[j] === '\n' || text[j] === '\r') newline = true;
        j++;
      }
      if (newline && text.charCodeAt(j) === 39) {
        i = j + 1;
        continue;
      }
      return false;
    }
    i++;
  }
  return false; // with escapes the literal would not end inside this token
}

/** Whether the text has a string literal that standard_conforming_strings = off would lex differently. */
export function hasAmbiguousStringLiteral(sql: string): boolean {
  if (!sql.includes('\\')) return false;
  let tokens: ScanToken[];
  try {
    tokens = (scanSync(sql) as { tokens?: ScanToken[] }).tokens ?? [];
  } catch {
    return true;
  }
  for (const t of tokens) {
    if (t.tokenName !== 'SCONST') continue;
    const text = t.text ?? '';
    if (text.charCodeAt(0) !== 39 || !text.includes('\\')) continue;
    if (!sameEndWithEscapes(text)) return true;
  }
  return false;
}
