/**
 * The pieces of the hardened read path that do not own a connection: the session-hardening
 * text and the caps applied to rows fetched through a row-limited portal (capped-query.ts).
 *
 * Guarantees:
 * - hardeningStatements() (and hardeningSql(), the same joined into one simple-protocol string)
 *   are built from configuration values only: integers are checked, identifiers go through
 *   escapeIdentifier, literals through escapeLiteral. Agent text never enters them.
 * - readHardeningSteps() is the same hardening for the read pipeline: `BEGIN READ ONLY` (prepared,
 *   like readClosingSteps()' ROLLBACK) and ONE
 *   prepared `SELECT pg_catalog.set_config(name, value, true), …` (set_config with is_local is
 *   SET LOCAL's function form; `role` is SET LOCAL ROLE's), with the names and values as bind
 *   parameters: the same checks, the same settings, the principal setting name still limited to
 *   a dotted custom name (so it can never name `role` or another built-in setting).
 * - capRows() keeps at most max_rows of the max_rows + 1 rows the portal returned (the statement
 *   text is never rewritten), stops at max_bytes (approximate JSON size; the rows were already
 *   bounded by max_bytes on the wire as they arrived), and reports truncation.
 * Does not: open or end transactions, or release connections (pool.ts does).
 */
import './pg-load.js'; // before pg: loads it without its Cloudflare probe (issue #13, start-up)
import pg from 'pg';
import type { ResolvedLimits } from '../config/schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { PreparedStep, TrustedStep } from './capped-query.js';
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

/** `BEGIN READ ONLY; SET LOCAL …` as one string (one round trip, simple protocol). */
export function hardeningSql(options: HardeningOptions): string {
  return hardeningStatements(options).join('; ');
}

/** The hardening as separate trusted statements (for an extended-protocol pipeline). */
export function hardeningStatements(options: HardeningOptions): string[] {
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
    parts.push(`SELECT pg_catalog.set_config(${pg.escapeLiteral(options.principal.setting)}, ${pg.escapeLiteral(options.principal.value.replace(/\0/g, ''))}, true)`);
  }
  return parts;
}

/** Name and value of every setting the hardening applies, in order (role last). */
function hardeningSettings(options: HardeningOptions): [string, string][] {
  const { limits } = options;
  const settings: [string, string][] = [
    ['statement_timeout', String(positiveInt('statement_timeout_ms', limits.statement_timeout_ms))],
    ['lock_timeout', String(positiveInt('lock_timeout_ms', limits.lock_timeout_ms))],
    ['idle_in_transaction_session_timeout', String(positiveInt('idle_in_transaction_timeout_ms', limits.idle_in_transaction_timeout_ms))],
    // The list as SET stores it: plain lower-case names bare, others quoted; '""' is what
    // `SET search_path = ''` stores. PostgreSQL parses this value as the same identifier list.
    ['search_path', options.searchPath.length > 0 ? options.searchPath.map(searchPathItem).join(', ') : '""'],
    // A statement kept prepared (statement-cache.ts) with bind values ($n of a predefined tool, a
    // hash mask's key) would switch to a generic plan after 5 runs: other constant folding (errors
    // such as 1/$1 in an untaken CASE arm), other row order where none is asked for. A custom plan
    // per run is what the unnamed statement always got.
    ['plan_cache_mode', 'force_custom_plan'],
  ];
  if (options.principal !== undefined) {
    if (!SETTING_NAME.test(options.principal.setting)) throw new GatewayError('INTERNAL_ERROR', 'Invalid principal setting name.');
    settings.push([options.principal.setting, options.principal.value.replace(/\0/g, '')]);
  }
  // set_config('role', name) takes the role's name as is (no identifier quoting), like SET ROLE "name".
  if (options.role !== undefined) settings.push(['role', options.role]);
  return settings;
}

function searchPathItem(schema: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(schema) ? schema : pg.escapeIdentifier(schema);
}

const settingsStatements = new Map<number, PreparedStep>();

/** The prepared statement that applies `pairs` settings (one per arity, built once). */
function settingsStatement(pairs: number): PreparedStep {
  let step = settingsStatements.get(pairs);
  if (step === undefined) {
    const calls = Array.from({ length: pairs }, (_, i) => `pg_catalog.set_config($${2 * i + 1}, $${2 * i + 2}, true)`);
    step = { name: `pgwarden_read_hardening_${pairs}`, text: `SELECT ${calls.join(', ')}`, values: [] };
    settingsStatements.set(pairs, step);
  }
  return step;
}

/**
 * The read pipeline's hardening (see the module header): `BEGIN READ ONLY`, then every setting of
 * hardeningStatements() applied by one prepared statement (`prepared: false`: the same statement
 * unnamed, parsed every time). Fail closed like the SETs: if a setting is refused (e.g. a role
 * that does not exist), the pipeline stops there.
 */
export function readHardeningSteps(options: HardeningOptions, mode: { prepared: boolean } = { prepared: true }): readonly TrustedStep[] {
  const last = lastSteps[mode.prepared ? 1 : 0];
  if (last !== undefined && sameHardening(last.options, options)) return last.steps;
  const settings = hardeningSettings(options);
  const statement = settingsStatement(settings.length);
  const steps = Object.freeze([
    mode.prepared ? BEGIN_READ_ONLY : BEGIN_READ_ONLY.text,
    Object.freeze({ name: mode.prepared ? statement.name : '', text: statement.text, values: Object.freeze(settings.flat()) }),
  ]);
  lastSteps[mode.prepared ? 1 : 0] = { options: snapshotHardening(options), steps };
  return steps;
}

/**
 * The last steps built, per mode (unprepared, prepared), with a copy of what they were built from:
 * a gateway reads with the same settings call after call (one principal over stdio), so they are
 * built and serialized once (capped-query.ts keeps a prepared step's Bind per step object). Reused
 * only when every input is equal, field by field (no key string that two inputs could share).
 */
const lastSteps: ({ options: HardeningOptions; steps: readonly TrustedStep[] } | undefined)[] = [undefined, undefined];

function snapshotHardening(o: HardeningOptions): HardeningOptions {
  const copy: HardeningOptions = { limits: { ...o.limits }, searchPath: [...o.searchPath] };
  if (o.role !== undefined) copy.role = o.role;
  if (o.principal !== undefined) copy.principal = { setting: o.principal.setting, value: o.principal.value };
  return copy;
}

function sameHardening(a: HardeningOptions, b: HardeningOptions): boolean {
  return (
    a.limits.statement_timeout_ms === b.limits.statement_timeout_ms &&
    a.limits.lock_timeout_ms === b.limits.lock_timeout_ms &&
    a.limits.idle_in_transaction_timeout_ms === b.limits.idle_in_transaction_timeout_ms &&
    a.searchPath.length === b.searchPath.length &&
    a.searchPath.every((s, i) => s === b.searchPath[i]) &&
    a.role === b.role &&
    a.principal?.setting === b.principal?.setting &&
    a.principal?.value === b.principal?.value
  );
}

/** `BEGIN READ ONLY` kept prepared per connection: bound and executed, never parsed again. */
const BEGIN_READ_ONLY: PreparedStep = Object.freeze({ name: 'pgwarden_begin_read_only', text: 'BEGIN READ ONLY', values: Object.freeze([]) });
/** `ROLLBACK` kept prepared per connection, likewise. */
const ROLLBACK: PreparedStep = Object.freeze({ name: 'pgwarden_rollback', text: 'ROLLBACK', values: Object.freeze([]) });

/**
 * What ends the read pipeline: ROLLBACK, prepared like the hardening (`prepared: false`: plain
 * text, parsed every time).
 */
export function readClosingSteps(mode: { prepared: boolean } = { prepared: true }): readonly TrustedStep[] {
  return mode.prepared ? PREPARED_CLOSING : PLAIN_CLOSING;
}
const PREPARED_CLOSING: readonly TrustedStep[] = Object.freeze([ROLLBACK]);
const PLAIN_CLOSING: readonly TrustedStep[] = Object.freeze([ROLLBACK.text]);

export type { ColumnInfo } from '../shared/reads.js';

export interface FetchResult {
  fields: { name: string; dataTypeID: number }[];
  rows: unknown[][];
  truncated: boolean;
  truncatedBy?: 'rows' | 'bytes';
}

/** Approximate size of a row in the JSON response (UTF-16 code units ≈ bytes for ASCII). */
export function approxJsonSize(row: readonly unknown[]): number {
  return JSON.stringify(row).length + 1;
}

/**
 * Apply the caps to rows received from a CappedQuery (at most max_rows + 1 of them): JSON-safe
 * values, at most max_rows rows, at most max_bytes of JSON. Throws RESULT_TOO_LARGE when not
 * even the first row fits in max_bytes.
 */
export function capRows(
  received: { fields: FetchResult['fields']; rows: unknown[][]; suspended: boolean; stopped?: string },
  limits: Pick<ResolvedLimits, 'max_rows' | 'max_bytes'>,
): FetchResult {
  const { fields } = received;
  const rows: unknown[][] = [];
  let bytes = 2; // "[]"
  for (const raw of received.rows) {
    if (rows.length === limits.max_rows) return { fields, rows, truncated: true, truncatedBy: 'rows' };
    const row = raw.map(toJsonValue);
    const size = approxJsonSize(row);
    if (bytes + size > limits.max_bytes) {
      if (rows.length === 0) {
        throw new GatewayError('RESULT_TOO_LARGE', `The first row alone is larger than the byte cap (${limits.max_bytes} bytes).`);
      }
      return { fields, rows, truncated: true, truncatedBy: 'bytes' };
    }
    rows.push(row);
    bytes += size;
  }
  if (received.stopped === 'bytes') {
    // The query stopped reading at max_bytes of rows on the wire (capped-query.ts): the next row
    // would not fit.
    if (rows.length === 0) throw new GatewayError('RESULT_TOO_LARGE', `The first row alone is larger than the byte cap (${limits.max_bytes} bytes).`);
    return { fields, rows, truncated: true, truncatedBy: 'bytes' };
  }
  // A suspended portal with exactly max_rows rows received can only happen when max_rows + 1 was
  // not requested; treat it as truncated all the same.
  return received.suspended ? { fields, rows, truncated: true, truncatedBy: 'rows' } : { fields, rows, truncated: false };
}

