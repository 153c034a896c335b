/**
 * The guarded write flow, after the guard allowed a single write for `execute`:
 *
 *   plan (pure, src/guard/write) → measure the blast radius (read-only count) → thresholds:
 *   block | hold (durable approval, nothing runs) | execute (one transaction: capture before-images,
 *   write with RETURNING, journal, commit) → undo id.
 *
 * Guarantees: nothing is written unless the radius was measured and is within the policy's
 * thresholds (or an operator approved it); the executor rolls back if the write changes more rows
 * than measured/approved; a write whose effects cannot be journaled runs only when the policy
 * says allow_irreversible. Does not: judge the statement (the guard did) or authenticate
 * operators (the admin API and CLI do).
 */
import type { DatabasePolicy } from '../config/schema.js';
import { reason } from '../guard/reasons.js';
import type { CatalogSnapshot, Decision } from '../guard/types.js';
import { applyThresholds, isWritePlan, planWrite, type WritePlan } from '../guard/write/index.js';
import {
  executeWrite,
  measureBlastRadius,
  type BlastRadius,
  type WriteDatabase,
  type WriteSessionOptions,
  type WriteState,
} from '../db/writes/index.js';
import { ok, refused, type Outcome } from './results.js';

export interface ExecutePayload {
  decision: 'executed';
  database: string;
  rowCount: number;
  /** Pass to revert to undo this write; null when the policy allowed an irreversible write. */
  undoId: string | null;
  blastRadius: BlastRadius;
  elapsedMs: number;
}

export interface WriteInput {
  database: string;
  decision: Decision;
  catalog: CatalogSnapshot;
  searchPath: readonly string[];
  policy: DatabasePolicy;
  session: WriteSessionOptions;
  principal: string;
  sql: string;
}

/** Plan one allowed write; a refusal when it cannot be planned or recorded. */
export function planAllowedWrite(input: Pick<WriteInput, 'decision' | 'catalog' | 'searchPath' | 'policy'>): Outcome<WritePlan> {
  const plan = planWrite(input.decision, input.catalog, input.searchPath);
  if (!isWritePlan(plan)) return refused({ decision: 'block', reasons: plan.reasons });
  if (!plan.reversible && !input.policy.writes.allow_irreversible) {
    return refused({ decision: 'block', reasons: plan.irreversibleReasons.map((m) => reason('NOT_REVERSIBLE', m)) });
  }
  return ok(plan);
}

/** Measure, apply thresholds, then hold, block or execute with undo. */
export async function runGuardedWrite(writes: WriteState, wdb: WriteDatabase, input: WriteInput): Promise<Outcome<ExecutePayload>> {
  const started = Date.now();
  const planned = planAllowedWrite(input);
  if (!planned.ok) return planned;
  const plan = planned.value;
  const rules = input.policy.writes;
  const radius = await measureBlastRadius(wdb, plan, { session: input.session, method: rules.measure });
  const verdict = applyThresholds(radius.rows ?? undefined, rules, plan.uncountableReason);
  const reasons = verdict.reason ? [verdict.reason] : [];
  if (verdict.action === 'block') return refused({ decision: 'block', reasons, blastRadius: radius });
  if (verdict.action === 'hold') {
    const approval = await writes.approvals.create(input.database, {
      principal: input.principal,
      sql: input.sql,
      normalizedSql: input.decision.normalized,
      parameters: [],
      blastRadius: { ...radius },
      reasons,
      ttlMs: rules.approval_ttl_ms,
    });
    return refused({ decision: 'hold', reasons, approvalId: approval.approvalId, expiresAt: approval.expiresAt, blastRadius: radius });
  }
  const result = await executeWrite(wdb, plan, {
    session: input.session,
    principal: input.principal,
    sql: input.sql,
    normalizedSql: input.decision.normalized,
    ...(radius.rows !== null ? { allowedRows: radius.rows } : {}),
    maxCaptureRows: rules.max_capture_rows,
    maxCaptureBytes: rules.max_capture_bytes,
    journal: plan.reversible,
  });
  return ok({
    decision: 'executed',
    database: input.database,
    rowCount: result.rowCount,
    undoId: result.undoId,
    blastRadius: radius,
    elapsedMs: Date.now() - started,
  });
}
