/**
 * What telemetry is allowed to say about a statement, a decision or an error.
 *
 * Guarantees: `redactLiterals` removes every string, dollar-quoted, bit/hex and numeric constant
 * and every comment from SQL text (placeholders `$n` and identifiers stay), so even text that
 * escaped normalization (libpg-query leaves e.g. `DEFAULT 'x'` in CREATE TABLE and COPY file
 * names untouched) carries no literal; the label helpers map anything outside a small vocabulary
 * to `other`/`OTHER`, so metric labels stay bounded and cannot carry user input; `errorInfo`
 * reads only codes (SQLSTATE, reason code, error class name), never an error message.
 * Does not: hide identifiers (relation, column and function names are not literals and appear
 * in span attributes and in db.query.text when enabled).
 */
import { WRITE_OPERATION } from '../guard/summary.js';
import type { Decision, StatementKind } from '../guard/types.js';

const MAX_QUERY_TEXT = 2_048;
const MAX_SUMMARY = 255;

const isIdentChar = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9_$\u0080-\uffff]/.test(c);

/** Replace every constant and comment in `sql` with `?` / a space. Cheap, single pass, never throws. */
export function redactLiterals(sql: string, maxLength = MAX_QUERY_TEXT): string {
  let out = '';
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === '-' && next === '-') {
      while (i < n && sql[i] !== '\n') i++;
      out += ' ';
      continue;
    }
    if (c === '/' && next === '*') {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (sql[i] === '/' && sql[i + 1] === '*') {
          depth++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          depth--;
          i += 2;
        } else i++;
      }
      out += ' ';
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '"') {
          if (sql[j + 1] === '"') {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
      continue;
    }
    if (c === "'") {
      // E'…' (and e'…') honours backslash escapes; a prefix letter (E, B, X, N, U&) stays in `out`.
      const prev = out[out.length - 1];
      const escapes = (prev === 'E' || prev === 'e') && !isIdentChar(out[out.length - 2]);
      let j = i + 1;
      while (j < n) {
        const d = sql[j];
        if (escapes && d === '\\') {
          j += 2;
          continue;
        }
        if (d === "'") {
          if (sql[j + 1] === "'") {
            j += 2;
            continue;
          }
          break;
        }
        j++;
      }
      out += '?';
      i = j + 1;
      continue;
    }
    if (c === '$' && !isIdentChar(out[out.length - 1])) {
      if (next !== undefined && next >= '0' && next <= '9') {
        // $n placeholder
        let j = i + 1;
        while (j < n && /[0-9]/.test(sql[j] as string)) j++;
        out += sql.slice(i, j);
        i = j;
        continue;
      }
      const m = /^\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 70));
      if (m) {
        const tag = m[0];
        const end = sql.indexOf(tag, i + tag.length);
        out += '?';
        i = end === -1 ? n : end + tag.length;
        continue;
      }
    }
    if ((c >= '0' && c <= '9') || (c === '.' && next !== undefined && next >= '0' && next <= '9')) {
      if (!isIdentChar(out[out.length - 1])) {
        let j = i + 1;
        while (j < n) {
          const d = sql[j] as string;
          if (/[0-9A-Za-z_.]/.test(d)) j++;
          else if ((d === '+' || d === '-') && /[eE]/.test(sql[j - 1] as string) && !/^0[xX]/.test(sql.slice(i, j))) j++;
          else break;
        }
        out += '?';
        i = j;
        continue;
      }
    }
    out += c;
    i++;
  }
  out = out.replace(/\s+/g, ' ').trim();
  return out.length > maxLength ? `${out.slice(0, maxLength - 1)}…` : out;
}

// ------------------------------------------------------------------ bounded labels

const DECISIONS = new Set(['allow', 'block', 'hold', 'allowed', 'blocked', 'held', 'approved', 'rejected', 'executed', 'reverted', 'failed', 'auth_failed']);
const KINDS = new Set<string>(['read', 'explain', 'write', 'ddl', 'dcl', 'transaction', 'session', 'utility', 'unknown'] satisfies StatementKind[]);
const WRITE_KINDS = new Set(['insert', 'update', 'delete', 'merge', 'select_into', 'create_table_as']);

/** A decision/outcome word from pgwarden's vocabulary, else `other`. */
export function decisionLabel(v: unknown): string {
  return typeof v === 'string' && DECISIONS.has(v) ? v : 'other';
}

export function kindLabel(v: unknown): string {
  return typeof v === 'string' && KINDS.has(v) ? v : 'other';
}

export function writeKindLabel(v: unknown): string {
  return typeof v === 'string' && WRITE_KINDS.has(v) ? v : 'other';
}

/** A stable UPPER_SNAKE code (reason codes, SQLSTATEs), else `OTHER`. */
export function codeLabel(v: unknown): string {
  return typeof v === 'string' && /^[A-Z0-9][A-Z0-9_]{0,63}$/.test(v) ? v : 'OTHER';
}

/** A tool name as configured (letters, digits, _ . -), else `other`. */
export function nameLabel(v: unknown): string {
  return typeof v === 'string' && /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/.test(v) ? v : 'other';
}

/** A DB operation name: upper-case words (SELECT, EXPLAIN, SELECT INTO), else `OTHER`. */
export function operationLabel(v: unknown): string {
  return typeof v === 'string' && /^[A-Z][A-Z ]{0,31}$/.test(v) ? v : 'OTHER';
}

// ------------------------------------------------------------------ decisions


const KIND_OPERATION: Record<StatementKind, string> = {
  read: 'SELECT',
  explain: 'EXPLAIN',
  write: 'WRITE',
  ddl: 'DDL',
  dcl: 'DCL',
  transaction: 'TRANSACTION',
  session: 'SESSION',
  utility: 'UTILITY',
  unknown: 'UNKNOWN',
};

type DecisionShape = Pick<Decision, 'kind' | 'relations'> & Partial<Pick<Decision, 'writeKind'>>;

/** db.operation.name for a judged statement: SELECT, EXPLAIN, INSERT, UPDATE, DELETE, MERGE, … */
export function operationName(decision: DecisionShape): string {
  if (decision.kind === 'write' && decision.writeKind !== undefined) return WRITE_OPERATION[decision.writeKind] ?? 'WRITE';
  return KIND_OPERATION[decision.kind] ?? 'UNKNOWN';
}

/** db.query.summary: the operation and the relations it touches, e.g. `SELECT app.orders app.customers`. */
export function querySummary(decision: DecisionShape): string {
  const op = operationName(decision);
  const s = decision.relations.length > 0 ? `${op} ${decision.relations.join(' ')}` : op;
  return s.length > MAX_SUMMARY ? s.slice(0, MAX_SUMMARY) : s;
}

// ------------------------------------------------------------------ errors

export interface ErrorInfo {
  /** SQLSTATE when the database reported one. */
  sqlstate?: string;
  /** error.type: the SQLSTATE, a reason code, or the error's class name. */
  type: string;
}

/** Codes only: never reads `message`, which may quote a literal (e.g. invalid input syntax for type integer: "…"). */
export function errorInfo(err: unknown): ErrorInfo {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; sqlstate?: unknown; details?: { sqlstate?: unknown }; name?: unknown };
  const isState = (v: unknown): v is string => typeof v === 'string' && /^[0-9A-Z]{5}$/.test(v);
  // pg errors carry the SQLSTATE in `code`; every SQLSTATE has a digit, a 5-letter reason code does not.
  const state = [e.details?.sqlstate, e.sqlstate].find(isState) ?? (isState(e.code) && /[0-9]/.test(e.code) ? e.code : undefined);
  if (state !== undefined) return { sqlstate: state, type: state };
  if (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(e.code)) return { type: e.code };
  if (typeof e.name === 'string' && /^[A-Za-z][A-Za-z0-9_]{0,63}$/.test(e.name)) return { type: e.name };
  return { type: 'Error' };
}
