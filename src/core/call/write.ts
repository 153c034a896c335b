/**
 * The guarded-write path after the guard, shared by `execute`, predefined write tools, reverts and
 * operator approvals: enforce the decision (observe mode never lets a refused write through),
 * masking check, then src/core/writes.ts (plan, measure, thresholds, hold/block/execute with undo),
 * with a durable audit intent before anything reaches the database.
 *
 * Guarantees: nothing is written unless the decision allows it and masking planned it; the intent
 * record is written durably before the write runs; a CATALOG_CHANGED refusal reloads the catalog
 * so the next call judges the new definitions.
 * Does not: judge (call/judge.ts) or authenticate operators.
 */
import { GatewayError, isGatewayError } from '../errors.js';
import { effectiveLimits } from '../principals.js';
import type { AuditEventInput, WriteSessionOptions } from '../ports.js';
import { refused, type Outcome } from '../results.js';
import { runGuardedWrite, type ExecutePayload, type InClientConfirm } from '../writes.js';
import type { Judged, Resolved } from './context.js';
import { enforce, recordRawSql } from './judge.js';
import type { CallPlumbing } from './plumbing.js';
import { maskPlan } from './read.js';

/** The guarded-write path after the guard: enforce, masking check, measure, hold/block/execute with undo. */
export async function writeJudged(
  p: CallPlumbing,
  r: Resolved,
  event: AuditEventInput,
  judged: Judged,
  sql: string,
  principal: string,
  params?: readonly unknown[],
  confirm?: InClientConfirm,
): Promise<Outcome<ExecutePayload>> {
  const decision = judged.decision.observed && judged.decision.reasons.length > 0 ? { ...judged.decision, decision: 'block' as const } : judged.decision;
  recordRawSql(p, event, sql);
  const blocked = enforce(decision, event);
  if (blocked) return refused(blocked);
  const masking = maskPlan(p, r, judged, event);
  if (!masking.ok) return refused({ decision: 'block', reasons: masking.reasons });
  const writes = p.deps.writes;
  const writer = writes?.writer(r.database);
  if (!writes || !writer) throw new GatewayError('INTERNAL_ERROR', 'Writes are not set up for this database.');
  await p.deps.writesReady?.();
  const out = await refreshOnCatalogChange(r, () => runGuardedWrite(writes, writer, {
    database: r.database,
    decision: judged.decision,
    // masked relations the write reads are replaced by their masked projections (src/mask/writes.ts)
    ...(masking.rewritten ? { planStmt: masking.stmt, keyParams: masking.params } : {}),
    catalog: judged.catalog,
    searchPath: r.db.config.search_path,
    policy: r.policy,
    session: writeSession(p, r, principal),
    principal,
    sql,
    ...(params ? { params } : {}),
    ...(confirm ? { confirm } : {}),
    beforeExecute: (radius) => p.deps.audit.durable(writeIntent(event, radius.rows)),
  }));
  recordWrite(event, out);
  return out;
}

/** A write refused because definitions changed under it: reload the catalog so the next call judges the new ones. */
async function refreshOnCatalogChange<T>(r: Resolved, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isGatewayError(err) && err.code === 'CATALOG_CHANGED') await r.db.refreshCatalog({ force: true }).catch(() => undefined);
    throw err;
  }
}

/** The session settings of a write for this principal: effective limits, search path, pinned role, principal setting. */
export function writeSession(p: CallPlumbing, r: Resolved, principal: string): WriteSessionOptions {
  return {
    limits: effectiveLimits(p.deps.config, r.database, r.policy),
    searchPath: r.db.config.search_path,
    ...(r.policy.role !== undefined ? { role: r.policy.role } : {}),
    principal: { setting: r.policy.principal_setting, value: principal },
  };
}

/**
 * The record written (durably) before a write or revert reaches the database: the call's event so
 * far, as `allowed`. The call's outcome (`executed`, `reverted`, `failed`, …) follows as its own
 * record with the same request_id, so a crash in between still leaves the decision in the log.
 */
export function writeIntent(event: AuditEventInput, blastRadiusRows: number | null): AuditEventInput {
  const intent: AuditEventInput = { ...event, decision: 'allowed' };
  if (blastRadiusRows !== null) intent.blast_radius_rows = blastRadiusRows;
  return intent;
}

/** Fill the audit event from a write's outcome. */
function recordWrite(event: AuditEventInput, out: Outcome<ExecutePayload>): void {
  if (out.ok) {
    event.decision = 'executed';
    event.rows = out.value.rowCount;
    if (out.value.undoId) event.undo_id = out.value.undoId;
    if (out.value.blastRadius.rows !== null) event.blast_radius_rows = out.value.blastRadius.rows;
    return;
  }
  const f = out.refusal;
  event.decision = f.decision === 'hold' ? 'held' : f.decision === 'block' ? 'blocked' : 'failed';
  event.reasons = f.reasons.map((x) => x.code);
  if (f.approvalId) event.approval_id = f.approvalId;
  const rows = (f.blastRadius as { rows?: number | null } | undefined)?.rows;
  if (typeof rows === 'number') event.blast_radius_rows = rows;
}
