/**
 * The pieces of the hardened read path that do not own a connection: the session-hardening
 * text and the capped fetch through a cursor (portal).
 *
 * Guarantees:
 * - hardeningSql() builds ONE trusted simple-protocol string from configuration values only:
 *   integers are checked, identifiers go through escapeIdentifier, literals through
 *   escapeLiteral. Agent text never enters it.
 * - fetchCapped() reads at most max_rows + 1 rows from the portal (the statement text is never
 *   rewritten), stops at max_bytes (approximate JSON size), and reports truncation.
 * Does not: open or end transactions, or release connections (pool.ts does).
 */
import pg from 'pg';
import type Cursor from 'pg-cursor';
import type { ResolvedLimits } from '../config/schema.js';
import { GatewayError } from '../core/errors.js';
import { toJsonValue } from './values.js';

export interface HardeningOptions {
  limits: ResolvedLimits;
  searchPath: readonly string[];
  role?: string;
  principal?: { setting: string; value: string };
}

function positiveInt(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new GatewayError('INTERNAL_ERROR', `Invalid limit ${name}.`);
  return value;
}

const SETTING_NAME = /^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$/;

/** `BEGIN READ ONLY; SET LOCAL …` as one string (one round trip). */
export function hardeningSql(options: HardeningOptions): string {
  const { limits } = options;
  const parts = [
    'BEGIN READ ONLY',
    `SET LOCAL statement_timeout = ${positiveInt('statement_timeout_ms', limits.statement_timeout_ms)}`,
    `SET LOCAL lock_timeout = ${positiveInt('lock_timeout_ms', limits.lock_timeout_ms)}`,
    `SET LOCAL idle_in_transaction_session_timeout = ${positiveInt('idle_in_transaction_timeout_ms', limits.idle_in_transaction_timeout_ms)}`,
    options.searchPath.length > 0
      ? `SET LOCAL search_path = ${options.searchPath.map((s) => pg.escapeIdentifier(s)).join(', ')}`
      : `SET LOCAL search_path = ''`,
  ];
  if (options.role !== undefined) parts.push(`SET LOCAL ROLE ${pg.escapeIdentifier(options.role)}`);
  if (options.principal !== undefined) {
    if (!SETTING_NAME.test(options.principal.setting)) throw new GatewayError('INTERNAL_ERROR', 'Invalid principal setting name.');
    parts.push(`SELECT set_config(${pg.escapeLiteral(options.principal.setting)}, ${pg.escapeLiteral(options.principal.value.replace(/\0/g, ''))}, true)`);
  }
  return parts.join('; ');
}

export interface ColumnInfo {
  name: string;
  type: string;
}

export interface FetchResult {
  fields: { name: string; dataTypeID: number }[];
  rows: unknown[][];
  truncated: boolean;
  truncatedBy?: 'rows' | 'bytes';
}

interface CursorResult {
  fields?: { name: string; dataTypeID: number }[];
}

function readBatch(cursor: Cursor<unknown[]>, count: number): Promise<{ rows: unknown[][]; fields: { name: string; dataTypeID: number }[] }> {
  return new Promise((resolve, reject) => {
    cursor.read(count, (err, rows, result) => {
      if (err) reject(err);
      else resolve({ rows, fields: ((result as CursorResult | undefined)?.fields ?? []).map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })) });
    });
  });
}

/** Approximate size of a row in the JSON response (UTF-16 code units ≈ bytes for ASCII). */
export function approxJsonSize(row: readonly unknown[]): number {
  return JSON.stringify(row).length + 1;
}

const FIRST_BATCH = 128;
const MAX_BATCH = 2048;

/**
 * Read up to max_rows + 1 rows in growing batches; stop early when the byte cap is reached.
 * Throws RESULT_TOO_LARGE when not even the first row fits in max_bytes.
 */
export async function fetchCapped(cursor: Cursor<unknown[]>, limits: Pick<ResolvedLimits, 'max_rows' | 'max_bytes'>): Promise<FetchResult> {
  const maxRows = limits.max_rows;
  const maxBytes = limits.max_bytes;
  const rows: unknown[][] = [];
  let fields: FetchResult['fields'] = [];
  let bytes = 2; // "[]"
  let batch = Math.min(maxRows + 1, FIRST_BATCH);
  let fetched = 0;
  for (;;) {
    const want = Math.min(batch, maxRows + 1 - fetched);
    const result = await readBatch(cursor, want);
    if (fields.length === 0) fields = result.fields;
    fetched += result.rows.length;
    for (const raw of result.rows) {
      if (rows.length === maxRows) return { fields, rows, truncated: true, truncatedBy: 'rows' };
      const row = raw.map(toJsonValue);
      const size = approxJsonSize(row);
      if (bytes + size > maxBytes) {
        if (rows.length === 0) {
          throw new GatewayError('RESULT_TOO_LARGE', `The first row alone is larger than the byte cap (${maxBytes} bytes).`);
        }
        return { fields, rows, truncated: true, truncatedBy: 'bytes' };
      }
      rows.push(row);
      bytes += size;
    }
    if (result.rows.length < want || fetched > maxRows) return { fields, rows, truncated: false };
    // Grow the batch, but not past what the remaining byte budget can plausibly hold.
    const avg = rows.length > 0 ? (bytes - 2) / rows.length : 64;
    const budgetRows = Math.ceil((maxBytes - bytes) / Math.max(avg, 1)) + 1;
    batch = Math.max(1, Math.min(batch * 2, MAX_BATCH, budgetRows));
  }
}
