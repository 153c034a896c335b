/**
 * From an AuditEvent to one hashed NDJSON line.
 *
 * Guarantees: every line is the canonical JSON of its record body plus `hash` (so the verifier
 * can also reject lines that were re-encoded, e.g. with a duplicate key); every field passes the
 * scrubber (src/audit/scrub.ts); `sql_raw` is written only when the operator opted in.
 * Does not: decide anything about the event's truthfulness — it records what the gateway says.
 */
import { lineFor, sha256Hex } from './canonical.js';
import { scrubField, scrubList, scrubNormalizedSql, scrubRawSql, scrubReasons } from './scrub.js';
import { AUDIT_FORMAT_VERSION, type AuditEvent, type AuditRecordBody, type AuditRecordDecision } from './types.js';

/** The sink's private copy of an event, taken synchronously in record(). */
export interface PendingEvent extends Omit<AuditEvent, 'decision' | 'ts'> {
  decision: AuditRecordDecision;
  /** Epoch milliseconds (converted to ISO by the writer, off the hot path) or an ISO string. */
  ts: number | string;
  dropped?: number;
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:\d{2})$/;

function snapshotTs(ts: AuditEvent['ts']): number | string {
  if (ts instanceof Date && !Number.isNaN(ts.getTime())) return ts.getTime();
  if (typeof ts === 'string' && ISO.test(ts)) return ts;
  return Date.now();
}

/** O(fields) snapshot so later mutation of the caller's object cannot change the record. */
export function snapshotEvent(event: AuditEvent): PendingEvent {
  return {
    ...event,
    ts: snapshotTs(event.ts),
    reasons: event.reasons ? event.reasons.slice() : null,
    relations: event.relations ? event.relations.slice() : null,
  };
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
}

/** The record body (everything but `hash`), keys in canonical order. */
export function buildRecordBody(ev: PendingEvent, seq: number, prev: string, opts: BuildOptions): AuditRecordBody {
  const raw = opts.includeRawSql ? scrubRawSql(ev.sql_raw) : null;
  // Keys in sorted order: JSON.stringify of this object is its canonical JSON (see canonical.ts).
  return {
    approval_id: scrubField(ev.approval_id),
    blast_radius_rows: count(ev.blast_radius_rows),
    client: scrubField(ev.client),
    database: scrubField(ev.database),
    decision: (scrubField(ev.decision) ?? 'failed') as AuditRecordDecision,
    ...(ev.dropped !== undefined ? { dropped: ev.dropped } : {}),
    duration_ms: millis(ev.duration_ms),
    fingerprint: scrubField(ev.fingerprint),
    kind: scrubField(ev.kind),
    observed: ev.observed === true,
    prev,
    principal: scrubField(ev.principal),
    reasons: scrubReasons(ev.reasons),
    relations: scrubList(ev.relations),
    request_id: scrubField(ev.request_id),
    rows: count(ev.rows),
    seq,
    sql: scrubNormalizedSql(ev.normalized_sql),
    ...(raw !== null ? { sql_raw: raw } : {}),
    sqlstate: scrubField(ev.sqlstate),
    tool: scrubField(ev.tool),
    truncated: bool(ev.truncated),
    ts: typeof ev.ts === 'number' ? new Date(ev.ts).toISOString() : ev.ts,
    undo_id: scrubField(ev.undo_id),
    v: AUDIT_FORMAT_VERSION,
  };
}

export interface EncodedRecord {
  /** The NDJSON line without its newline. */
  line: string;
  hash: string;
}

export function encodeRecord(body: AuditRecordBody): EncodedRecord {
  const canonical = JSON.stringify(body);
  const hash = sha256Hex(canonical);
  return { line: lineFor(canonical, hash), hash };
}
