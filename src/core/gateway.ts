/**
 * The gateway core: one pipeline for every adapter (MCP over HTTP, MCP over stdio, CLI).
 *
 *   resolve principal/database → guard (parse, classify, authorize) → execute (hardened read)
 *   → shape → audit
 *
 * Guarantees: no statement reaches the database unless the guard allowed it for this principal,
 * database and tool (observe mode excepted, where the response says what would be refused);
 * reads run only through DatabasePort.runRead (read-only transaction, extended protocol, caps);
 * every call produces exactly one audit event; errors leave as coded refusals, never raw.
 * Does not: authenticate (the HTTP/stdio adapters hand over a principal name).
 */
import type { Config, DatabasePolicy } from '../config/schema.js';
import { reason, type Reason } from '../guard/reasons.js';
import type { CatalogSnapshot, Decision, ToolName } from '../guard/types.js';
import { summarizeQuery } from '../guard/index.js';
import { policyHasMasks, type Masker, type MaskPlan } from '../mask/index.js';
import { applyThresholds, type WritePlan } from '../guard/write/index.js';
import {
  executeWrite,
  measureBlastRadius,
  revertWrite,
  UndoConflictError,
  type Approval,
  type RevertWrite,
  type ApprovalHooks,
  type WriteSessionOptions,
  type WriteState,
} from '../db/writes/index.js';
import { planAllowedWrite, runGuardedWrite, type ExecutePayload, type InClientConfirm } from './writes.js';
import { NOOP_TELEMETRY, dbOperationInfo, type DbOperationInfo, type Telemetry } from '../telemetry/index.js';
import { GatewayError, isGatewayError } from './errors.js';
import { redactQuoted } from '../db/errors.js';
import { databasePolicy, effectiveLimits, resolvePrincipal, toolEnabled, toolsForPrincipal, type PrincipalView } from './principals.js';
import type { AuditEventInput, AuditPort, DatabasePort, GuardPort, ReadResult, RelationDetail, RelationSummary } from './ports.js';
import { ok, refused, type Outcome, type QueryPayload, type Refusal } from './results.js';
import { bindArguments, grantedTo } from './predefined.js';
import { argumentsSchema } from '../config/tool-parameters.js';
import type { PredefinedTool } from '../config/schema.js';

/** What `check` returns: the guard's decision, without running anything. */
export type CheckPayload = Pick<Decision, 'decision' | 'kind' | 'writeKind' | 'explain' | 'relations' | 'functions' | 'reasons' | 'observed' | 'fingerprint' | 'normalized'> & {
  database: string;
};

export interface CallContext {
  principal: string;
  requestId: string;
  clientAddress?: string;
  /** Cancels the call (client gone, request timeout, shutdown). */
  signal?: AbortSignal;
  /** Further signals that cancel the call as well (e.g. MCP-level cancellation), without combining them first. */
  alsoCancelledBy?: readonly AbortSignal[];
  /** The JSON-RPC id of the MCP request (spans: jsonrpc.request.id). */
  jsonrpcId?: string | number;
  /** The MCP protocol revision the client speaks (spans: mcp.protocol.version). */
  protocolVersion?: string;
}

export interface GatewayDeps {
  config: Config;
  configVersion: number;
  databases: ReadonlyMap<string, DatabasePort>;
  guard: GuardPort;
  audit: AuditPort;
  /** How many sample rows describe shows for one table. */
  describeSampleRows?: number;
  /** OpenTelemetry (no-op unless configured). */
  telemetry?: Telemetry;
  /** Column masking at the source (src/mask); without it, policies with masks are refused. */
  masker?: Masker;
  /** Guarded writes (src/db/writes): present when some policy is read-write. */
  writes?: WriteState;
  /** Resolves once the gateway's journal/approval schema exists (idempotent, retried on failure). */
  writesReady?: () => Promise<void>;
  /** Operator log: every INTERNAL_ERROR is logged here once, with its cause and stack. */
  logger?: { error(obj: object, msg?: string): void };
}

interface Resolved {
  view: PrincipalView;
  database: string;
  db: DatabasePort;
  policy: DatabasePolicy;
}

type Judged = { decision: Decision; catalog: CatalogSnapshot };

export class Gateway {
  private deps: GatewayDeps;
  private shuttingDown = false;
  private readonly inflight = new Set<AbortController>();

  private readonly telemetry: Telemetry;

  constructor(deps: GatewayDeps) {
    this.deps = deps;
    this.telemetry = deps.telemetry ?? NOOP_TELEMETRY;
  }

  get config(): Config {
    return this.deps.config;
  }

  get configVersion(): number {
    return this.deps.configVersion;
  }

  /**
   * Swap in a reloaded configuration (src/core/reload.ts says which keys apply): principals,
   * policies, operators, guard settings, masking and per-database limits and descriptions apply
   * to the next call, to approvals and to reverts (the decision cache is keyed by the version).
   * Database connections, server, audit, telemetry and journal settings keep their running
   * values until a restart. The caller validated the file and built the guard and masker.
   */
  reload(config: Config, configVersion: number, parts: { masker?: Masker; guard?: GuardPort } = {}): void {
    const before = this.deps.config;
    const databases: Config['databases'] = {};
    for (const [name, running] of Object.entries(before.databases)) {
      const next = config.databases[name];
      if (next === undefined) {
        databases[name] = running;
        continue;
      }
      const merged = { ...running, limits: next.limits };
      if (next.description === undefined) delete merged.description;
      else merged.description = next.description;
      databases[name] = merged;
    }
    const merged: Config = {
      ...config,
      databases,
      server: before.server,
      audit: before.audit,
      telemetry: before.telemetry,
      journal: before.journal,
    };
    this.deps = {
      ...this.deps,
      config: merged,
      configVersion,
      ...(parts.masker ? { masker: parts.masker } : {}),
      ...(parts.guard ? { guard: parts.guard } : {}),
    };
  }

  principal(name: string): PrincipalView | undefined {
    return resolvePrincipal(this.deps.config, name);
  }

  tools(principal: string): Set<ToolName> {
    return toolsForPrincipal(this.deps.config, principal);
  }

  policyFor(principal: string, database: string): DatabasePolicy | undefined {
    return databasePolicy(this.deps.config, principal, database);
  }

  // ---------------------------------------------------------------- tools

  async query(ctx: CallContext, args: { sql: string; database?: string | undefined }): Promise<Outcome<QueryPayload>> {
    return this.call(ctx, 'query', args.database, async (r, started, event, ctx) => {
      const judged = await this.judge(ctx, r, 'query', args.sql);
      // explain-only: a read that is refused only because rows are not shown runs as a plan.
      const explainOnly = r.policy.mode === 'explain-only' && onlyExplainOnly(judged.decision);
      if (explainOnly) judged.decision = { ...judged.decision, decision: 'allow', reasons: [] };
      return this.readJudged(ctx, r, started, event, judged, args.sql, explainOnly);
    });
  }

  /** The read path after the guard: enforce, mask at the source, run capped and read-only, shape. */
  private async readJudged(
    ctx: CallContext,
    r: Resolved,
    started: number,
    event: AuditEventInput,
    judged: Judged,
    text: string,
    explainOnly: boolean,
    params?: readonly unknown[],
  ): Promise<Outcome<QueryPayload>> {
    const blocked = this.enforce(judged.decision, event);
    if (blocked) return refused(blocked);
    const masking = this.maskPlan(r, judged, event);
    if (!masking.ok) return refused({ decision: 'block', reasons: masking.reasons });
    const sql = masking.rewritten ? masking.sql : text;
    const runParams = withKeyParams(params, masking);
    const result = await this.maskedErrors(masking.rewritten, () =>
      this.read(ctx, r, sql, explainOnly ? { analyze: false } : undefined, this.dbInfo(r, judged.decision, explainOnly), runParams),
    );
    this.telemetry.metrics.rowsReturned(result.rowCount, 'query');
    if (masking.masked.length > 0) this.telemetry.metrics.maskedCells(result.rowCount * masking.masked.length, 'query');
    event.rows = result.rowCount;
    event.truncated = result.truncated;
    return ok({ ...this.shape(r.database, result, started, judged.decision, explainOnly), masked: masking.masked });
  }

  /**
   * A predefined tool (config `tools`): arguments validated and bound as $1…$n, the operator's
   * statement judged by the guard for this principal on every call (as `query` for a read, as
   * `execute` for a write, with `$n` parameters accepted) and run through the same read path or
   * guarded-write path. The policy's switches for the raw tools do not apply: a principal given
   * only predefined tools runs them with query/execute switched off. Audited under the tool's
   * name with the parameter names (values only under include_raw_sql).
   */
  async predefined(ctx: CallContext, name: string, args: unknown): Promise<Outcome<unknown>> {
    const tool = this.deps.config.tools[name];
    const granted = tool !== undefined && grantedTo(this.deps.config, tool, ctx.principal);
    return this.call(ctx, name, granted ? tool.database : undefined, async (r, started, event, ctx) => {
      if (!granted) {
        const reasons = [reason('TOOL_NOT_ALLOWED', `No tool named "${safeName(name)}" is given to this principal.`)];
        event.decision = 'blocked';
        event.reasons = reasons.map((x) => x.code);
        return refused({ decision: 'block', reasons });
      }
      event.parameters = tool.parameters.map((p) => p.name);
      const bound = bindArguments(tool, predefinedArguments(tool), args);
      if (!bound.ok) {
        event.decision = 'blocked';
        event.reasons = bound.reasons.map((x) => x.code);
        return refused({ decision: 'block', reasons: bound.reasons });
      }
      if (this.deps.config.audit.include_raw_sql) event.parameter_values = bound.values;
      const judged = await this.judgePredefined(ctx, r, tool.sql);
      if (judged.decision.kind === 'write') return this.writeJudged(r, event, judged, tool.sql, ctx.principal, bound.values);
      return this.readJudged(ctx, r, started, event, judged, tool.sql, false, bound.values);
    }, { predefined: granted });
  }

  /**
   * The guard's verdict on a predefined tool's statement for one principal, as a call would judge
   * it (catalog loaded from the database). For load-time verification: nothing runs.
   */
  async judgeDefinition(principal: string, name: string, section: 'tools' | 'resources' = 'tools'): Promise<{ reasons: Reason[]; write: boolean } | { unavailable: true }> {
    const tool = this.deps.config[section][name];
    if (tool === undefined) return { reasons: [reason('TOOL_NOT_ALLOWED')], write: false };
    const ctx: CallContext = { principal, requestId: `verify:${name}` };
    const pre = this.precheck(ctx, undefined, tool.database);
    if ('refusal' in pre) return { reasons: pre.refusal.reasons, write: false };
    let judged: Judged;
    try {
      judged = await this.judgePredefined(ctx, pre, tool.sql);
    } catch {
      return { unavailable: true };
    }
    const d = judged.decision;
    const reasons = d.decision === 'allow' && !(d.observed && d.reasons.length > 0) ? [] : d.reasons.length > 0 ? d.reasons : [reason('INTERNAL_ERROR')];
    return { reasons, write: d.kind === 'write' };
  }

  /** A gateway over the same databases, guard and audit with another configuration (verify a reload before applying it). */
  withConfig(config: Config, configVersion: number): Gateway {
    return new Gateway({ ...this.deps, config, configVersion });
  }

  /**
   * An operator-defined resource (config `resources`): its fixed statement judged like a predefined
   * read tool for this principal on every read (a write is refused), run through the read path.
   * Audited under the tool name `resource:<name>`.
   */
  async predefinedResource(ctx: CallContext, name: string): Promise<Outcome<QueryPayload>> {
    const resource = this.deps.config.resources[name];
    const granted = resource !== undefined && grantedTo(this.deps.config, resource, ctx.principal);
    return this.call(ctx, `resource:${safeName(name)}`, granted ? resource.database : undefined, async (r, started, event, ctx) => {
      if (!granted) {
        const reasons = [reason('UNKNOWN_RESOURCE')];
        event.decision = 'blocked';
        event.reasons = reasons.map((x) => x.code);
        return refused({ decision: 'block', reasons });
      }
      const judged = await this.judgePredefined(ctx, r, resource.sql);
      if (judged.decision.kind === 'write') {
        const reasons = [reason('WRITE_NOT_ALLOWED', 'A resource is a read; this statement writes.')];
        event.decision = 'blocked';
        event.reasons = reasons.map((x) => x.code);
        return refused({ decision: 'block', reasons });
      }
      return this.readJudged(ctx, r, started, event, judged, resource.sql, false);
    }, { predefined: granted });
  }

  /** A call whose arguments failed the tool's input schema: audited as blocked, nothing ran. */
  refuseArguments(ctx: CallContext, tool: string, reasons: Reason[]): Outcome<never> {
    const event = this.baseEvent(ctx, tool, 'blocked');
    event.reasons = reasons.map((x) => x.code);
    this.audit(event);
    return refused(withRequestId({ decision: 'block', reasons }, ctx));
  }

  /** Judge a predefined tool's statement: as `query`, or as `execute` when it is a write. */
  private async judgePredefined(ctx: CallContext, r: Resolved, sql: string): Promise<Judged> {
    const asTool = (tool: 'query' | 'execute'): Resolved => ({ ...r, policy: { ...r.policy, tools: { ...r.policy.tools, [tool]: true } } });
    const read = await this.judge(ctx, asTool('query'), 'query', sql, false, true);
    if (read.decision.kind !== 'write') return read;
    return this.judge(ctx, asTool('execute'), 'execute', sql, false, true);
  }

  async explain(
    ctx: CallContext,
    args: { sql: string; database?: string | undefined; analyze?: boolean | undefined },
  ): Promise<Outcome<{ database: string; masked: string[]; plan: unknown; elapsedMs: number; observed?: { reasons: Reason[] } }>> {
    return this.call(ctx, 'explain', args.database, async (r, started, event, ctx) => {
      const analyze = args.analyze === true;
      const judged = await this.judge(ctx, r, 'explain', args.sql, analyze);
      const blocked = this.enforce(judged.decision, event);
      if (blocked) return refused(blocked);
      const masking = this.maskPlan(r, judged, event);
      if (!masking.ok) return refused({ decision: 'block', reasons: masking.reasons });
      const sql = masking.rewritten ? masking.sql : args.sql;
      const result = await this.maskedErrors(masking.rewritten, () => this.read(ctx, r, sql, { analyze }, this.dbInfo(r, judged.decision, true), withKeyParams(undefined, masking)));
      return ok({
        database: r.database,
        masked: masking.masked,
        plan: planOf(result),
        elapsedMs: Date.now() - started,
        ...(judged.decision.observed && judged.decision.reasons.length > 0 ? { observed: { reasons: judged.decision.reasons } } : {}),
      });
    });
  }

  async check(
    ctx: CallContext,
    args: { sql: string; database?: string | undefined },
  ): Promise<Outcome<CheckPayload>> {
    return this.call(ctx, 'check', args.database, async (r, _started, event) => {
      const { decision } = await this.judge(ctx, r, 'check', args.sql);
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

  async describe(
    ctx: CallContext,
    args: { database?: string | undefined; table?: string | undefined },
  ): Promise<Outcome<Record<string, unknown>>> {
    return this.call(ctx, 'describe', args.database, async (r, _started, _event, ctx) => {
      if (args.table === undefined || args.table.trim() === '') return ok(await this.describeDatabase(r));
      return this.describeTable(ctx, r, args.table);
    });
  }

  /**
   * One write: guard (rules, reversibility) → masking check → plan → blast radius → thresholds →
   * executed with an undo id, held for an operator, or blocked. Observe mode never lets a write
   * through that the policy would refuse.
   */
  async execute(ctx: CallContext, args: { sql: string; database?: string | undefined; confirm?: InClientConfirm }): Promise<Outcome<ExecutePayload>> {
    return this.call(ctx, 'execute', args.database, async (r, _started, event) => {
      const judged = await this.judge(ctx, r, 'execute', args.sql);
      const out = await this.writeJudged(r, event, judged, args.sql, ctx.principal, undefined, args.confirm);
      if (!out.ok && args.confirm && 'redeem' in args.confirm && !args.confirm.redeem.accepted) event.decision = 'rejected';
      return out;
    });
  }

  /** The guarded-write path after the guard: enforce, masking check, measure, hold/block/execute with undo. */
  private async writeJudged(
    r: Resolved,
    event: AuditEventInput,
    judged: Judged,
    sql: string,
    principal: string,
    params?: readonly unknown[],
    confirm?: InClientConfirm,
  ): Promise<Outcome<ExecutePayload>> {
    const decision = judged.decision.observed && judged.decision.reasons.length > 0 ? { ...judged.decision, decision: 'block' as const } : judged.decision;
    const blocked = this.enforce(decision, event);
    if (blocked) return refused(blocked);
    const masking = this.maskPlan(r, judged, event);
    if (!masking.ok) return refused({ decision: 'block', reasons: masking.reasons });
    const writes = this.deps.writes;
    const wdb = writes?.database(r.database);
    if (!writes || !wdb) throw new GatewayError('INTERNAL_ERROR', 'Writes are not set up for this database.');
    await this.deps.writesReady?.();
    const out = await this.refreshOnCatalogChange(r, () => runGuardedWrite(writes, wdb, {
      database: r.database,
      decision: judged.decision,
      // masked relations the write reads are replaced by their masked projections (src/mask/writes.ts)
      ...(masking.rewritten ? { planStmt: masking.stmt, keyParams: masking.params } : {}),
      catalog: judged.catalog,
      searchPath: r.db.config.search_path,
      policy: r.policy,
      session: this.writeSession(r, principal),
      principal,
      sql,
      ...(params ? { params } : {}),
      ...(confirm ? { confirm } : {}),
      beforeExecute: (radius) => this.deps.audit.durable(writeIntent(event, radius.rows)),
    }));
    recordWrite(event, out);
    return out;
  }

  /** A write refused because definitions changed under it: reload the catalog so the next call judges the new ones. */
  private async refreshOnCatalogChange<T>(r: Resolved, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (isGatewayError(err) && err.code === 'CATALOG_CHANGED') await r.db.refreshCatalog({ force: true }).catch(() => undefined);
      throw err;
    }
  }

  /** Undo one of the principal's own journaled writes, conflict-checked. */
  async revert(ctx: CallContext, args: { undoId: string; database?: string | undefined }): Promise<Outcome<Record<string, unknown>>> {
    return this.call(ctx, 'revert', args.database, async (r, _started, event) => {
      const wdb = this.deps.writes?.database(r.database);
      if (!wdb) throw new GatewayError('INTERNAL_ERROR', 'Writes are not set up for this database.');
      await this.deps.writesReady?.();
      event.undo_id = args.undoId;
      try {
        await this.deps.audit.durable(writeIntent(event, null));
        const res = await revertWrite(wdb, args.undoId, {
          by: ctx.principal,
          principal: ctx.principal,
          session: this.writeSession(r, ctx.principal),
          authorize: (w) => this.authorizeRevert(ctx, r, w),
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
  private async authorizeRevert(ctx: CallContext, r: Resolved, w: RevertWrite): Promise<Reason[]> {
    await r.db.refreshCatalog({ force: true });
    const judged = await this.judge(ctx, r, 'execute', revertStatement(w));
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
   * Approval hooks for operators (admin API, CLI): re-judge a held write under the CURRENT policy,
   * re-measure it, and execute it with undo, exactly once (the approval turns executed in the
   * write's own transaction).
   */
  approvalHooks(): ApprovalHooks {
    const prepare = async (a: Approval): Promise<{ ctx: CallContext; r: Resolved; judged: Judged; plan: WritePlan; params: readonly unknown[] | undefined } | { reasons: Reason[] }> => {
      const ctx: CallContext = { principal: a.principal, requestId: `approval:${a.approvalId}` };
      // A predefined tool's held write (bound parameters recorded): approved only while the
      // principal still gets a tool with exactly this statement on this database.
      const predefined = a.parameters !== null;
      if (predefined && !Object.values(this.deps.config.tools).some((t) => t.sql === a.sql && t.database === a.database && grantedTo(this.deps.config, t, a.principal))) {
        return { reasons: [reason('APPROVAL_RECHECK_FAILED', 'The predefined tool that made this write is no longer given to its principal with this statement.')] };
      }
      const pre = this.precheck(ctx, predefined ? undefined : 'execute', a.database);
      if ('refusal' in pre) return { reasons: pre.refusal.reasons };
      // Judge what will run now: triggers, rules, views and keys as they are defined at approval.
      await pre.db.refreshCatalog({ force: true });
      const judged = predefined ? await this.judgePredefined(ctx, pre, a.sql) : await this.judge(ctx, pre, 'execute', a.sql);
      if (judged.decision.kind !== 'write') return { reasons: [reason('APPROVAL_RECHECK_FAILED')] };
      if (judged.decision.decision !== 'allow' || (judged.decision.observed && judged.decision.reasons.length > 0)) {
        return { reasons: judged.decision.reasons.length > 0 ? judged.decision.reasons : [reason('APPROVAL_RECHECK_FAILED')] };
      }
      const masking = this.maskPlan(pre, judged, { decision: 'allowed' });
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
    };
    const must = async (a: Approval) => {
      const p = await prepare(a);
      if ('reasons' in p) throw new GatewayError(p.reasons[0]?.code ?? 'APPROVAL_RECHECK_FAILED', p.reasons[0]?.message, { decision: 'block' });
      const wdb = this.deps.writes?.database(a.database);
      if (!wdb) throw new GatewayError('INTERNAL_ERROR', 'Writes are not set up for this database.');
      return { ...p, wdb };
    };
    return {
      revalidate: async (a) => {
        const p = await prepare(a);
        return 'reasons' in p ? { ok: false, reasons: p.reasons } : { ok: true };
      },
      measure: async (a) => {
        const p = await must(a);
        const radius = await measureBlastRadius(p.wdb, p.plan, { session: this.writeSession(p.r, a.principal), method: p.r.policy.writes.measure, ...(p.params ? { params: p.params } : {}) });
        // The thresholds in force now, not those of the hold: a lowered block_above_rows refuses.
        const verdict = applyThresholds(radius.rows ?? undefined, p.r.policy.writes, p.plan.uncountableReason);
        if (verdict.action === 'block') return { rows: radius.rows, reasons: verdict.reason ? [verdict.reason] : [reason('BLAST_RADIUS_EXCEEDED')] };
        return { rows: radius.rows };
      },
      execute: async (a, o) => {
        const p = await must(a);
        const intent: AuditEventInput = { request_id: p.ctx.requestId, principal: a.principal, tool: 'execute', database: a.database, decision: 'allowed', approval_id: a.approvalId, normalized_sql: a.normalizedSql };
        await this.deps.audit.durable(writeIntent(intent, o.allowedRows ?? null));
        const res = await executeWrite(p.wdb, p.plan, {
          session: this.writeSession(p.r, a.principal),
          principal: a.principal,
          sql: a.sql,
          normalizedSql: a.normalizedSql,
          approvalId: o.approvalId,
          ...(p.params ? { params: p.params } : {}),
          // Never more than the approved figure, nor than the block threshold in force.
          allowedRows: Math.min(o.allowedRows ?? Number.MAX_SAFE_INTEGER, p.r.policy.writes.block_above_rows),
          maxCaptureRows: p.r.policy.writes.max_capture_rows,
          maxCaptureBytes: p.r.policy.writes.max_capture_bytes,
          journal: p.plan.reversible,
        });
        this.audit({ request_id: p.ctx.requestId, principal: a.principal, tool: 'execute', database: a.database, decision: 'approved', approval_id: a.approvalId, ...(res.undoId ? { undo_id: res.undoId } : {}), rows: res.rowCount, normalized_sql: a.normalizedSql });
        return { rowCount: res.rowCount, undoId: res.undoId };
      },
    };
  }

  private async pendingApprovals(principal: string): Promise<Record<string, unknown>[]> {
    if (!this.deps.writes) return [];
    try {
      const pending = await this.deps.writes.approvals.pendingFor(principal);
      return pending.map((a) => ({ approvalId: a.approvalId, database: a.database, status: a.status, createdAt: a.createdAt, expiresAt: a.expiresAt, blastRadius: a.blastRadius, statement: a.normalizedSql }));
    } catch {
      return [];
    }
  }

  private writeSession(r: Resolved, principal: string): WriteSessionOptions {
    return {
      limits: effectiveLimits(this.deps.config, r.database, r.policy),
      searchPath: r.db.config.search_path,
      ...(r.policy.role !== undefined ? { role: r.policy.role } : {}),
      principal: { setting: r.policy.principal_setting, value: principal },
    };
  }

  async status(ctx: CallContext): Promise<Outcome<Record<string, unknown>>> {
    const view = this.principal(ctx.principal);
    const cfg = this.deps.config;
    const databases = await Promise.all(
      (view?.databases ?? []).map(async (name) => {
        const pol = this.policyFor(ctx.principal, name);
        const db = this.deps.databases.get(name);
        const tools = (['query', 'explain', 'describe', 'check', 'execute', 'revert'] as const).filter((t) => toolEnabled(pol, t));
        return {
          name,
          description: cfg.databases[name]?.description,
          mode: pol?.mode,
          ready: db ? await db.ready().catch(() => false) : false,
          tools,
          limits: effectiveLimits(cfg, name, pol),
          searchPath: cfg.databases[name]?.search_path,
          role: pol?.role !== undefined ? 'pinned' : 'connection role',
        };
      }),
    );
    this.audit(this.baseEvent(ctx, 'status', 'allowed'));
    return ok({
      principal: ctx.principal,
      policy: view?.policyName,
      observe: view?.observe ?? false,
      databases,
      pendingApprovals: await this.pendingApprovals(ctx.principal),
      audit: this.deps.audit.stats(),
      server: { version: VERSION, shuttingDown: this.shuttingDown },
    });
  }

  // ---------------------------------------------------------------- lifecycle

  async ready(): Promise<boolean> {
    if (this.shuttingDown) return false;
    const checks = await Promise.all([...this.deps.databases.values()].map((d) => d.ready().catch(() => false)));
    return checks.length > 0 && checks.every(Boolean);
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Cancel every in-flight call now (shutdown after the drain budget). */
  async cancelInflight(): Promise<void> {
    for (const c of this.inflight) c.abort(new GatewayError('SHUTTING_DOWN'));
    await Promise.all([...this.deps.databases.values()].map((d) => d.cancelAll().catch(() => undefined)));
  }

  /** Stop taking calls; let in-flight calls finish within `budgetMs`, then cancel the rest and close pools. */
  async shutdown(budgetMs: number): Promise<void> {
    this.shuttingDown = true;
    const deadline = Date.now() + budgetMs;
    while (this.inflight.size > 0 && Date.now() < deadline) await sleep(25);
    await this.cancelInflight();
    await Promise.all([...this.deps.databases.values()].map((d) => d.end().catch(() => undefined)));
    await this.deps.writes?.end().catch(() => undefined);
    await this.deps.audit.close().catch(() => undefined);
  }

  // ---------------------------------------------------------------- pipeline pieces

  /** Resolve, run `body`, convert errors into refusals, and audit (and trace) exactly once. */
  private call<T>(
    ctx: CallContext,
    tool: string,
    database: string | undefined,
    body: (r: Resolved, started: number, event: AuditEventInput, ctx: CallContext) => Promise<Outcome<T>>,
    access: { predefined: boolean } = { predefined: false },
  ): Promise<Outcome<T>> {
    const attrs = { principal: ctx.principal, requestId: ctx.requestId, database, jsonrpcId: ctx.jsonrpcId, protocolVersion: ctx.protocolVersion };
    return this.telemetry.toolCall(tool, attrs, async (scope) => {
      const started = Date.now();
      const event = this.baseEvent(ctx, tool, 'allowed');
      // One controller per call: every source of cancellation and shutdown (cancelInflight) abort it.
      const controller = new AbortController();
      const sources = ctx.alsoCancelledBy === undefined ? (ctx.signal === undefined ? [] : [ctx.signal]) : [ctx.signal, ...ctx.alsoCancelledBy];
      const onAbort = (e: Event): void => controller.abort((e.target as AbortSignal).reason);
      for (const source of sources) {
        if (source === undefined) continue;
        if (source.aborted && !controller.signal.aborted) controller.abort(source.reason);
        source.addEventListener('abort', onAbort, { once: true });
      }
      this.inflight.add(controller);
      const inner: CallContext = { principal: ctx.principal, requestId: ctx.requestId, signal: controller.signal };
      if (ctx.clientAddress !== undefined) inner.clientAddress = ctx.clientAddress;
      try {
        const pre = this.precheck(ctx, access.predefined ? undefined : (tool as ToolName), database);
        if ('refusal' in pre) {
          event.decision = 'blocked';
          event.reasons = pre.refusal.reasons.map((x) => x.code);
          return refused<T>(withRequestId(pre.refusal, ctx));
        }
        event.database = pre.database;
        const out = await body(pre, started, event, inner);
        if (!out.ok) return refused<T>(withRequestId(out.refusal, ctx));
        return out;
      } catch (err) {
        const refusal = toRefusal(err);
        if (refusal.reasons.some((x) => x.code === 'INTERNAL_ERROR')) this.logInternal(err, tool, ctx.requestId);
        event.decision = 'failed';
        event.reasons = refusal.reasons.map((x) => x.code);
        if (refusal.sqlstate) event.sqlstate = refusal.sqlstate;
        return refused<T>(withRequestId(refusal, ctx));
      } finally {
        for (const source of sources) source?.removeEventListener('abort', onAbort);
        this.inflight.delete(controller);
        event.duration_ms = Date.now() - started;
        this.audit(event);
        scope.finish(event);
      }
    });
  }

  /** Resolve principal, database and policy; `tool` undefined: a granted predefined tool (no raw-tool switch applies). */
  private precheck(ctx: CallContext, tool: ToolName | undefined, database: string | undefined): Resolved | { refusal: Refusal } {
    if (this.shuttingDown) return { refusal: { decision: 'error', reasons: [reason('SHUTTING_DOWN')] } };
    if (!this.deps.audit.accepting()) return { refusal: { decision: 'error', reasons: [reason('AUDIT_UNAVAILABLE')] } };
    const view = this.principal(ctx.principal);
    if (!view || view.databases.length === 0) {
      return { refusal: { decision: 'block', reasons: [reason('DATABASE_NOT_ALLOWED', 'This principal reaches no database.')] } };
    }
    const name = database ?? view.databases[0];
    if (name === undefined || !(name in this.deps.config.databases)) {
      return {
        refusal: {
          decision: 'block',
          reasons: [reason('UNKNOWN_DATABASE', `No database named "${safeName(name)}".`, `Use one of: ${view.databases.join(', ')}.`)],
        },
      };
    }
    const policy = this.policyFor(ctx.principal, name);
    const db = this.deps.databases.get(name);
    if (!policy || !db) {
      return {
        refusal: {
          decision: 'block',
          reasons: [reason('DATABASE_NOT_ALLOWED', `Policy '${view.policyName}' does not reach database ${name}.`, `Use one of: ${view.databases.join(', ')}.`)],
        },
      };
    }
    if (tool !== undefined && !toolEnabled(policy, tool)) {
      return {
        refusal: {
          decision: 'block',
          reasons: [reason('TOOL_NOT_ALLOWED', `Policy '${view.policyName}' disables the ${tool} tool on database ${name}.`)],
        },
      };
    }
    return { view, database: name, db, policy };
  }

  /** Run the guard; on an unknown relation, refresh the catalog once and judge again. */
  private async judge(ctx: CallContext, r: Resolved, tool: ToolName, sql: string, analyze = false, parameters = false): Promise<Judged> {
    let catalog = await r.db.catalog();
    let decision = this.decide(ctx, r, tool, sql, catalog, analyze, parameters);
    if (decision.needsCatalogRefresh) {
      catalog = await r.db.refreshCatalog();
      decision = this.decide(ctx, r, tool, sql, catalog, analyze, parameters);
    }
    return { decision, catalog };
  }

  /**
   * `parameters` is true only for predefined tools (the operator's statement, $n bound): it is part
   * of the decision-cache key, so a predefined tool's decision (judged with its raw-tool switch on)
   * is never served to a raw query of the same text.
   */
  private decide(ctx: CallContext, r: Resolved, tool: ToolName, sql: string, catalog: CatalogSnapshot, analyze = false, parameters = false): Decision {
    const t0 = performance.now();
    const decision = this.deps.guard.decide({
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
      policyVersion: this.deps.configVersion,
      reservedSchemas: [this.deps.config.journal.schema],
    });
    this.telemetry.guardDecision(decision, Math.round((performance.now() - t0) * 1000));
    return decision;
  }

  /** Fill the audit event from the decision; return a refusal when the decision blocks. */
  private enforce(decision: Decision, event: AuditEventInput): Refusal | undefined {
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

  private read(
    ctx: CallContext,
    r: Resolved,
    sql: string,
    explain: { analyze: boolean } | undefined,
    op: DbOperationInfo,
    params?: readonly unknown[],
  ): Promise<ReadResult> {
    return this.telemetry.dbOperation(op, async (scope) => {
      const result = await this.runRead(ctx, r, sql, explain, params);
      scope.setReturnedRows(result.rowCount);
      return result;
    });
  }

  private runRead(ctx: CallContext, r: Resolved, sql: string, explain: { analyze: boolean } | undefined, params?: readonly unknown[]): Promise<ReadResult> {
    return r.db.runRead({
      sql,
      ...(params ? { params } : {}),
      limits: effectiveLimits(this.deps.config, r.database, r.policy),
      searchPath: r.db.config.search_path,
      ...(r.policy.role !== undefined ? { role: r.policy.role } : {}),
      principal: { setting: r.policy.principal_setting, value: ctx.principal },
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(explain ? { explain } : {}),
    });
  }

  private shape(database: string, result: ReadResult, started: number, decision: Decision, explainOnly: boolean): QueryPayload {
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

  private async describeDatabase(r: Resolved): Promise<Record<string, unknown>> {
    const catalog = await r.db.catalog();
    const schemas = visibleSchemas(r);
    const all = await r.db.listRelations(schemas);
    const tables: (RelationSummary & { description?: string })[] = [];
    for (const rel of all) {
      if (!this.relationVisible(r, catalog, rel.schema, rel.name)) continue;
      const description = r.policy.descriptions.tables[`${rel.schema}.${rel.name}`] ?? rel.comment ?? undefined;
      tables.push({ schema: rel.schema, name: rel.name, kind: rel.kind, estimatedRows: rel.estimatedRows, ...(description ? { description } : {}) });
    }
    return {
      database: r.database,
      schemas: schemas.map((s) => ({ name: s, ...(r.policy.descriptions.schemas[s] ? { description: r.policy.descriptions.schemas[s] } : {}) })),
      tables,
    };
  }

  /** A relation is visible when a plain SELECT of it would be allowed for this principal. */
  private relationVisible(r: Resolved, catalog: CatalogSnapshot, schema: string, name: string): boolean {
    const sql = `SELECT * FROM ${quoteIdent(schema)}.${quoteIdent(name)}`;
    const d = this.deps.guard.decide({
      sql,
      tool: 'query',
      principal: 'describe',
      database: r.database,
      policy: r.policy,
      observe: false,
      policyName: r.view.policyName,
      searchPath: r.db.config.search_path,
      catalog,
      policyVersion: this.deps.configVersion,
      reservedSchemas: [this.deps.config.journal.schema],
    });
    return d.decision === 'allow';
  }

  private async describeTable(ctx: CallContext, r: Resolved, table: string): Promise<Outcome<Record<string, unknown>>> {
    const catalog = await r.db.catalog();
    const target = resolveTableName(table, catalog, r.db.config.search_path);
    const notVisible = refused<Record<string, unknown>>({
      decision: 'block',
      reasons: [reason('UNKNOWN_TABLE', `No visible table named "${safeName(table)}".`)],
    });
    if (!target || !this.relationVisible(r, catalog, target.schema, target.name)) return notVisible;
    const detail: RelationDetail | undefined = await r.db.describeRelation(target.schema, target.name);
    if (!detail) return notVisible;
    const key = `${detail.schema}.${detail.name}`;
    const maskedCols = this.deps.masker?.maskedColumns(r.policy, catalog, detail.schema, detail.name) ?? new Map<string, string>();
    const columns = detail.columns.map((c) => {
      const description = r.policy.descriptions.columns[`${key}.${c.name}`] ?? c.comment ?? undefined;
      const mask = maskedCols.get(c.name);
      return { name: c.name, type: c.type, nullable: c.nullable, ...(description ? { description } : {}), masked: mask !== undefined, ...(mask ? { mask } : {}) };
    });
    const sample = await this.describeSample(ctx, r, catalog, detail.schema, detail.name);
    return ok({
      database: r.database,
      schema: detail.schema,
      name: detail.name,
      kind: detail.kind,
      description: r.policy.descriptions.tables[key] ?? detail.comment ?? undefined,
      estimatedRows: detail.estimatedRows,
      columns,
      primaryKey: detail.primaryKey,
      foreignKeys: detail.foreignKeys,
      indexes: detail.indexes,
      masked: [...maskedCols.keys()].map((c) => `${key}.${c}`),
      ...(sample ? { sample } : { sampleOmitted: 'a view over masked columns shows no sample rows' }),
    });
  }

  /** A few sample rows, masked at the source like any query; undefined when masking refuses them. */
  private async describeSample(
    ctx: CallContext,
    r: Resolved,
    catalog: CatalogSnapshot,
    schema: string,
    name: string,
  ): Promise<{ columns: string[]; rows: unknown[][] } | undefined> {
    const key = `${schema}.${name}`;
    const limit = this.deps.describeSampleRows ?? 3;
    let sql = `SELECT * FROM ${quoteIdent(schema)}.${quoteIdent(name)} LIMIT ${limit}`;
    let rewritten = false;
    let params: readonly unknown[] | undefined;
    if (policyHasMasks(r.policy)) {
      if (!this.deps.masker) return undefined;
      const plan = this.deps.masker.describeSample({ policy: r.policy, catalog, searchPath: r.db.config.search_path, schema, name, limit });
      if (!plan.ok) return undefined;
      sql = plan.sql;
      params = plan.params.length > 0 ? plan.params : undefined;
      rewritten = plan.masked.length > 0;
    }
    const sample = await this.maskedErrors(rewritten, () =>
      this.read(ctx, r, sql, undefined, { database: r.database, operation: 'SELECT', collection: key, summary: `SELECT ${key}` }, params),
    );
    return { columns: sample.columns.map((c) => c.name), rows: sample.rows };
  }

  /** Plan column masking for an allowed statement (fail closed: a policy with masks needs a masker). */
  private maskPlan(r: Resolved, judged: Judged, event: AuditEventInput): MaskPlan {
    let plan: MaskPlan;
    if (!policyHasMasks(r.policy)) plan = NO_MASKING;
    else if (!this.deps.masker) plan = { ok: false, reasons: [reason('MASK_REWRITE_UNSUPPORTED', 'Column masking is not available in this gateway.')] };
    else plan = this.deps.masker.plan({ decision: judged.decision, policy: r.policy, catalog: judged.catalog, searchPath: r.db.config.search_path });
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
  private async maskedErrors<T>(rewritten: boolean, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (rewritten && isGatewayError(err)) delete err.details.position;
      throw err;
    }
  }

  /** An INTERNAL_ERROR reached an agent: log its cause once (operators only), quoted text redacted. */
  private logInternal(err: unknown, tool: string, requestId: string): void {
    this.deps.logger?.error({ err: internalCause(err), tool, requestId }, 'internal error: the call was answered INTERNAL_ERROR');
  }

  /** Record an audit event. A fail-closed sink that cannot keep it has already counted and marked the gap. */
  private audit(event: AuditEventInput): void {
    try {
      this.deps.audit.record(event);
    } catch {
      // The next call is refused by precheck (audit.accepting() is false).
    }
  }

  private dbInfo(r: Resolved, decision: Decision, explain: boolean): DbOperationInfo {
    const summary = summarizeQuery(decision);
    // no spread of the info: its normalizedSql getter is read only when a span records it
    return dbOperationInfo(r.database, decision, explain ? { operation: 'EXPLAIN', summary: `EXPLAIN ${summary}`.trim() } : { summary });
  }

  /** The event every call records (no spreads: it is built on every call). */
  private baseEvent(ctx: CallContext, tool: string, decision: AuditEventInput['decision']): AuditEventInput {
    const event: AuditEventInput = { request_id: ctx.requestId, principal: ctx.principal, tool, decision };
    if (ctx.clientAddress) event.client = ctx.clientAddress;
    return event;
  }
}

export const VERSION = '0.1.0';

// ---------------------------------------------------------------- helpers (pure)

/** The bind values of a statement the masking rewrite may have changed: its own, then the hash-key blocks. */
function withKeyParams(own: readonly unknown[] | undefined, masking: MaskPlan): readonly unknown[] | undefined {
  if (!masking.ok || !masking.rewritten || masking.params.length === 0) return own;
  return [...(own ?? []), ...masking.params];
}

const NO_MASKING: MaskPlan = { ok: true, rewritten: false, masked: [] };

/**
 * The record written (durably) before a write or revert reaches the database: the call's event so
 * far, as `allowed`. The call's outcome (`executed`, `reverted`, `failed`, …) follows as its own
 * record with the same request_id, so a crash in between still leaves the decision in the log.
 */
function writeIntent(event: AuditEventInput, blastRadiusRows: number | null): AuditEventInput {
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

/** True when a decision's only objection is that the policy is explain-only. */
function onlyExplainOnly(decision: Decision): boolean {
  return decision.decision !== 'allow' && decision.reasons.length > 0 && decision.reasons.every((x) => x.code === 'EXPLAIN_ONLY');
}

function visibleSchemas(r: Resolved): string[] {
  return r.policy.schemas.length > 0 ? [...r.policy.schemas] : [...r.db.config.search_path];
}

/** Resolve "schema.table" or "table" (first match on the search path); quotes allowed. */
export function resolveTableName(input: string, catalog: CatalogSnapshot, searchPath: readonly string[]): { schema: string; name: string } | undefined {
  const parts = splitQualified(input.trim());
  if (!parts) return undefined;
  if (parts.length === 2) {
    const [schema, name] = parts as [string, string];
    return catalog.relations.has(`${schema}.${name}`) ? { schema, name } : undefined;
  }
  const [name] = parts as [string];
  for (const schema of searchPath) if (catalog.relations.has(`${schema}.${name}`)) return { schema, name };
  return undefined;
}

/** Split `a.b`, `"A"."b"`, `a` into identifier parts with Postgres folding (unquoted → lower case). */
export function splitQualified(input: string): string[] | undefined {
  const parts: string[] = [];
  let i = 0;
  while (i < input.length) {
    if (input[i] === '"') {
      let j = i + 1;
      let out = '';
      for (;;) {
        if (j >= input.length) return undefined;
        if (input[j] === '"') {
          if (input[j + 1] === '"') {
            out += '"';
            j += 2;
            continue;
          }
          break;
        }
        out += input[j];
        j += 1;
      }
      parts.push(out);
      i = j + 1;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(input.slice(i));
      if (!m) return undefined;
      parts.push(m[0].toLowerCase());
      i += m[0].length;
    }
    if (i < input.length) {
      if (input[i] !== '.') return undefined;
      i += 1;
      if (i >= input.length) return undefined;
    }
  }
  return parts.length >= 1 && parts.length <= 2 ? parts : undefined;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function planOf(result: ReadResult & { plan?: unknown }): unknown {
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

/** Names echoed back are clipped and stripped of control characters. */
function safeName(name: string | undefined): string {
  return (name ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 80);
}


function withRequestId(refusal: Refusal, ctx: CallContext): Refusal {
  return { ...refusal, requestId: ctx.requestId };
}

/**
 * The cause chain of an internal error for the operator log: type, code, message and stack of
 * each level, with quoted segments redacted (a driver message may quote a value).
 */
export function internalCause(err: unknown, depth = 0): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err, message: redactQuoted(String(err)).slice(0, 500) };
  const out: Record<string, unknown> = { type: err.name, message: redactQuoted(err.message).slice(0, 500) };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (err.stack !== undefined) out.stack = redactQuoted(err.stack).slice(0, 4000);
  if (err.cause !== undefined && depth < 3) out.cause = internalCause(err.cause, depth + 1);
  return out;
}

export function toRefusal(err: unknown): Refusal {
  if (isGatewayError(err)) {
    return {
      decision: err.decision,
      reasons: err.reasons,
      ...(err.details.sqlstate ? { sqlstate: err.details.sqlstate } : {}),
      ...(err.details.position ? { position: err.details.position } : {}),
    };
  }
  return { decision: 'error', reasons: [reason('INTERNAL_ERROR')] };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The arguments schema of a predefined tool, built once per tool definition (a reload makes new ones). */
const argumentSchemas = new WeakMap<PredefinedTool, ReturnType<typeof argumentsSchema>>();
function predefinedArguments(tool: PredefinedTool): ReturnType<typeof argumentsSchema> {
  let schema = argumentSchemas.get(tool);
  if (schema === undefined) {
    schema = argumentsSchema(tool);
    argumentSchemas.set(tool, schema);
  }
  return schema;
}
