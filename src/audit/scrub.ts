/**
 * Defensive scrubbing of audit fields, the backstop behind the gateway's own normalization.
 *
 * Guarantees: a string field written to the audit log never contains a DSN password or a
 * bearer token in the recognizable forms below; the `sql` field has every string literal,
 * dollar-quoted body, numeric literal and comment replaced (so even un-normalized text that
 * reaches it carries no values); reason codes are code-shaped; every string is length-capped.
 * Does not: understand SQL fully (a literal hidden in an identifier stays), nor detect secrets
 * in arbitrary free text; the gateway must pass normalized SQL in the first place.
 */

export const MAX_SQL_CHARS = 16_384;
export const MAX_FIELD_CHARS = 512;
export const MAX_LIST_ITEMS = 256;

const DSN_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^\s:/@'"]*:)[^\s@'"]*@/gi;
const KEYWORD_PASSWORD = /\b(password|passwd|pwd)(\s*=\s*)('[^']*'|"[^"]*"|[^\s'";]+)/gi;
const BEARER = /\bBearer\s+[A-Za-z0-9._~+/=-]+/gi;

/** Text that may hold one of the secrets below; anything else is returned as is (one regex test). */
const SECRET_HINT = /:\/\/|pass|pwd|bearer/i;

/** Replace DSN passwords, `password=…` pairs and bearer tokens. */
export function scrubSecrets(text: string): string {
  if (!SECRET_HINT.test(text)) return text;
  return text.replace(DSN_PASSWORD, '$1***@').replace(KEYWORD_PASSWORD, '$1$2***').replace(BEARER, 'Bearer ***');
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[truncated]`;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u001f\u007f]/g;

/** A free-text field: control characters stripped, secrets scrubbed, length capped. */
export function scrubField(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = typeof value === 'string' ? value : String(value);
  // test first: most fields have no control character, and replace() would scan and copy
  return clip(scrubSecrets(CONTROL.test(text) ? text.replace(CONTROLS, '?') : text), MAX_FIELD_CHARS);
}

const CODE = /^[A-Z][A-Z0-9_]{0,63}$/;

export function scrubReasons(list: readonly unknown[] | null | undefined): string[] {
  if (!list) return [];
  const out: string[] = [];
  for (const r of list.slice(0, MAX_LIST_ITEMS)) out.push(typeof r === 'string' && CODE.test(r) ? r : 'INVALID_REASON');
  return out;
}

export function scrubList(list: readonly unknown[] | null | undefined): string[] {
  if (!list) return [];
  const out: string[] = [];
  for (const r of list.slice(0, MAX_LIST_ITEMS)) out.push(scrubField(r) ?? '');
  return out;
}

const isIdentCode = (k: number): boolean =>
  (k >= 48 && k <= 57) || (k >= 65 && k <= 90) || (k >= 97 && k <= 122) || k === 95 || k === 36 || k >= 128;
const isDigitCode = (k: number): boolean => k >= 48 && k <= 57;
const QUOTE = 39; // '
const DQUOTE = 34; // "
const DOLLAR = 36;
const DASH = 45;
const SLASH = 47;
const STAR = 42;
const DOT = 46;
const BACKSLASH = 92;

/** End (exclusive) of a '…' literal starting at the quote at `i`; unterminated: the end of text. */
function endOfString(sql: string, i: number): number {
  const n = sql.length;
  let j = i + 1;
  while (j < n) {
    const k = sql.charCodeAt(j);
    if (k === BACKSLASH) j += 2;
    else if (k === QUOTE) {
      if (sql.charCodeAt(j + 1) === QUOTE) j += 2;
      else return j + 1;
    } else j += 1;
  }
  return n;
}

function endOfQuotedIdent(sql: string, i: number): number {
  const n = sql.length;
  let j = i + 1;
  while (j < n) {
    if (sql.charCodeAt(j) === DQUOTE) {
      if (sql.charCodeAt(j + 1) === DQUOTE) j += 2;
      else return j + 1;
    } else j += 1;
  }
  return n;
}

function endOfBlockComment(sql: string, i: number): number {
  const n = sql.length;
  let depth = 1;
  let j = i + 2;
  while (j < n && depth > 0) {
    const k = sql.charCodeAt(j);
    if (k === SLASH && sql.charCodeAt(j + 1) === STAR) {
      depth += 1;
      j += 2;
    } else if (k === STAR && sql.charCodeAt(j + 1) === SLASH) {
      depth -= 1;
      j += 2;
    } else j += 1;
  }
  return j;
}

const NUMBER = /(?:0[xXoObB][0-9A-Fa-f_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)/y;
const DOLLAR_TAG = /\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/y;
const PARAM = /\$\d+/y;
const PREFIX = /(?:^|[^A-Za-z0-9_$\u0080-\uffff])([EeBbXxNn]|[Uu]&)$/;

/**
 * Replace literal values in SQL text with `?` in one linear pass: '…' strings (E'', B'', X'',
 * N'', U&'' prefixes included), $tag$…$tag$ bodies, numeric literals and comments. Quoted
 * identifiers, identifiers with digits and $n parameters are kept. On text already normalized by
 * libpg-query this is a no-op apart from numbers in type modifiers (numeric(10,2) → numeric(?,?)).
 */
export function scrubSqlLiterals(sql: string): string {
  // Fast path for normalized text: nothing the scanner would replace can occur without one of these.
  return NEEDS_SCAN.test(sql) ? scanSqlLiterals(sql) : sql;
}

/** Quotes, comments, a `$` that is not `$n`, a digit not inside an identifier, or `.digit`. */
const NEEDS_SCAN = /['"]|--|\/\*|\$(?!\d)|(?<![A-Za-z0-9_$\u0080-\uffff])\d|\.\d/;

/** The scanner behind scrubSqlLiterals (exported for tests). */
export function scanSqlLiterals(sql: string): string {
  let out = '';
  let run = 0; // start of the pending run of text copied verbatim
  let i = 0;
  const n = sql.length;
  const replace = (from: number, to: number, by: string): void => {
    out += sql.slice(run, from) + by;
    run = to;
    i = to;
  };
  while (i < n) {
    const k = sql.charCodeAt(i);
    if (k === QUOTE) {
      // a one-letter prefix (E, B, X, N) or U& belongs to the literal
      const m = PREFIX.exec(sql.slice(Math.max(run, i - 3), i));
      const from = m ? i - (m[1] as string).length : i;
      replace(Math.max(from, run), endOfString(sql, i), '?');
    } else if (k === DQUOTE) {
      i = endOfQuotedIdent(sql, i);
    } else if (k === DASH && sql.charCodeAt(i + 1) === DASH) {
      const nl = sql.indexOf('\n', i);
      replace(i, nl === -1 ? n : nl, ' ');
    } else if (k === SLASH && sql.charCodeAt(i + 1) === STAR) {
      replace(i, endOfBlockComment(sql, i), ' ');
    } else if (k === DOLLAR) {
      DOLLAR_TAG.lastIndex = i;
      const tag = DOLLAR_TAG.exec(sql);
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        replace(i, end === -1 ? n : end + tag[0].length, '?');
      } else {
        PARAM.lastIndex = i;
        const p = PARAM.exec(sql);
        i += p ? p[0].length : 1;
      }
    } else if (isDigitCode(k) || (k === DOT && isDigitCode(sql.charCodeAt(i + 1)))) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(sql);
      replace(i, i + (m && m[0].length > 0 ? m[0].length : 1), '?');
    } else if (isIdentCode(k)) {
      // a whole identifier or keyword, so digits inside it are kept
      i += 1;
      while (i < n && isIdentCode(sql.charCodeAt(i))) i += 1;
    } else i += 1;
  }
  return run === 0 ? sql : out + sql.slice(run);
}

/** The `sql` field: literals replaced, secrets scrubbed, length capped. */
export function scrubNormalizedSql(sql: unknown): string | null {
  if (sql === null || sql === undefined) return null;
  const text = typeof sql === 'string' ? sql : String(sql);
  return clip(scrubSecrets(scrubSqlLiterals(text)), MAX_SQL_CHARS);
}

/** The opt-in `sql_raw` field: literals kept, but DSN passwords and tokens still scrubbed. */
export function scrubRawSql(sql: unknown): string | null {
  if (sql === null || sql === undefined) return null;
  const text = typeof sql === 'string' ? sql : String(sql);
  return clip(scrubSecrets(text), MAX_SQL_CHARS);
}
