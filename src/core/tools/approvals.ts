/**
 * Approval hooks for operators (admin API, CLI): re-judge a held write under the CURRENT policy,
 * re-measure it, and execute it with undo, exactly once (the approval turns executed in the
 * write's own transaction).
 *
 * Guarantees: an approved write runs only if, at approval time, the principal still reaches the
 * database with `execute` enabled (or, for a predefined tool's write, is still given a tool with
 * exactly this statement), the guard allows it on a freshly loaded catalog, masking plans it, and
 * its re-measured rows meet the thresholds in force; it never changes more rows than approved nor
 * than block_above_rows; a durable intent precedes it and an `approved` record follows.
 * Does not: authenticate the operator (the admin API and CLI do).
 */
import { reason, type Reason } from '../../guard/reasons.js';
import { applyThresholds, type WritePlan } from '../../guard/write/index.js';
import type { CallContext, Judged, Resolved } from '../call/context.js';
import { judge, judgePredefined } from '../call/judge.js';
import type { CallPlumbing } from '../call/plumbing.js';
import { maskPlan, withKeyParams } from '../call/read.js';
import { writeIntent, writeSession } from '../call/write.js';
import { GatewayError } from '../errors.js';
import type { Approval, ApprovalHooks, AuditEventInput } from '../ports.js';
import { grantedTo } from '../predefined.js';
import { planAllowedWrite } from '../writes.js';

type Prepared = { ctx: CallContext; r: Resolved; judged: Judged; plan: WritePlan; params: readonly unknown[] | undefined };

export function approvalHooks(p: CallPlumbing): ApprovalHooks {
  const must = async (a: Approval) => {
    const pre = await prepare(p, a);
    if ('reasons' in pre) throw new GatewayError(pre.reasons[0]?.code ?? 'APPROVAL_RECHECK_FAILED', pre.reasons[0]?.message, { decision: 'block' });
    const writer = p.deps.writes?.writer(a.database);
    if (!writer) throw new GatewayError('INTERNAL_ERROR', 'Writes are not set up for this database.');
    return { ...pre, writer };
  };
  return {
    revalidate: async (a) => {
      const pre = await prepare(p, a);
      return 'reasons' in pre ? { ok: false, reasons: pre.reasons } : { ok: true };
    },
    measure: async (a) => {
      const w = await must(a);
      const radius = await w.writer.measure(w.plan, { session: writeSession(p, w.r, a.principal), method: w.r.policy.writes.measure, ...(w.params ? { params: w.params } : {}) });
      // The thresholds in force now, not those of the hold: a lowered block_above_rows refuses.
      const verdict = applyThresholds(radius.rows ?? undefined, w.r.policy.writes, w.plan.uncountableReason);
      if (verdict.action === 'block') return { rows: radius.rows, reasons: verdict.reason ? [verdict.reason] : [reason('BLAST_RADIUS_EXCEEDED')] };
      return { rows: radius.rows };
    },
    execute: async (a, o) => {
      const w = await must(a);
      const intent: AuditEventInput = { request_id: w.ctx.requestId, principal: a.principal, tool: 'execute', database: a.database, decision: 'allowed', approval_id: a.approvalId, normalized_sql: a.normalizedSql };
      await p.deps.audit.durable(writeIntent(intent, o.allowedRows ?? null));
      const res = await w.writer.execute(w.plan, {
        session: writeSession(p, w.r, a.principal),
        principal: a.principal,
        sql: a.sql,
        normalizedSql: a.normalizedSql,
        approvalId: o.approvalId,
        ...(w.params ? { params: w.params } : {}),
        // Never more than the approved figure, nor than the block threshold in force.
        allowedRows: Math.min(o.allowedRows ?? Number.MAX_SAFE_INTEGER, w.r.policy.writes.block_above_rows),
        maxCaptureRows: w.r.policy.writes.max_capture_rows,
        maxCaptureBytes: w.r.policy.writes.max_capture_bytes,
        journal: w.plan.reversible,
      });
      p.audit({ request_id: w.ctx.requestId, principal: a.principal, tool: 'execute', database: a.database, decision: 'approved', approval_id: a.approvalId, ...(res.undoId ? { undo_id: res.undoId } : {}), rows: res.rowCount, normalized_sql: a.normalizedSql });
      return { rowCount: res.rowCount, undoId: res.undoId };
    },
  };
}

/** Re-judge and re-plan a held write as it would run now; the reasons when it no longer may. */
async function prepare(p: CallPlumbing, a: Approval): Promise<Prepared | { reasons: Reason[] }> {
  const ctx: CallContext = { principal: a.principal, requestId: `approval:${a.approvalId}` };
  // A predefined tool's held write (bound parameters recorded): approved only while the
  // principal still gets a tool with exactly this statement on this database.
  const predefined = a.parameters !== null;
  const config = p.deps.config;
  if (predefined && !Object.values(config.tools).some((t) => t.sql === a.sql && t.database === a.database && grantedTo(config, t, a.principal))) {
    return { reasons: [reason('APPROVAL_RECHECK_FAILED', 'The predefined tool that made this write is no longer given to its principal with this statement.')] };
  }
  const pre = p.precheck(ctx, predefined ? undefined : 'execute', a.database);
  if ('refusal' in pre) return { reasons: pre.refusal.reasons };
  // Judge what will run now: triggers, rules, views and keys as they are defined at approval.
  await pre.db.refreshCatalog({ force: true });
  const judged = predefined ? await judgePredefined(p, ctx, pre, a.sql) : await judge(p, ctx, pre, 'execute', a.sql);
  if (judged.decision.kind !== 'write') return { reasons: [reason('APPROVAL_RECHECK_FAILED')] };
  if (judged.decision.decision !== 'allow' || (judged.decision.observed && judged.decision.reasons.length > 0)) {
    return { reasons: judged.decision.reasons.length > 0 ? judged.decision.reasons : [reason('APPROVAL_RECHECK_FAILED')] };
  }
  const masking = maskPlan(p, pre, judged, { decision: 'allowed' });
  if (!masking.ok) return { reasons: masking.reasons };
  const planned = planAllowedWrite({
    decision: judged.decision,
    ...(masking.rewritten ? { planStmt: masking.stmt } : {}),
    catalog: judged.catalog,
    searchPath: pre.db.config.search_path,
    policy: pre.policy,
  });
  if (!planned.ok) return { reasons: planned.refusal.reasons };
  const params = withKeyParams(a.parameters ?? undefined, masking);
  return { ctx, r: pre, judged, plan: planned.value, params };
}
