/**
 * The `check` tool: the guard's decision on a statement for this principal, without running it.
 * Audited with the decision the call would have had.
 */
import type { Decision } from '../../guard/types.js';
import type { CallContext } from '../call/context.js';
import { judge, recordRawSql } from '../call/judge.js';
import type { CallPlumbing } from '../call/plumbing.js';
import { ok, type Outcome } from '../results.js';

/** What `check` returns: the guard's decision, without running anything. */
export type CheckPayload = Pick<Decision, 'decision' | 'kind' | 'writeKind' | 'explain' | 'relations' | 'functions' | 'reasons' | 'observed' | 'fingerprint' | 'normalized'> & {
  database: string;
};

export function check(p: CallPlumbing, ctx: CallContext, args: { sql: string; database?: string | undefined }): Promise<Outcome<CheckPayload>> {
  return p.call(ctx, 'check', args.database, async (r, _started, event) => {
    const { decision } = await judge(p, ctx, r, 'check', args.sql);
    recordRawSql(p, event, args.sql);
    event.decision = decision.decision === 'allow' ? 'allowed' : decision.decision === 'hold' ? 'held' : 'blocked';
    event.reasons = decision.reasons.map((x) => x.code);
    return ok({
      database: r.database,
      decision: decision.decision,
      kind: decision.kind,
      ...(decision.writeKind ? { writeKind: decision.writeKind } : {}),
      ...(decision.explain ? { explain: decision.explain } : {}),
      relations: decision.relations,
      functions: decision.functions,
      reasons: decision.reasons,
      observed: decision.observed,
      fingerprint: decision.fingerprint,
      normalized: decision.normalized,
    });
  });
}
