/**
 * Shapes of what the gateway core returns to adapters (MCP over HTTP or stdio, CLI).
 * Every outcome is either a success payload or a Refusal; adapters never invent their own.
 */
import type { Reason } from '../guard/reasons.js';

export interface ColumnInfo {
  name: string;
  type: string;
}

export interface QueryPayload {
  database: string;
  columns: ColumnInfo[];
  rows: unknown[][];
  rowCount: number;
  /** True when more rows (or bytes) existed than the caps allow. Never silent. */
  truncated: boolean;
  truncatedBy?: 'rows' | 'bytes';
  /** Columns masked at the source (schema.table.column), issue #4. */
  masked: string[];
  elapsedMs: number;
  /** Present when the policy is in observe mode and the guard would have refused. */
  observed?: { reasons: Reason[] };
  /** Present when an explain-only policy returned a plan instead of rows. */
  plan?: unknown;
  notice?: string;
}

export interface Refusal {
  decision: 'block' | 'hold' | 'error';
  reasons: Reason[];
  /** SQLSTATE when the database reported the error. */
  sqlstate?: string;
  /** 1-based position in the statement, when known. */
  position?: number;
  requestId?: string;
  /** Held writes: the approval to wait for (poll status), and when it expires. */
  approvalId?: string;
  expiresAt?: string;
  /** Writes: what the blast radius measurement found. */
  blastRadius?: unknown;
  /** In-client confirmation offered instead of a hold (the MCP layer turns it into an input-required result; never sent to the agent as is). */
  confirmation?: { confirmationId: string; rows: number; table: string; database: string; normalizedSql: string };
  /** UNDO_CONFLICT: primary keys of the rows that changed since the write. */
  conflicts?: unknown[];
}

export type Outcome<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

export function ok<T>(value: T): Outcome<T> {
  return { ok: true, value };
}

export function refused<T>(refusal: Refusal): Outcome<T> {
  return { ok: false, refusal };
}
