/**
 * The `query` tool: judge the statement as `query`, then the read path (mask, run read-only and
 * capped, shape). Under an explain-only policy, a read refused only because rows are not shown
 * runs as a plan (no ANALYZE) instead of rows.
 * Does not: run anything the guard did not allow (call/read.ts enforces).
 */
import type { Decision } from '../../guard/types.js';
import type { CallContext } from '../call/context.js';
import { judge } from '../call/judge.js';
import type { CallPlumbing } from '../call/plumbing.js';
import { readJudged } from '../call/read.js';
import type { Outcome, QueryPayload } from '../results.js';

export function query(p: CallPlumbing, ctx: CallContext, args: { sql: string; database?: string | undefined }): Promise<Outcome<QueryPayload>> {
  return p.call(ctx, 'query', args.database, async (r, started, event, ctx) => {
    const judged = await judge(p, ctx, r, 'query', args.sql);
    // explain-only: a read that is refused only because rows are not shown runs as a plan.
    const explainOnly = r.policy.mode === 'explain-only' && onlyExplainOnly(judged.decision);
    if (explainOnly) judged.decision = { ...judged.decision, decision: 'allow', reasons: [] };
    return readJudged(p, ctx, r, started, event, judged, args.sql, explainOnly);
  });
}

/** True when a decision's only objection is that the policy is explain-only. */
function onlyExplainOnly(decision: Decision): boolean {
  return decision.decision !== 'allow' && decision.reasons.length > 0 && decision.reasons.every((x) => x.code === 'EXPLAIN_ONLY');
}
