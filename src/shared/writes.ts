/**
 * Guarded writes: the request and result types of the writes port, shared by the gateway core
 * (which drives writes through WritesPort, src/core/ports.ts) and the database layer that carries
 * them out (src/db/writes). Types, plus UndoConflictError: the one refusal whose data (the
 * conflicting keys) the core reads, so both sides need the class. Nothing here does I/O.
 */
import type { ResolvedLimits } from '../config/schema.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { Reason } from '../guard/reasons.js';

// ---------------------------------------------------------------------------------------------
// Sessions and blast radius (src/db/writes/session.ts, measure.ts)

/** The principal's session for a write: limits, search_path, role and principal setting. */
export interface WriteSessionOptions {
  limits: ResolvedLimits;
  searchPath: readonly string[];
  /** SET LOCAL ROLE for the agent's statement (grants and row-level security apply). */
  role?: string;
  /** SELECT set_config(setting, value, true), e.g. pgwarden.principal = alice. */
  principal?: { setting: string; value: string };
}

export interface BlastRadius {
  /** Rows the write will change; null when it could not be counted (plan.uncountableReason). */
  rows: number | null;
  /** pg_class.reltuples of the target table; null when unknown (never analyzed). */
  tableEstimate: number | null;
  /** rows / max(tableEstimate, rows), 0..1; null when either is unknown. */
  share: number | null;
  method: 'count' | 'ast' | 'execute-rollback' | 'uncountable';
  elapsedMs: number;
  uncountableReason?: string;
}

export interface MeasureOptions {
  /** The principal's session (role, search_path, limits: statement_timeout is the time box). */
  session: WriteSessionOptions;
  /** The policy's writes.measure. Default `count`. */
  method?: 'count' | 'execute-rollback';
  /** Bind values for $n (predefined tools). */
  params?: readonly unknown[];
}

// ---------------------------------------------------------------------------------------------
// Execute with undo (src/db/writes/execute.ts)

export interface ExecuteWriteOptions {
  /** The principal's session: limits (statement_timeout bounds the write), search_path, role. */
  session: WriteSessionOptions;
  /** Recorded in the journal: who wrote (the principal). */
  principal: string;
  /** The exact statement the agent sent: its SHA-256 is the journal's statement digest. */
  sql: string;
  /** Normalized statement (no literals), recorded in the journal. */
  normalizedSql: string;
  /** Bind values for $n (predefined tools); bound to captureSql and executeSql alike. */
  params?: readonly unknown[];
  /** Refuse (roll back) when the write changes more rows than this: the measured or approved radius. */
  allowedRows?: number;
  /** writes.max_capture_rows / max_capture_bytes. */
  maxCaptureRows: number;
  maxCaptureBytes: number;
  /** Record an undo entry. Default: plan.reversible. false only when the policy allows irreversible writes. */
  journal?: boolean;
  /** An approval claimed by ApprovalService (status executing): marked executed in the same transaction. */
  approvalId?: string;
}

export interface ExecuteWriteResult {
  rowCount: number;
  /** null when no journal entry was written (journal: false). */
  undoId: string | null;
  elapsedMs: number;
}

// ---------------------------------------------------------------------------------------------
// In-client confirmations (src/db/writes/confirmations.ts)

/** A single-use confirmation offered instead of an operator hold. */
export interface NewConfirmation {
  principal: string;
  sql: string;
  ttlMs: number;
}

export interface Confirmation {
  confirmationId: string;
  expiresAt: string;
}

/** Redeem a confirmation: consumed at most once, bound to the principal and the statement's digest. */
export interface ConfirmationRedeem {
  confirmationId: string;
  principal: string;
  sql: string;
}

// ---------------------------------------------------------------------------------------------
// Revert (src/db/writes/revert.ts)

export interface RevertOptions {
  /** Who reverts, recorded as reverted_by and as the revert entry's principal (e.g. `alice` or `operator:bob`). */
  by: string;
  /** Only entries written by this principal (the agent-facing revert tool). */
  principal?: string;
  /**
   * Session for the restore statements: role and principal setting apply to them (grants and
   * RLS), limits bound them. Default: the gateway's login role with the default limits.
   */
  session?: WriteSessionOptions;
  /**
   * Judge the revert as the write it is, under the policy in force (the agent-facing tool):
   * called after the journal entry is locked and before any row of the table is read, with
   * the inverse write; non-empty reasons refuse it (nothing is read, checked or changed).
   */
  authorize?: (write: RevertWrite) => Promise<Reason[]>;
}

/** The write a revert performs: the inverse of the recorded one, on ONLY the recorded table. */
export interface RevertWrite {
  schema: string;
  name: string;
  /** insert (undo a DELETE), update (undo an UPDATE), delete (undo an INSERT). */
  kind: 'insert' | 'update' | 'delete';
  rowCount: number;
  primaryKey: string[];
  /** Columns the revert writes (no generated columns; no identity-always or key columns for update). */
  columns: string[];
}

export interface RevertResult {
  undoId: string;
  /** Undo id of the revert's own journal entry. */
  revertUndoId: string;
  table: string;
  /** Kind of the reverted write. */
  kind: 'insert' | 'update' | 'delete';
  rowCount: number;
}

/** UNDO_CONFLICT with the primary keys of the rows that changed since the write. */
export class UndoConflictError extends GatewayError {
  /** Primary keys of the changed rows, values as text, at most 50 (src/db/writes/revert.ts). */
  readonly conflicts: Record<string, string>[];
  readonly conflictCount: number;

  constructor(table: string, conflicts: Record<string, string>[], total: number, why?: string) {
    const listed = conflicts.map((k) => Object.entries(k).map(([c, v]) => `${c}=${v}`).join(',')).join('; ');
    super(
      'UNDO_CONFLICT',
      why ?? `${total} row${total === 1 ? '' : 's'} of ${table} changed since the write (primary key ${listed}${total > conflicts.length ? '; …' : ''}); nothing was reverted.`,
      { decision: 'block' },
    );
    this.conflicts = conflicts;
    this.conflictCount = total;
  }
}

// ---------------------------------------------------------------------------------------------
// Approval queue (src/db/writes/approvals.ts)

export type ApprovalStatus = 'pending' | 'executing' | 'executed' | 'rejected' | 'expired' | 'failed' | 'refused';

export const APPROVAL_STATUSES: readonly ApprovalStatus[] = ['pending', 'executing', 'executed', 'rejected', 'expired', 'failed', 'refused'];

/** The blast radius shown for approval (measure.ts BlastRadius, or any superset). */
export interface ApprovalBlastRadius {
  rows: number | null;
  tableEstimate?: number | null;
  share?: number | null;
  method?: string;
  elapsedMs?: number;
  uncountableReason?: string;
}

export interface Approval {
  approvalId: string;
  principal: string;
  database: string;
  /** The exact statement (with literals): what runs when approved. Show it to operators only. */
  sql: string;
  normalizedSql: string;
  /** SHA-256 of `sql`. */
  digest: string;
  parameters: unknown[] | null;
  blastRadius: ApprovalBlastRadius;
  reasons: Reason[];
  status: ApprovalStatus;
  createdAt: string;
  expiresAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  /** The operator's reason for a rejection. */
  note: string | null;
  finishedAt: string | null;
  /** executed: { undoId, rowCount }; refused/failed: { reasons }. */
  result: Record<string, unknown> | null;
}

export interface NewApproval {
  principal: string;
  sql: string;
  normalizedSql: string;
  parameters?: readonly unknown[];
  blastRadius: ApprovalBlastRadius;
  reasons: readonly Reason[];
  /** writes.approval_ttl_ms */
  ttlMs: number;
  /** writes.max_pending_approvals / max_pending_bytes: the principal's pending holds in this database. */
  limits?: { maxPending: number; maxPendingBytes: number };
}

export interface ApprovalFilter {
  status?: ApprovalStatus;
  principal?: string;
  database?: string;
  /** Default 100, at most 1000. */
  limit?: number;
}

/** What approval needs from the gateway (wired by the integrator). */
export interface ApprovalHooks {
  /** Re-judge the held statement with the CURRENT policy (guard + planner) for approval.principal on approval.database. */
  revalidate(approval: Approval): Promise<{ ok: true } | { ok: false; reasons: Reason[] }>;
  /**
   * Re-measure the blast radius now (rows null: uncountable) and apply the thresholds IN FORCE
   * now: `reasons` (non-empty) when they refuse the write (e.g. block_above_rows lowered since).
   */
  measure(approval: Approval): Promise<{ rows: number | null; reasons?: Reason[] }>;
  /**
   * Execute with undo. MUST pass `approvalId` to executeWrite (ExecuteWriteOptions.approvalId) so
   * the approval turns executed in the write's own transaction, and `allowedRows` as allowedRows.
   */
  execute(approval: Approval, options: { approvalId: string; allowedRows?: number }): Promise<{ rowCount: number; undoId: string | null }>;
}

export type ApproveOutcome =
  | { status: 'executed'; approval: Approval; rowCount: number; undoId: string | null }
  | { status: 'refused' | 'failed'; approval: Approval; reasons: Reason[] };
