/**
 * Audit contracts: what the gateway hands the sink (AuditEvent) and what is written (AuditRecord).
 *
 * Guarantees: an AuditRecord has a fixed shape (every field present, null when unknown) so that
 * `jq` filters and the verifier see the same keys on every line; `hash` covers every other field,
 * `prev` included (and, in keyed mode, `alg` and `key_id`, so a record cannot be relabelled
 * unkeyed without breaking its hash). Does not: carry raw SQL unless the operator opted in
 * (`audit.include_raw_sql`).
 */

/** Every decision the gateway records. `audit_gap` is written by the sink itself (dropped records, repaired tail). */
export type AuditDecision =
  | 'allowed'
  | 'blocked'
  | 'held'
  | 'approved'
  | 'rejected'
  | 'executed'
  | 'reverted'
  | 'failed'
  | 'auth_failed';

export type AuditRecordDecision = AuditDecision | 'audit_gap';

export const AUDIT_DECISIONS: readonly AuditDecision[] = [
  'allowed',
  'blocked',
  'held',
  'approved',
  'rejected',
  'executed',
  'reverted',
  'failed',
  'auth_failed',
];

/** Something that yields a statement's fingerprint and normalized text (possibly lazily). */
export interface StatementIdentitySource {
  readonly fingerprint: string;
  readonly normalized: string;
}

/**
 * The input the gateway builds for one decision. Only `decision` is required; absent fields are
 * written as null. Compatible with (a superset of) `AuditEventInput` in src/core/ports.ts.
 */
export interface AuditEvent {
  decision: AuditDecision;
  /** Correlates with the response's requestId and logs. */
  request_id?: string | null;
  /** Principal name (never the token). Null/absent for auth_failed. */
  principal?: string | null;
  /** Client address (HTTP remote address after trust_proxy), or 'stdio'. */
  client?: string | null;
  tool?: string | null;
  database?: string | null;
  /** Reason codes (UPPER_SNAKE); anything else is replaced by INVALID_REASON. */
  reasons?: readonly string[] | null;
  /** Statement kind (read, write, ddl, …). */
  kind?: string | null;
  /** Relations touched, schema.name. */
  relations?: readonly string[] | null;
  /** libpg-query fingerprint (groups statements that differ only in constants). */
  fingerprint?: string | null;
  /** Normalized SQL (constants replaced by $n). Scrubbed again defensively before writing. */
  normalized_sql?: string | null;
  /**
   * Where the writer reads `fingerprint` / `normalized_sql` when they are absent: the guard
   * decision's identity, which computes both on first read, so the writer pays for them off the
   * hot path. Kept by reference: must be immutable and must not throw (the guard's is and does not).
   */
  statement?: StatementIdentitySource | null;
  /** Raw SQL: written only when `audit.include_raw_sql` is true; otherwise discarded. */
  sql_raw?: string | null;
  /** Predefined tools: the names of the parameters bound (always written when present). */
  parameters?: readonly string[] | null;
  /** Predefined tools: the bound values, written only when `audit.include_raw_sql` is true. */
  parameter_values?: readonly unknown[] | null;
  /** Rows returned (reads) or affected (writes). */
  rows?: number | null;
  /** True when the row cap or byte cap truncated the result. */
  truncated?: boolean | null;
  duration_ms?: number | null;
  /** SQLSTATE of a database error (failed). */
  sqlstate?: string | null;
  undo_id?: string | null;
  approval_id?: string | null;
  /** Observe mode: the decision was computed but not enforced. */
  observed?: boolean | null;
  /** For holds: the blast radius (rows the write would touch). */
  blast_radius_rows?: number | null;
  /** When the decision happened; defaults to the time record() is called. */
  ts?: Date | string | null;
}

/** One line of the audit log. Keys are listed in canonical (sorted) order. */
export interface AuditRecord {
  /** Keyed records only (audit.hmac_key set): `hash` is HMAC-SHA-256 under the key. Absent: sha256. */
  alg?: 'hmac-sha256';
  approval_id: string | null;
  blast_radius_rows: number | null;
  client: string | null;
  database: string | null;
  decision: AuditRecordDecision;
  /** Only on audit_gap records: how many records were dropped before this one. */
  dropped?: number;
  duration_ms: number | null;
  fingerprint: string | null;
  /** Keyed records only: which key (first 8 hex of HMAC-SHA-256(key, "pgwarden/audit/key-id/v1")). */
  key_id?: string;
  kind: string | null;
  observed: boolean;
  /** Predefined tools only: the parameter names bound. */
  parameters?: string[];
  /** Predefined tools with include_raw_sql only: the bound values. */
  parameter_values?: unknown[];
  /** Hash of the previous record; GENESIS_PREV (64 zeros) for the first record of a chain. */
  prev: string;
  principal: string | null;
  reasons: string[];
  relations: string[];
  request_id: string | null;
  rows: number | null;
  /** 1-based, +1 per record, continuous across restarts and rotated files. */
  seq: number;
  /** Normalized SQL. */
  sql: string | null;
  /** Only when include_raw_sql is on and the gateway passed it. */
  sql_raw?: string;
  sqlstate: string | null;
  tool: string | null;
  truncated: boolean | null;
  /** ISO-8601 UTC. */
  ts: string;
  undo_id: string | null;
  /** Record format version. */
  v: 1;
  /** sha256 (hex) of the canonical JSON of this record without `hash`; HMAC-SHA-256 when `alg` says so. */
  hash: string;
}

export type AuditRecordBody = Omit<AuditRecord, 'hash'>;

export const GENESIS_PREV = '0'.repeat(64);
export const AUDIT_FORMAT_VERSION = 1 as const;

/**
 * Minimal logger the sink needs (pino's Logger satisfies it). Messages never contain record
 * contents, only counts and sanitized error codes.
 */
export interface AuditLogger {
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

export type AuditSinkKind = 'file' | 'stdout' | 'stderr' | 'none';

/** Health and counters for `status` and metrics. A type alias so it is assignable to Record<string, unknown>. */
export type AuditSinkStats = {
  sink: AuditSinkKind;
  /** Records accepted and not yet written. */
  queued: number;
  /** Records written (and fsynced when fsync: always). */
  written: number;
  /** Records lost: queue full or sink failing under on_failure: drop, or recorded after close. */
  dropped: number;
  /** Failed write/open attempts (each retried with backoff). */
  failed: number;
  /** Sanitized description of the last failure (error code and operation, no paths or data). */
  lastError: string | null;
  /** False while the sink cannot write. */
  healthy: boolean;
  /** Sequence number and hash of the last written record: anchor them elsewhere to detect truncation. */
  lastSeq: number;
  lastHash: string;
};
