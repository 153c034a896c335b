/**
 * The `revert` tool: undo one of the principal's own journaled writes, conflict-checked.
 *
 * Guarantees: a revert is judged as the write it amounts to (its inverse statement, as `execute`
 * under the policy in force, on a freshly loaded catalog) and its row count meets the thresholds
 * in force; a durable audit intent precedes it; rows changed since the write refuse it
 * (UNDO_CONFLICT with their keys).
 * Does not: revert another principal's writes (src/db/writes checks the owner).
 */
import { reason, type Reason } from '../../guard/reasons.js';
import { applyThresholds } from '../../guard/write/index.js';
import type { CallContext, Resolved } from '../call/context.js';
import { judge } from '../call/judge.js';
import type { CallPlumbing } from '../call/plumbing.js';
import { writeIntent, writeSession } from '../call/write.js';
import { GatewayError } from '../errors.js';
import { UndoConflictError, type RevertWrite } from '../ports.js';
import { quoteIdent } from '../names.js';
import { ok, refused, type Outcome } from '../results.js';
import { planAllowedWrite } from '../writes.js';

export function revert(p: CallPlumbing, ctx: CallContext, args: { undoId: string; database?: string | undefined }): Promise<Outcome<Record<string, unknown>>> {
  return p.call(ctx, 'revert', args.database, async (r, _started, event) => {
    const writer = p.deps.writes?.writer(r.database);
    if (!writer) throw new GatewayError('INTERNAL_ERROR', 'Writes are not set up for this database.');
    await p.deps.writesReady?.();
    event.undo_id = args.undoId;
    try {
      await p.deps.audit.durable(writeIntent(event, null));
      const res = await writer.revert(args.undoId, {
        by: ctx.principal,
        principal: ctx.principal,
        session: writeSession(p, r, ctx.principal),
        authorize: (w) => authorizeRevert(p, ctx, r, w),
      });
      event.decision = 'reverted';
      event.rows = res.rowCount;
      return ok({ decision: 'reverted', database: r.database, ...res });
    } catch (err) {
      if (err instanceof UndoConflictError) {
        event.decision = 'blocked';
        event.reasons = err.reasons.map((x) => x.code);
        return refused({ decision: 'block', reasons: err.reasons, conflicts: err.conflicts });
      }
      throw err;
    }
  });
}

/**
 * A revert is a write: judge its inverse write as `execute` would under the policy in force
 * (read and write table rules, kinds, reversibility, triggers and rules, on a freshly loaded
 * catalog), then apply the thresholds in force to its row count. Literals in the judged text
 * are placeholders: only its shape and relations are judged, it never runs.
 */
async function authorizeRevert(p: CallPlumbing, ctx: CallContext, r: Resolved, w: RevertWrite): Promise<Reason[]> {
  await r.db.refreshCatalog({ force: true });
  const judged = await judge(p, ctx, r, 'execute', revertStatement(w));
  const d = judged.decision;
  if (d.decision !== 'allow' || (d.observed && d.reasons.length > 0)) return d.reasons.length > 0 ? d.reasons : [reason('WRITE_NOT_ALLOWED')];
  const planned = planAllowedWrite({ decision: d, catalog: judged.catalog, searchPath: r.db.config.search_path, policy: r.policy });
  if (!planned.ok) return planned.refusal.reasons;
  const verdict = applyThresholds(w.rowCount, r.policy.writes);
  if (verdict.action === 'block') return verdict.reason ? [verdict.reason] : [reason('BLAST_RADIUS_EXCEEDED')];
  if (verdict.action === 'hold') {
    return [reason('REVERT_NEEDS_OPERATOR', `The revert would change ${w.rowCount} rows of ${w.schema}.${w.name}; more than ${r.policy.writes.confirm_above_rows} need an operator.`)];
  }
  return [];
}

/**
 * The statement a revert amounts to, for judging only (never run): the inverse write on ONLY the
 * recorded table, touching the columns the revert writes; values are NULL placeholders.
 */
export function revertStatement(w: RevertWrite): string {
  const t = `${quoteIdent(w.schema)}.${quoteIdent(w.name)}`;
  const key = w.primaryKey.length > 0 ? w.primaryKey : w.columns.slice(0, 1);
  const where = key.map((c) => `${quoteIdent(c)} = '0'`).join(' AND ') || 'false';
  if (w.kind === 'insert') {
    const cols = w.columns.length > 0 ? w.columns : key;
    return `INSERT INTO ${t} (${cols.map(quoteIdent).join(', ')}) VALUES (${cols.map(() => 'NULL').join(', ')})`;
  }
  if (w.kind === 'delete') return `DELETE FROM ONLY ${t} WHERE ${where}`;
  const set = w.columns.length > 0 ? w.columns : key;
  return `UPDATE ONLY ${t} SET ${set.map((c) => `${quoteIdent(c)} = NULL`).join(', ')} WHERE ${where}`;
}
