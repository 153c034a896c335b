/**
 * The `execute` tool: one write. Guard (rules, reversibility) → masking check → plan → blast
 * radius → thresholds → executed with an undo id, held for an operator, confirmed in the client,
 * or blocked (call/write.ts). Observe mode never lets a write through that the policy would refuse.
 * A rejected in-client confirmation is audited as `rejected`.
 */
import type { CallContext } from '../call/context.js';
import { judge } from '../call/judge.js';
import type { CallPlumbing } from '../call/plumbing.js';
import { writeJudged } from '../call/write.js';
import type { Outcome } from '../results.js';
import type { ExecutePayload, InClientConfirm } from '../writes.js';

export function execute(p: CallPlumbing, ctx: CallContext, args: { sql: string; database?: string | undefined; confirm?: InClientConfirm }): Promise<Outcome<ExecutePayload>> {
  return p.call(ctx, 'execute', args.database, async (r, _started, event) => {
    const judged = await judge(p, ctx, r, 'execute', args.sql);
    const out = await writeJudged(p, r, event, judged, args.sql, ctx.principal, undefined, args.confirm);
    if (!out.ok && args.confirm && 'redeem' in args.confirm && !args.confirm.redeem.accepted) event.decision = 'rejected';
    return out;
  });
}
