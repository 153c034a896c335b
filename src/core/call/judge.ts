/**
 * Asking the guard: judge a statement for one resolved call (refreshing the catalog once on an
 * unknown relation), judge a predefined statement (as `query`, or as `execute` when it writes),
 * and enforce a decision onto the call's audit event.
 *
 * Guarantees: every decision is taken by the GuardPort (through the JudgingPort when there is one:
 * long statements on a worker thread) with the principal, database, policy,
 * observe flag, search path, catalog, config version and the journal schema as reserved; a
 * decision that is not `allow` becomes a refusal with the guard's own reasons.
 * Does not: run anything (the read and write paths do).
 */
import type { CatalogSnapshot, Decision, GuardRequest, ToolName } from '../../guard/types.js';
import type { AuditEventInput } from '../ports.js';
import type { Refusal } from '../results.js';
import type { CallContext, Judged, Resolved } from './context.js';
import type { CallPlumbing } from './plumbing.js';

/** Run the guard; on an unknown relation, refresh the catalog once and judge again. */
export async function judge(p: CallPlumbing, ctx: CallContext, r: Resolved, tool: ToolName, sql: string, analyze = false, parameters = false): Promise<Judged> {
  let catalog = await r.db.catalog();
  let decision = await decide(p, ctx, r, tool, sql, catalog, analyze, parameters);
  if (decision.needsCatalogRefresh) {
    catalog = await r.db.refreshCatalog();
    decision = await decide(p, ctx, r, tool, sql, catalog, analyze, parameters);
  }
  return { decision, catalog };
}

/**
 * `parameters` is true only for predefined tools (the operator's statement, $n bound): it is part
 * of the decision-cache key, so a predefined tool's decision (judged with its raw-tool switch on)
 * is never served to a raw query of the same text.
 */
async function decide(p: CallPlumbing, ctx: CallContext, r: Resolved, tool: ToolName, sql: string, catalog: CatalogSnapshot, analyze: boolean, parameters: boolean): Promise<Decision> {
  const t0 = performance.now();
  const req: GuardRequest = {
    analyze,
    parameters,
    sql,
    tool,
    principal: ctx.principal,
    database: r.database,
    policy: r.policy,
    observe: r.view.observe,
    policyName: r.view.policyName,
    searchPath: r.db.config.search_path,
    catalog,
    policyVersion: p.deps.configVersion,
    reservedSchemas: [p.deps.config.journal.schema],
  };
  // long, uncached statements are judged on a worker (the event loop stays free, issue #10 item 2)
  const { judging, guard, masker } = p.deps;
  const decision = judging !== undefined ? await judging.decide(req, guard, masker) : guard.decide(req);
  p.telemetry.guardDecision(decision, Math.round((performance.now() - t0) * 1000));
  // a guard or worker failure: its cause is logged once, with the request id
  if (decision.cause !== undefined) p.logInternal(decision.cause, tool, ctx.requestId);
  return decision;
}

/** Judge a predefined tool's statement: as `query`, or as `execute` when it is a write. */
export async function judgePredefined(p: CallPlumbing, ctx: CallContext, r: Resolved, sql: string): Promise<Judged> {
  const asTool = (tool: 'query' | 'execute'): Resolved => ({ ...r, policy: { ...r.policy, tools: { ...r.policy.tools, [tool]: true } } });
  const read = await judge(p, ctx, asTool('query'), 'query', sql, false, true);
  if (read.decision.kind !== 'write') return read;
  return judge(p, ctx, asTool('execute'), 'execute', sql, false, true);
}

/** Under audit.include_raw_sql: the statement as sent goes into the audit event (the sink scrubs it). */
export function recordRawSql(p: CallPlumbing, event: AuditEventInput, sql: string): void {
  if (p.deps.config.audit.include_raw_sql) event.sql_raw = sql;
}

/** Fill the audit event from the decision; return a refusal when the decision blocks. */
export function enforce(decision: Decision, event: AuditEventInput): Refusal | undefined {
  event.kind = decision.kind;
  event.relations = decision.relations;
  // the guard computes fingerprint/normalized on first read: let the audit writer read them
  event.statement = decision.identity ?? { fingerprint: decision.fingerprint, normalized: decision.normalized };
  event.reasons = decision.reasons.map((x) => x.code);
  event.observed = decision.observed;
  if (decision.decision === 'allow') return undefined;
  event.decision = decision.decision === 'hold' ? 'held' : 'blocked';
  return { decision: decision.decision, reasons: decision.reasons };
}
