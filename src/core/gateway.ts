/**
 * The gateway core: one pipeline for every adapter (MCP over HTTP, MCP over stdio, CLI).
 *
 *   resolve principal/database → guard (parse, classify, authorize) → execute (hardened read)
 *   → shape → audit
 *
 * This file is the facade adapters call: configuration, reload and lifecycle live here; each tool
 * is its own module under tools/ over the shared call plumbing under call/ (precheck, one audit
 * event, telemetry, cancellation, error mapping: call/plumbing.ts; the guard: call/judge.ts; the
 * read and guarded-write paths: call/read.ts, call/write.ts).
 *
 * Guarantees: no statement reaches the database unless the guard allowed it for this principal,
 * database and tool (observe mode excepted, where the response says what would be refused);
 * reads run only through DatabasePort.runRead (read-only transaction, extended protocol, caps);
 * every call produces exactly one audit event; errors leave as coded refusals, never raw.
 * Does not: authenticate (the HTTP/stdio adapters hand over a principal name).
 */
import type { Config, DatabasePolicy } from '../config/schema.js';
import type { Reason } from '../guard/reasons.js';
import type { ToolName } from '../guard/types.js';
import type { Masker } from '../mask/index.js';
import type { CallContext, GatewayDeps } from './call/context.js';
import { CallPlumbing } from './call/plumbing.js';
import { withRequestId } from './call/refusals.js';
import { GatewayError } from './errors.js';
import type { ApprovalHooks, GuardPort } from './ports.js';
import { toolsForPrincipal, type PrincipalView } from './principals.js';
import { refused, type Outcome, type QueryPayload } from './results.js';
import type { ExecutePayload, InClientConfirm } from './writes.js';
import { approvalHooks } from './tools/approvals.js';
import { check, type CheckPayload } from './tools/check.js';
import { describe } from './tools/describe.js';
import { execute } from './tools/execute.js';
import { explain, type ExplainPayload } from './tools/explain.js';
import { judgeDefinition, predefined, predefinedResource } from './tools/predefined.js';
import { query } from './tools/query.js';
import { revert } from './tools/revert.js';
import { status } from './tools/status.js';

export type { CallContext, GatewayDeps } from './call/context.js';
export type { CheckPayload } from './tools/check.js';
export type { ExplainPayload } from './tools/explain.js';
export { internalCause, toRefusal } from './call/refusals.js';
export { revertStatement } from './tools/revert.js';
export { quoteIdent, resolveTableName, splitQualified } from './names.js';
export { VERSION } from './version.js';

export class Gateway {
  private readonly p: CallPlumbing;

  constructor(deps: GatewayDeps) {
    this.p = new CallPlumbing(deps);
  }

  get config(): Config {
    return this.p.deps.config;
  }

  get configVersion(): number {
    return this.p.deps.configVersion;
  }

  /**
   * Swap in a reloaded configuration (src/app/reload.ts says which keys apply): principals,
   * policies, operators, guard settings, masking and per-database limits and descriptions apply
   * to the next call, to approvals and to reverts (the decision cache is keyed by the version).
   * Database connections, server, audit, telemetry and journal settings keep their running
   * values until a restart. The caller validated the file and built the guard and masker.
   */
  reload(config: Config, configVersion: number, parts: { masker?: Masker; guard?: GuardPort } = {}): void {
    const before = this.p.deps.config;
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
    this.p.deps = {
      ...this.p.deps,
      config: merged,
      configVersion,
      ...(parts.masker ? { masker: parts.masker } : {}),
      ...(parts.guard ? { guard: parts.guard } : {}),
    };
  }

  principal(name: string): PrincipalView | undefined {
    return this.p.principal(name);
  }

  tools(principal: string): Set<ToolName> {
    return toolsForPrincipal(this.p.deps.config, principal);
  }

  policyFor(principal: string, database: string): DatabasePolicy | undefined {
    return this.p.policyFor(principal, database);
  }

  /** A gateway over the same databases, guard and audit with another configuration (verify a reload before applying it). */
  withConfig(config: Config, configVersion: number): Gateway {
    return new Gateway({ ...this.p.deps, config, configVersion });
  }

  // ---------------------------------------------------------------- tools (one module each, under tools/)

  query(ctx: CallContext, args: { sql: string; database?: string | undefined }): Promise<Outcome<QueryPayload>> {
    return query(this.p, ctx, args);
  }

  explain(ctx: CallContext, args: { sql: string; database?: string | undefined; analyze?: boolean | undefined }): Promise<Outcome<ExplainPayload>> {
    return explain(this.p, ctx, args);
  }

  check(ctx: CallContext, args: { sql: string; database?: string | undefined }): Promise<Outcome<CheckPayload>> {
    return check(this.p, ctx, args);
  }

  describe(ctx: CallContext, args: { database?: string | undefined; table?: string | undefined }): Promise<Outcome<Record<string, unknown>>> {
    return describe(this.p, ctx, args);
  }

  execute(ctx: CallContext, args: { sql: string; database?: string | undefined; confirm?: InClientConfirm }): Promise<Outcome<ExecutePayload>> {
    return execute(this.p, ctx, args);
  }

  /** Undo one of the principal's own journaled writes, conflict-checked. */
  revert(ctx: CallContext, args: { undoId: string; database?: string | undefined }): Promise<Outcome<Record<string, unknown>>> {
    return revert(this.p, ctx, args);
  }

  /** A predefined tool (config `tools`), see tools/predefined.ts. */
  predefined(ctx: CallContext, name: string, args: unknown): Promise<Outcome<unknown>> {
    return predefined(this.p, ctx, name, args);
  }

  /** An operator-defined resource (config `resources`), audited as `resource:<name>`. */
  predefinedResource(ctx: CallContext, name: string, args: Record<string, string> = {}): Promise<Outcome<QueryPayload>> {
    return predefinedResource(this.p, ctx, name, args);
  }

  /**
   * The guard's verdict on a predefined tool's statement for one principal, as a call would judge
   * it (catalog loaded from the database). For load-time verification: nothing runs.
   */
  judgeDefinition(principal: string, name: string, section: 'tools' | 'resources' = 'tools'): Promise<{ reasons: Reason[]; write: boolean } | { unavailable: true }> {
    return judgeDefinition(this.p, principal, name, section);
  }

  /** A call whose arguments failed the tool's input schema: audited as blocked, nothing ran. */
  refuseArguments(ctx: CallContext, tool: string, reasons: Reason[]): Outcome<never> {
    const event = this.p.baseEvent(ctx, tool, 'blocked');
    event.reasons = reasons.map((x) => x.code);
    this.p.audit(event);
    return refused(withRequestId({ decision: 'block', reasons }, ctx));
  }

  /** Approval hooks for operators (admin API, CLI), see tools/approvals.ts. */
  approvalHooks(): ApprovalHooks {
    return approvalHooks(this.p);
  }

  status(ctx: CallContext): Promise<Outcome<Record<string, unknown>>> {
    return status(this.p, ctx);
  }

  // ---------------------------------------------------------------- lifecycle

  async ready(): Promise<boolean> {
    if (this.p.shuttingDown) return false;
    const checks = await Promise.all([...this.p.deps.databases.values()].map((d) => d.ready().catch(() => false)));
    return checks.length > 0 && checks.every(Boolean);
  }

  get isShuttingDown(): boolean {
    return this.p.shuttingDown;
  }

  /** Cancel every in-flight call now (shutdown after the drain budget). */
  async cancelInflight(): Promise<void> {
    for (const c of this.p.inflight) c.abort(new GatewayError('SHUTTING_DOWN'));
    await Promise.all([...this.p.deps.databases.values()].map((d) => d.cancelAll().catch(() => undefined)));
  }

  /** Stop taking calls; let in-flight calls finish within `budgetMs`, then cancel the rest and close pools. */
  async shutdown(budgetMs: number): Promise<void> {
    this.p.shuttingDown = true;
    const deadline = Date.now() + budgetMs;
    while (this.p.inflight.size > 0 && Date.now() < deadline) await sleep(25);
    await this.cancelInflight();
    await Promise.all([...this.p.deps.databases.values()].map((d) => d.end().catch(() => undefined)));
    await this.p.deps.writes?.end().catch(() => undefined);
    await this.p.deps.audit.close().catch(() => undefined);
    await this.p.deps.judging?.close().catch(() => undefined);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
