/**
 * The `explain` tool: judge the statement as `explain` (ANALYZE judged as running it), mask at the
 * source, and return the plan through the read path (read-only, capped).
 * Does not: return rows.
 */
import type { Reason } from '../../guard/reasons.js';
import type { CallContext } from '../call/context.js';
import { enforce, judge, recordRawSql } from '../call/judge.js';
import type { CallPlumbing } from '../call/plumbing.js';
import { dbInfo, maskedErrors, maskPlan, planOf, read, withKeyParams } from '../call/read.js';
import { ok, refused, type Outcome } from '../results.js';

export type ExplainPayload = { database: string; masked: string[]; plan: unknown; elapsedMs: number; observed?: { reasons: Reason[] } };

export function explain(p: CallPlumbing, ctx: CallContext, args: { sql: string; database?: string | undefined; analyze?: boolean | undefined }): Promise<Outcome<ExplainPayload>> {
  return p.call(ctx, 'explain', args.database, async (r, started, event, ctx) => {
    const analyze = args.analyze === true;
    const judged = await judge(p, ctx, r, 'explain', args.sql, analyze);
    recordRawSql(p, event, args.sql);
    const blocked = enforce(judged.decision, event);
    if (blocked) return refused(blocked);
    const masking = maskPlan(p, r, judged, event);
    if (!masking.ok) return refused({ decision: 'block', reasons: masking.reasons });
    const sql = masking.rewritten ? masking.sql : args.sql;
    const result = await maskedErrors(masking.rewritten, () => read(p, ctx, r, sql, { analyze }, () => dbInfo(r, judged.decision, true), withKeyParams(undefined, masking)));
    return ok({
      database: r.database,
      masked: masking.masked,
      plan: planOf(result),
      elapsedMs: Date.now() - started,
      ...(judged.decision.observed && judged.decision.reasons.length > 0 ? { observed: { reasons: judged.decision.reasons } } : {}),
    });
  });
}
