/**
 * Input checks and parsing with the real PostgreSQL parser (libpg-query, WASM).
 *
 * Guarantees:
 * - checks run before the parser: a NUL byte or an unpaired surrogate is INVALID_INPUT (the
 *   WASM parser silently truncates at NUL), blank/comment-only text is EMPTY_STATEMENT, text
 *   over `maxStatementBytes` (UTF-8) is STATEMENT_TOO_LARGE, and long text whose nesting or
 *   operator chains could overflow the parser's stack is STATEMENT_TOO_COMPLEX (see lex.ts);
 * - parser errors become PARSE_ERROR with a 1-based character position and a message that never
 *   echoes a literal from the input (only a keyword/identifier/punctuation token is echoed);
 *   a parser stack overflow (RangeError) becomes STATEMENT_TOO_COMPLEX; nothing here throws;
 * - fingerprint/normalized are only produced for text that parsed; otherwise both are a
 *   digest-based placeholder, never the raw text; LazyStatementIdentity computes them on first
 *   read (the guard's decisions carry one).
 * Does not: judge statements (walk/classify/policy do).
 */
import { createHash } from 'node:crypto';
import { fingerprintSync, loadModule, normalizeSync, parseSync, type Node } from './pgquery.js';
import { lexStats } from './lex.js';
import { reason, type Reason } from './reasons.js';
import type { ParsedStatement, StatementIdentity } from './types.js';

let loaded: Promise<void> | undefined;
let ready = false;

/** Load the WASM parser once (idempotent; concurrent callers share the same promise). */
export async function loadParser(): Promise<void> {
  loaded ??= loadModule().then(() => {
    ready = true;
  });
  return loaded;
}

export function parserReady(): boolean {
  return ready;
}

export interface ParseLimits {
  maxStatementBytes: number;
  /** Deepest ( [ nesting accepted before parsing (long input only). */
  maxNesting: number;
  /** Most operator/chain tokens accepted before parsing (long input only). */
  maxChainTokens: number;
}

/** Below this length no input can nest deep enough to hurt the parser; the lexical scan is skipped. */
const LEX_SCAN_MIN_LENGTH = 400;

const SAFE_TOKEN = /^(?:[A-Za-z_][A-Za-z0-9_$]{0,62}|[(),;.[\]:*+\-/<>=~!@#%^&|`?]{1,3})$/;

/** A quote or a dollar-quote tag left in normalized text means a literal survived normalization. */
const LEFTOVER_LITERAL = /'|\$[A-Za-z_\x80-\uffff]?[A-Za-z0-9_\x80-\uffff]*\$/;

/** A placeholder for text that did not parse: a short digest, never the text itself. */
export function digestPlaceholder(sql: string): { fingerprint: string; normalized: string } {
  const d = createHash('sha256').update(sql).digest('hex').slice(0, 16);
  return { fingerprint: `unparsed:${d}`, normalized: `/* unparsed statement sha256:${d} */` };
}

/** Make a libpg-query error message safe to show: drop the echoed token unless it is harmless. */
export function sanitizeParserMessage(message: string): string {
  const m = /^(.*?) at or near "(.*)"$/s.exec(message);
  if (m) {
    const base = m[1] as string;
    const token = m[2] as string;
    return SAFE_TOKEN.test(token) ? `${base} at or near "${token}"` : base;
  }
  if (/^(syntax error at end of input|memory exhausted|[a-z ]+)$/.test(message)) return message;
  return 'syntax error';
}

function fail(sql: string, r: Reason, position?: number): ParsedStatement {
  const ph = digestPlaceholder(sql);
  const out: ParsedStatement = { ok: false, stmts: [], reasons: [r], fingerprint: ph.fingerprint, normalized: ph.normalized };
  if (position !== undefined) out.position = position;
  return out;
}

function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** Input checks that need no parser. Returns a failed ParsedStatement, or undefined to go on. */
export function precheck(sql: string, limits: ParseLimits): ParsedStatement | undefined {
  if (sql.indexOf('\0') !== -1) return fail(sql, reason('INVALID_INPUT', 'The statement contains a NUL byte.'));
  if (/\p{Cs}/u.test(sql)) return fail(sql, reason('INVALID_INPUT', 'The statement contains an unpaired UTF-16 surrogate (invalid UTF-8).'));
  // Fast path: a JS string of n code units is at most 3n UTF-8 bytes.
  if (sql.length * 3 > limits.maxStatementBytes) {
    const bytes = utf8Length(sql);
    if (bytes > limits.maxStatementBytes) {
      return fail(
        sql,
        reason('STATEMENT_TOO_LARGE', `The statement is ${bytes} bytes; the maximum is ${limits.maxStatementBytes}.`),
      );
    }
  }
  if (sql.trim() === '') return fail(sql, reason('EMPTY_STATEMENT'));
  if (sql.length >= LEX_SCAN_MIN_LENGTH) {
    const st = lexStats(sql);
    if (!st.hasTokens) return fail(sql, reason('EMPTY_STATEMENT', 'The text contains only comments.'));
    if (st.maxDepth > limits.maxNesting) {
      return fail(
        sql,
        reason('STATEMENT_TOO_COMPLEX', `The statement nests ${st.maxDepth} levels of parentheses; the maximum is ${limits.maxNesting}.`),
      );
    }
    if (st.chainTokens > limits.maxChainTokens) {
      return fail(
        sql,
        reason('STATEMENT_TOO_COMPLEX', `The statement has ${st.chainTokens} operators; the maximum is ${limits.maxChainTokens}.`),
      );
    }
  }
  return undefined;
}

interface SqlErrorLike {
  message: string;
  sqlDetails?: { message?: string; cursorPosition?: number };
}

/** Parse text into statements; never throws (the parser must be loaded). */
export function parseText(sql: string, limits: ParseLimits): ParsedStatement {
  const pre = precheck(sql, limits);
  if (pre) return pre;
  if (!ready) return fail(sql, reason('INTERNAL_ERROR', 'The SQL parser is not loaded.'));
  let stmts: Node[];
  try {
    const res = parseSync(sql);
    stmts = (res.stmts ?? []).map((s) => s.stmt).filter((s): s is Node => s !== undefined);
  } catch (err) {
    return parseFailure(sql, err);
  }
  if (stmts.length === 0) return fail(sql, reason('EMPTY_STATEMENT', 'The text contains only comments or semicolons.'));
  return { ok: true, stmts, reasons: [], fingerprint: '', normalized: '' };
}

function parseFailure(sql: string, err: unknown): ParsedStatement {
  if (err instanceof RangeError) {
    return fail(sql, reason('STATEMENT_TOO_COMPLEX', 'The statement is nested too deeply for the parser.'));
  }
  const e = err as SqlErrorLike;
  const raw = e?.sqlDetails?.message ?? (typeof e?.message === 'string' ? e.message : 'syntax error');
  if (/memory exhausted|stack depth/i.test(raw)) {
    return fail(sql, reason('STATEMENT_TOO_COMPLEX', 'The statement is nested too deeply for the parser.'));
  }
  const cursor = e?.sqlDetails?.cursorPosition;
  const position = typeof cursor === 'number' && cursor >= 0 ? cursor + 1 : undefined;
  const msg = sanitizeParserMessage(raw);
  return fail(sql, reason('PARSE_ERROR', position === undefined ? msg : `${msg} (position ${position})`), position);
}

/** libpg-query fingerprint of text that parsed; the digest placeholder if it fails. Never throws. */
export function fingerprintOf(sql: string): string {
  try {
    return fingerprintSync(sql);
  } catch {
    return digestPlaceholder(sql).fingerprint;
  }
}

/**
 * Normalized text (constants as $n) of text that parsed; the digest placeholder if it fails or
 * if a literal survived normalization. Never throws.
 */
export function normalizedOf(sql: string): string {
  try {
    const normalized = normalizeSync(sql);
    // normalize leaves literals in some utility/DDL statements (COPY … TO 'file', COMMENT … IS,
    // PREPARE, DEFAULT 'x', LOAD, OPTIONS (…)): never hand those out.
    return LEFTOVER_LITERAL.test(normalized) ? digestPlaceholder(sql).normalized : normalized;
  } catch {
    return digestPlaceholder(sql).normalized;
  }
}

/** Fill fingerprint and normalized text for parsed text; falls back to the digest placeholder. */
export function fingerprintAndNormalize(sql: string): { fingerprint: string; normalized: string } {
  return { fingerprint: fingerprintOf(sql), normalized: normalizedOf(sql) };
}

/**
 * A statement's fingerprint and normalized text, each computed on its first read and memoized
 * (libpg-query re-parses the text for each: ≈ 40% of a cold decision for a 40-line query, paid
 * only by whoever reads them — the audit writer, the check tool — not by the guard's verdict).
 *
 * `useParser` is fixed when the guard decides: true only for text that parsed and whose tree the
 * walk found within limits; otherwise both values are the digest placeholder and libpg-query is
 * never called (its recursive C must not see over-deep text, see lex.ts). Reading never throws.
 * The text is held privately (not enumerable, not serialized); toJSON gives the two values.
 */
export class LazyStatementIdentity implements StatementIdentity {
  readonly #sql: string;
  readonly #useParser: boolean;
  #fingerprint: string | undefined;
  #normalized: string | undefined;

  constructor(sql: string, useParser: boolean) {
    this.#sql = sql;
    this.#useParser = useParser;
  }

  get fingerprint(): string {
    return (this.#fingerprint ??= this.#useParser ? fingerprintOf(this.#sql) : digestPlaceholder(this.#sql).fingerprint);
  }

  get normalized(): string {
    return (this.#normalized ??= this.#useParser ? normalizedOf(this.#sql) : digestPlaceholder(this.#sql).normalized);
  }

  /** Which values have been computed so far (for tests and benchmarks). */
  get computed(): { fingerprint: boolean; normalized: boolean } {
    return { fingerprint: this.#fingerprint !== undefined, normalized: this.#normalized !== undefined };
  }

  toJSON(): StatementIdentity {
    return { fingerprint: this.fingerprint, normalized: this.normalized };
  }
}
