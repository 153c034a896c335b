/**
 * From an AuditEvent to one hashed NDJSON line.
 *
 * Guarantees: every line is the canonical JSON of its record body plus `hash` (so the verifier
 * can also reject lines that were re-encoded, e.g. with a duplicate key); every field passes the
 * scrubber (src/audit/scrub.ts); `sql_raw` is written only when the operator opted in; with a key
 * (audit.hmac_key) the body declares `alg` and `key_id` and `hash` is the HMAC (keyed.ts), without
 * one the line is byte for byte what it was before keying existed (sha256, no extra keys).
 * Does not: decide anything about the event's truthfulness — it records what the gateway says.
 */
import { lineFor, sha256Hex } from './canonical.js';
import { AUDIT_HMAC_ALG, type AuditKey } from './keyed.js';
import { scrubField, scrubList, scrubNormalizedSql, scrubRawSql, scrubReasons } from './scrub.js';
import { AUDIT_FORMAT_VERSION, type AuditEvent, type AuditRecordBody, type AuditRecordDecision, type StatementIdentitySource } from './types.js';

/** The sink's private copy of an event, taken synchronously in record(). */
export interface PendingEvent extends Omit<AuditEvent, 'decision' | 'ts'> {
  decision: AuditRecordDecision;
  /** Epoch milliseconds (converted to ISO by the writer, off the hot path) or an ISO string. */
  ts: number | string;
  dropped?: number;
  /** durable(): called once the record is written (and synced, under fsync: always), or with the reason it was not. */
  onWritten?: (err: Error | null) => void;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

function snapshotTs(ts: AuditEvent['ts']): number | string {
  if (ts instanceof Date && !Number.isNaN(ts.getTime())) return ts.getTime();
  if (typeof ts === 'string' && ISO.test(ts)) return ts;
  return Date.now();
}

/**
 * O(fields) snapshot so later mutation of the caller's object cannot change the record (`statement`
 * is kept by reference: it is immutable, and the writer reads it). Fields
 * are copied one by one (an allowlist: unknown members are not carried); this is also far cheaper
 * in V8 than `{ ...event, ts }` (≈50 ns against ≈1 µs measured).
 */
export function snapshotEvent(e: AuditEvent): PendingEvent {
  return {
    decision: e.decision,
    request_id: e.request_id,
    principal: e.principal,
    client: e.client,
    tool: e.tool,
    database: e.database,
    reasons: e.reasons ? e.reasons.slice() : null,
    kind: e.kind,
    relations: e.relations ? e.relations.slice() : null,
    fingerprint: e.fingerprint,
    normalized_sql: e.normalized_sql,
    statement: e.statement,
    sql_raw: e.sql_raw,
    parameters: e.parameters ? e.parameters.slice() : null,
    parameter_values: e.parameter_values ? JSON.parse(JSON.stringify(e.parameter_values)) as unknown[] : null,
    rows: e.rows,
    truncated: e.truncated,
    duration_ms: e.duration_ms,
    sqlstate: e.sqlstate,
    undo_id: e.undo_id,
    approval_id: e.approval_id,
    observed: e.observed,
    blast_radius_rows: e.blast_radius_rows,
    ts: snapshotTs(e.ts),
  };
}

/** A field of the event's statement identity, read here in the writer (it may compute it); null if absent or failing. */
function identityField(statement: StatementIdentitySource | null | undefined, key: keyof StatementIdentitySource): string | null {
  if (statement === undefined || statement === null) return null;
  try {
    return statement[key];
  } catch {
    return null;
  }
}

function count(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.trunc(value) : null;
}

function millis(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? Math.round(value * 1000) / 1000 : null;
}

function bool(value: unknown): boolean | null {
  return typeof value === 'boolean' ? value : null;
}

export interface BuildOptions {
  includeRawSql: boolean;
  /** audit.hmac_key: the body then declares `alg` and `key_id`; pass the same key to encodeRecord. */
  key?: AuditKey | undefined;
}

/** Whether the event needs the rare shape (optional keys: gap records, opted-in raw SQL, parameters). */
function hasOptionalKeys(ev: PendingEvent, raw: string | null): boolean {
  return raw !== null || ev.dropped !== undefined || (ev.parameters !== null && ev.parameters !== undefined);
}

/** The record body (everything but `hash`), keys in canonical order. */
export function buildRecordBody(ev: PendingEvent, seq: number, prev: string, opts: BuildOptions): AuditRecordBody {
  const raw = opts.includeRawSql ? scrubRawSql(ev.sql_raw) : null;
  if (hasOptionalKeys(ev, raw)) return withOptionalKeys(ev, seq, prev, opts, raw);
  // Keys in sorted order: JSON.stringify of this object is its canonical JSON (see canonical.ts).
  // No conditional spreads here: they make V8 build the object several times slower. `alg` and
  // `key_id` are undefined without a key, and JSON.stringify leaves undefined members out.
  const key = opts.key;
  return {
    alg: key === undefined ? undefined : AUDIT_HMAC_ALG,
    approval_id: scrubField(ev.approval_id),
    blast_radius_rows: count(ev.blast_radius_rows),
    client: scrubField(ev.client),
    database: scrubField(ev.database),
    decision: (scrubField(ev.decision) ?? 'failed') as AuditRecordDecision,
    duration_ms: millis(ev.duration_ms),
    fingerprint: scrubField(ev.fingerprint ?? identityField(ev.statement, 'fingerprint')),
    key_id: key?.keyId,
    kind: scrubField(ev.kind),
    observed: ev.observed === true,
    prev,
    principal: scrubField(ev.principal),
    reasons: scrubReasons(ev.reasons),
    relations: scrubList(ev.relations),
    request_id: scrubField(ev.request_id),
    rows: count(ev.rows),
    seq,
    sql: scrubNormalizedSql(ev.normalized_sql ?? identityField(ev.statement, 'normalized')),
    sqlstate: scrubField(ev.sqlstate),
    tool: scrubField(ev.tool),
    truncated: bool(ev.truncated),
    ts: typeof ev.ts === 'number' ? new Date(ev.ts).toISOString() : ev.ts,
    undo_id: scrubField(ev.undo_id),
    v: AUDIT_FORMAT_VERSION,
  };
}

/** The rare shapes (gap records, opted-in raw SQL): same fields plus optional keys, in canonical order. */
function withOptionalKeys(ev: PendingEvent, seq: number, prev: string, opts: BuildOptions, raw: string | null): AuditRecordBody {
  const base = buildRecordBody({ ...ev, sql_raw: null, dropped: undefined, parameters: null }, seq, prev, { ...opts, includeRawSql: false });
  const out: Record<string, unknown> = {};
  const extra: Record<string, unknown> = {};
  if (ev.dropped !== undefined) extra.dropped = ev.dropped;
  if (raw !== null) extra.sql_raw = raw;
  if (ev.parameters !== null && ev.parameters !== undefined) {
    extra.parameters = scrubList(ev.parameters);
    if (opts.includeRawSql && ev.parameter_values !== null && ev.parameter_values !== undefined) extra.parameter_values = ev.parameter_values;
  }
  const all: Record<string, unknown> = { ...base, ...extra };
  for (const key of Object.keys(all).sort()) out[key] = all[key];
  return out as unknown as AuditRecordBody;
}

export interface EncodedRecord {
  /** The NDJSON line without its newline. */
  line: string;
  hash: string;
}

/** Characters JSON.stringify escapes in a string (any surrogate, paired or not, takes the exact path). */
// eslint-disable-next-line no-control-regex
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string (or null) exactly as JSON.stringify writes it, without its machinery in the common case. */
function jsonString(s: string | null): string {
  if (s === null) return 'null';
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

/** A JSON number (or null) exactly as JSON.stringify writes it (non-finite: null). */
function jsonNumber(n: number | null): string {
  return n !== null && Number.isFinite(n) ? String(n) : 'null';
}

function jsonStrings(list: readonly string[]): string {
  let out = '[';
  for (let i = 0; i < list.length; i++) out += (i === 0 ? '' : ',') + jsonString(list[i] as string);
  return `${out}]`;
}

/**
 * The event's line and hash in one pass: the canonical JSON written directly, field by field, in
 * canonical key order — the same text as `JSON.stringify(buildRecordBody(…))` (test/unit/audit/
 * encode.test.ts compares them over adversarial events), without building the body object and
 * without the `lineFor` copy. The rare shapes (gap records, raw SQL, parameters) take buildRecordBody.
 */
export function encodeEvent(ev: PendingEvent, seq: number, prev: string, opts: BuildOptions): EncodedRecord {
  const raw = opts.includeRawSql ? scrubRawSql(ev.sql_raw) : null;
  if (hasOptionalKeys(ev, raw)) return encodeRecord(buildRecordBody(ev, seq, prev, opts), opts.key);
  const key = opts.key;
  const decision = scrubField(ev.decision) ?? 'failed';
  const ts = typeof ev.ts === 'number' ? new Date(ev.ts).toISOString() : ev.ts;
  // the body without its closing brace: `}` ends the hashed text, `,"hash":…}` the line
  const open =
    (key === undefined ? '{' : `{"alg":"${AUDIT_HMAC_ALG}",`) +
    `"approval_id":${jsonString(scrubField(ev.approval_id))}` +
    `,"blast_radius_rows":${jsonNumber(count(ev.blast_radius_rows))}` +
    `,"client":${jsonString(scrubField(ev.client))}` +
    `,"database":${jsonString(scrubField(ev.database))}` +
    `,"decision":${jsonString(decision)}` +
    `,"duration_ms":${jsonNumber(millis(ev.duration_ms))}` +
    `,"fingerprint":${jsonString(scrubField(ev.fingerprint ?? identityField(ev.statement, 'fingerprint')))}` +
    (key === undefined ? '' : `,"key_id":${jsonString(key.keyId)}`) +
    `,"kind":${jsonString(scrubField(ev.kind))}` +
    `,"observed":${ev.observed === true ? 'true' : 'false'}` +
    `,"prev":${jsonString(prev)}` +
    `,"principal":${jsonString(scrubField(ev.principal))}` +
    `,"reasons":${jsonStrings(scrubReasons(ev.reasons))}` +
    `,"relations":${jsonStrings(scrubList(ev.relations))}` +
    `,"request_id":${jsonString(scrubField(ev.request_id))}` +
    `,"rows":${jsonNumber(count(ev.rows))}` +
    `,"seq":${jsonNumber(seq)}` +
    `,"sql":${jsonString(scrubNormalizedSql(ev.normalized_sql ?? identityField(ev.statement, 'normalized')))}` +
    `,"sqlstate":${jsonString(scrubField(ev.sqlstate))}` +
    `,"tool":${jsonString(scrubField(ev.tool))}` +
    `,"truncated":${String(bool(ev.truncated))}` +
    `,"ts":${jsonString(ts)}` +
    `,"undo_id":${jsonString(scrubField(ev.undo_id))}` +
    `,"v":${AUDIT_FORMAT_VERSION}`;
  const canonical = `${open}}`;
  const hash = key === undefined ? sha256Hex(canonical) : key.mac(canonical);
  return { line: `${open},"hash":"${hash}"}`, hash };
}

/** The line and hash of a body: HMAC-SHA-256 under `key` (the key the body was built with), else sha256. */
export function encodeRecord(body: AuditRecordBody, key?: AuditKey): EncodedRecord {
  if ((body.alg === undefined) !== (key === undefined) || (key !== undefined && body.key_id !== key.keyId)) {
    throw new Error('audit record body and key disagree (build and encode with the same key)');
  }
  const canonical = JSON.stringify(body);
  const hash = key === undefined ? sha256Hex(canonical) : key.mac(canonical);
  return { line: lineFor(canonical, hash), hash };
}
