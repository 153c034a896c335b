/**
 * The `check` tool: the guard's decision on a statement for this principal, without running it.
 * Audited with the decision the call would have had, column masking included: a statement the
 * guard allows but the masking rewrite refuses is reported blocked with the masking reasons, as
 * query and execute would refuse it.
 */
import type { Decision } from '../../guard/types.js';
import type { CallContext } from '../call/context.js';
import { judge, recordRawSql } from '../call/judge.js';
import { maskPlan } from '../call/read.js';
import type { CallPlumbing } from '../call/plumbing.js';
import { ok, type Outcome } from '../results.js';

/** What `check` returns: the guard's decision, without running anything. */
export type CheckPayload = Pick<Decision, 'decision' | 'kind' | 'writeKind' | 'explain' | 'relations' | 'functions' | 'reasons' | 'observed' | 'fingerprint' | 'normalized'> & {
  database: string;
};

export function check(p: CallPlumbing, ctx: CallContext, args: { sql: string; database?: string | undefined }): Promise<Outcome<CheckPayload>> {
  return p.call(ctx, 'check', args.database, async (r, _started, event) => {
    const judged = await judge(p, ctx, r, 'check', args.sql);
    const { decision } = judged;
    recordRawSql(p, event, args.sql);
    event.decision = decision.decision === 'allow' ? 'allowed' : decision.decision === 'hold' ? 'held' : 'blocked';
    event.reasons = decision.reasons.map((x) => x.code);
    // an allowed statement still meets column masking in query/execute: check says what they would
    // (MASK_REWRITE_UNSUPPORTED, MASKED_COLUMN_WRITE …), planned the same way, nothing run
    const masking = decision.decision === 'allow' ? maskPlan(p, r, judged, event) : undefined;
    const refusedByMasking = masking !== undefined && !masking.ok ? masking.reasons : undefined;
    return ok({
      database: r.database,
      decision: refusedByMasking ? 'block' : decision.decision,
      kind: decision.kind,
      ...(decision.writeKind ? { writeKind: decision.writeKind } : {}),
      ...(decision.explain ? { explain: decision.explain } : {}),
      relations: decision.relations,
      functions: decision.functions,
      reasons: refusedByMasking ?? decision.reasons,
      observed: decision.observed,
      fingerprint: decision.fingerprint,
      normalized: decision.normalized,
    });
  });
}
