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

/** Replace DSN passwords, `password=…` pairs and bearer tokens. */
export function scrubSecrets(text: string): string {
  if (!text.includes('://') && !/pass|pwd|bearer/i.test(text)) return text;
  return text.replace(DSN_PASSWORD, '$1***@').replace(KEYWORD_PASSWORD, '$1$2***').replace(BEARER, 'Bearer ***');
}

export function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…[truncated]`;
}

/** A free-text field: control characters stripped, secrets scrubbed, length capped. */
export function scrubField(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  const text = typeof value === 'string' ? value : String(value);
  // eslint-disable-next-line no-control-regex
  return clip(scrubSecrets(text.replace(/[\u0000-\u001f\u007f]/g, '?')), MAX_FIELD_CHARS);
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

function isIdentChar(c: string | undefined): boolean {
  if (c === undefined) return false;
  const k = c.charCodeAt(0);
  return (k >= 48 && k <= 57) || (k >= 65 && k <= 90) || (k >= 97 && k <= 122) || k === 95 || k === 36 || k >= 128;
}

function isDigit(c: string | undefined): boolean {
  if (c === undefined) return false;
  const k = c.charCodeAt(0);
  return k >= 48 && k <= 57;
}

/**
 * Replace literal values in SQL text with `?` in one linear pass: '…' strings (E'', B'', X'',
 * U&'' prefixes included), $tag$…$tag$ bodies, numeric literals and comments. Quoted identifiers
 * and $n parameters are kept. On text already normalized by libpg-query this is a no-op apart
 * from numbers in type modifiers (numeric(10,2) → numeric(?,?)).
 */
export function scrubSqlLiterals(sql: string): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === "'") {
      // string literal; '' is an escaped quote; backslash escapes (E'') are skipped too
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '\\') j += 2;
        else if (sql[j] === "'") {
          if (sql[j + 1] === "'") j += 2;
          else break;
        } else j += 1;
      }
      // drop a one-letter prefix already copied (E, B, X, N) or U&
      if (/[EeBbXxNn]$/.test(out) && !isIdentChar(out[out.length - 2])) out = out.slice(0, -1);
      else if (/[Uu]&$/.test(out) && !isIdentChar(out[out.length - 3])) out = out.slice(0, -2);
      out += '?';
      i = j + 1;
    } else if (c === '"') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '"') {
          if (sql[j + 1] === '"') j += 2;
          else break;
        } else j += 1;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && next === '-') {
      const j = sql.indexOf('\n', i);
      out += ' ';
      i = j === -1 ? n : j;
    } else if (c === '/' && next === '*') {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        if (sql[j] === '/' && sql[j + 1] === '*') {
          depth += 1;
          j += 2;
        } else if (sql[j] === '*' && sql[j + 1] === '/') {
          depth -= 1;
          j += 2;
        } else j += 1;
      }
      out += ' ';
      i = j;
    } else if (c === '$' && !isIdentChar(sql[i - 1])) {
      const m = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 65));
      if (m) {
        const tag = m[0];
        const end = sql.indexOf(tag, i + tag.length);
        out += '?';
        i = end === -1 ? n : end + tag.length;
      } else {
        // $n parameter: keep it with its digits
        const p = /^\$\d+/.exec(sql.slice(i, i + 12));
        const len = p ? p[0].length : 1;
        out += sql.slice(i, i + len);
        i += len;
      }
    } else if (isDigit(c) || (c === '.' && isDigit(next))) {
      if (isIdentChar(sql[i - 1])) {
        out += c;
        i += 1;
        continue;
      }
      const m = /^(?:0[xXoObB][0-9A-Fa-f_]+|(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?)/.exec(sql.slice(i, i + 64));
      const len = m && m[0].length > 0 ? m[0].length : 1;
      out += '?';
      i += len;
    } else if (isIdentChar(c)) {
      // copy a whole identifier/keyword so digits inside it are kept
      let j = i + 1;
      while (j < n && isIdentChar(sql[j])) j += 1;
      out += sql.slice(i, j);
      i = j;
    } else {
      out += c;
      i += 1;
    }
  }
  return out;
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
