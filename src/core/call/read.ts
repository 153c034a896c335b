/**
 * The read path after the guard: enforce the decision, plan column masking (fail closed), run the
 * (possibly rewritten) statement through DatabasePort.runRead with the effective limits, role,
 * search path and principal setting, and shape the result.
 *
 * Guarantees: a read runs only when the decision allows it and masking planned it (a policy with
 * masks and no masker is refused); it runs through runRead only (read-only transaction, extended
 * protocol, caps), with the call's signal; a database error on rewritten text loses its position
 * (it would point into text the agent never sent).
 * Does not: judge (call/judge.ts) or audit (the plumbing records the event this path fills).
 */
import { reason } from '../../guard/reasons.js';
import type { Decision } from '../../guard/types.js';
import { summarizeQuery } from '../../guard/index.js';
import { policyHasMasks, type MaskPlan } from '../../mask/index.js';
import { dbOperationInfo, type DbOperationInfo } from '../../telemetry/index.js';
import { isGatewayError } from '../errors.js';
import { effectiveLimits } from '../principals.js';
import type { AuditEventInput, ReadRequest, ReadResult } from '../ports.js';
import { ok, refused, type Outcome, type QueryPayload } from '../results.js';
import type { CallContext, Judged, Resolved } from './context.js';
import { enforce, recordRawSql } from './judge.js';
import type { CallPlumbing } from './plumbing.js';

/** The read path after the guard: enforce, mask at the source, run capped and read-only, shape. */
export async function readJudged(
  p: CallPlumbing,
  ctx: CallContext,
  r: Resolved,
  started: number,
  event: AuditEventInput,
  judged: Judged,
  text: string,
  explainOnly: boolean,
  params?: readonly unknown[],
): Promise<Outcome<QueryPayload>> {
  recordRawSql(p, event, text);
  const blocked = enforce(judged.decision, event);
  if (blocked) return refused(blocked);
  const masking = maskPlan(p, r, judged, event);
  if (!masking.ok) return refused({ decision: 'block', reasons: masking.reasons });
  const sql = masking.rewritten ? masking.sql : text;
  const runParams = withKeyParams(params, masking);
  const result = await maskedErrors(masking.rewritten, () =>
    read(p, ctx, r, sql, explainOnly ? { analyze: false } : undefined, () => dbInfo(r, judged.decision, explainOnly), runParams),
  );
  p.telemetry.metrics.rowsReturned(result.rowCount, 'query');
  if (masking.masked.length > 0) p.telemetry.metrics.maskedCells(result.rowCount * masking.masked.length, 'query');
  event.rows = result.rowCount;
  event.truncated = result.truncated;
  return ok({ ...shape(r.database, result, started, judged.decision, explainOnly), masked: masking.masked });
}

/**
 * One read through the database port, inside a telemetry db-operation span. With telemetry off
 * (NOOP_TELEMETRY, `enabled: false`) there is no span to record: the read runs directly and `op`
 * (the span's attributes) is never built (issue #13: ≈ 1.5 % of a stdio call).
 */
export function read(
  p: CallPlumbing,
  ctx: CallContext,
  r: Resolved,
  sql: string,
  explain: { analyze: boolean } | undefined,
  op: () => DbOperationInfo,
  params?: readonly unknown[],
): Promise<ReadResult> {
  if (!p.telemetry.enabled) return runRead(p, ctx, r, sql, explain, params);
  return p.telemetry.dbOperation(op(), async (scope) => {
    const result = await runRead(p, ctx, r, sql, explain, params);
    scope.setReturnedRows(result.rowCount);
    return result;
  });
}

function runRead(p: CallPlumbing, ctx: CallContext, r: Resolved, sql: string, explain: { analyze: boolean } | undefined, params?: readonly unknown[]): Promise<ReadResult> {
  const options: ReadRequest = {
    sql,
    limits: effectiveLimits(p.deps.config, r.database, r.policy),
    searchPath: r.db.config.search_path,
    principal: { setting: r.policy.principal_setting, value: ctx.principal },
  };
  if (params) options.params = params;
  if (r.policy.role !== undefined) options.role = r.policy.role;
  // The plumbing's cancellation without its AbortSignal (ctx.signal would create one).
  if (ctx.cancel !== undefined) options.cancel = ctx.cancel;
  else if (ctx.signal) options.signal = ctx.signal;
  if (explain) options.explain = explain;
  if (ctx.budgetScope) options.budgetScope = ctx.budgetScope;
  return r.db.runRead(options);
}

function shape(database: string, result: ReadResult, started: number, decision: Decision, explainOnly: boolean): QueryPayload {
  const payload: QueryPayload = {
    database,
    columns: result.columns,
    rows: result.rows,
    rowCount: result.rowCount,
    truncated: result.truncated,
    ...(result.truncatedBy ? { truncatedBy: result.truncatedBy } : {}),
    masked: [],
    elapsedMs: Date.now() - started,
  };
  if (decision.observed && decision.reasons.length > 0) payload.observed = { reasons: decision.reasons };
  if (explainOnly) {
    payload.plan = planOf(result);
    payload.columns = [];
    payload.rows = [];
    payload.rowCount = 0;
    payload.notice = 'explain-only policy: the plan is returned instead of rows';
  }
  return payload;
}

const NO_MASKING: MaskPlan = { ok: true, rewritten: false, masked: [] };

/** Plan column masking for an allowed statement (fail closed: a policy with masks needs a masker). */
export function maskPlan(p: CallPlumbing, r: Resolved, judged: Judged, event: AuditEventInput): MaskPlan {
  let plan: MaskPlan;
  if (!policyHasMasks(r.policy)) plan = NO_MASKING;
  else if (!p.deps.masker) plan = { ok: false, reasons: [reason('MASK_REWRITE_UNSUPPORTED', 'Column masking is not available in this gateway.')] };
  else plan = p.deps.masker.plan({ decision: judged.decision, policy: r.policy, catalog: judged.catalog, searchPath: r.db.config.search_path });
  if (!plan.ok) {
    event.decision = 'blocked';
    event.reasons = plan.reasons.map((x) => x.code);
  }
  return plan;
}

/**
 * Run a read whose text may be the masking rewrite: a database error's position would point
 * into text the agent never sent (and the rewrite must never be echoed), so drop it.
 */
export async function maskedErrors<T>(rewritten: boolean, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (rewritten && isGatewayError(err)) delete err.details.position;
    throw err;
  }
}

/** The bind values of a statement the masking rewrite may have changed: its own, then the hash-key blocks. */
export function withKeyParams(own: readonly unknown[] | undefined, masking: MaskPlan): readonly unknown[] | undefined {
  if (!masking.ok || !masking.rewritten || masking.params.length === 0) return own;
  return [...(own ?? []), ...masking.params];
}

export function dbInfo(r: Resolved, decision: Decision, explain: boolean): DbOperationInfo {
  const summary = summarizeQuery(decision);
  // no spread of the info: its normalizedSql getter is read only when a span records it
  return dbOperationInfo(r.database, decision, explain ? { operation: 'EXPLAIN', summary: `EXPLAIN ${summary}`.trim() } : { summary });
}

export function planOf(result: ReadResult & { plan?: unknown }): unknown {
  if (result.plan !== undefined) return result.plan;
  const cell = result.rows[0]?.[0];
  if (typeof cell === 'string') {
    try {
      return JSON.parse(cell) as unknown;
    } catch {
      return cell;
    }
  }
  return cell;
}
