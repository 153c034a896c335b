/**
 * The call plumbing every tool runs over: resolve principal, database and policy (precheck),
 * one cancellation controller per call, errors converted into coded refusals, exactly one audit
 * event and one telemetry span per call, and INTERNAL_ERROR causes logged once for operators.
 *
 * Guarantees: a tool body runs only after precheck passed (not shutting down, audit accepting,
 * principal reaches the database, the policy enables the tool); whatever the body returns or
 * throws, the call's audit event is recorded once and its span finished; a thrown error leaves as
 * a refusal (toRefusal), never raw; every refusal carries the request id.
 * Does not: judge statements (call/judge.ts) or touch the database (the tool bodies do).
 */
import { reason } from '../../guard/reasons.js';
import type { ToolName } from '../../guard/types.js';
import type { DatabasePolicy } from '../../config/schema.js';
import { NOOP_TELEMETRY, type Telemetry } from '../../telemetry/index.js';
import { databasePolicy, resolvePrincipal, toolEnabled, type PrincipalView } from '../principals.js';
import type { AuditEventInput } from '../ports.js';
import { refused, type Outcome, type Refusal } from '../results.js';
import { CallCancel } from '../signals.js';
import type { CallContext, GatewayDeps, Resolved } from './context.js';
import { internalCause, safeName, toRefusal, withRequestId } from './refusals.js';

/** A tool body: runs after precheck with the resolved call, its start time, its audit event and an inner context carrying the call's signal. */
export type CallBody<T> = (r: Resolved, started: number, event: AuditEventInput, ctx: CallContext) => Promise<Outcome<T>>;

export class CallPlumbing {
  /** Swapped by Gateway.reload: every tool reads the deps in force at the time of the call. */
  deps: GatewayDeps;
  shuttingDown = false;
  readonly inflight = new Set<CallCancel>();
  readonly telemetry: Telemetry;

  constructor(deps: GatewayDeps) {
    this.deps = deps;
    this.telemetry = deps.telemetry ?? NOOP_TELEMETRY;
  }

  principal(name: string): PrincipalView | undefined {
    return resolvePrincipal(this.deps.config, name);
  }

  policyFor(principal: string, database: string): DatabasePolicy | undefined {
    return databasePolicy(this.deps.config, principal, database);
  }

  /** Resolve, run `body`, convert errors into refusals, and audit (and trace) exactly once. */
  call<T>(ctx: CallContext, tool: string, database: string | undefined, body: CallBody<T>, access: { predefined: boolean } = { predefined: false }): Promise<Outcome<T>> {
    const attrs = { principal: ctx.principal, requestId: ctx.requestId, database, jsonrpcId: ctx.jsonrpcId, protocolVersion: ctx.protocolVersion };
    return this.telemetry.toolCall(tool, attrs, async (scope) => {
      const started = Date.now();
      const event = this.baseEvent(ctx, tool, 'allowed');
      const cancel = this.linkCancellation(ctx);
      const inner: CallContext = new BodyContext(ctx, cancel.cancel);
      if (ctx.clientAddress !== undefined) inner.clientAddress = ctx.clientAddress;
      if (ctx.budgetScope !== undefined) inner.budgetScope = ctx.budgetScope;
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
        cancel.release();
        event.duration_ms = Date.now() - started;
        this.audit(event);
        scope.finish(event);
      }
    });
  }

  /** One CallCancel per call: every source of cancellation (signals, a CancelLatch) and shutdown (cancelInflight) abort it. */
  private linkCancellation(ctx: CallContext): { cancel: CallCancel; release(): void } {
    const cancel = new CallCancel();
    const sources = ctx.alsoCancelledBy === undefined ? (ctx.signal === undefined ? [] : [ctx.signal]) : [ctx.signal, ...ctx.alsoCancelledBy];
    const onAbort = (e: Event): void => cancel.abort((e.target as AbortSignal).reason);
    for (const source of sources) {
      if (source === undefined) continue;
      if (source.aborted) cancel.abort(source.reason);
      source.addEventListener('abort', onAbort, { once: true });
    }
    const latch = ctx.cancelLatch;
    latch?.listen((reason) => cancel.abort(reason));
    this.inflight.add(cancel);
    return {
      cancel,
      release: () => {
        for (const source of sources) source?.removeEventListener('abort', onAbort);
        latch?.listen(undefined);
        this.inflight.delete(cancel);
      },
    };
  }

  /** Resolve principal, database and policy; `tool` undefined: a granted predefined tool (no raw-tool switch applies). */
  precheck(ctx: CallContext, tool: ToolName | undefined, database: string | undefined): Resolved | { refusal: Refusal } {
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

  /** Record an audit event. A fail-closed sink that cannot keep it has already counted and marked the gap. */
  audit(event: AuditEventInput): void {
    try {
      this.deps.audit.record(event);
    } catch {
      // The next call is refused by precheck (audit.accepting() is false).
    }
  }

  /** The event every call records (no spreads: it is built on every call). */
  baseEvent(ctx: CallContext, tool: string, decision: AuditEventInput['decision']): AuditEventInput {
    const event: AuditEventInput = { request_id: ctx.requestId, principal: ctx.principal, tool, decision };
    if (ctx.clientAddress) event.client = ctx.clientAddress;
    return event;
  }

  /** An INTERNAL_ERROR reached an agent: log its cause once (operators only), quoted text redacted. */
  logInternal(err: unknown, tool: string, requestId: string): void {
    // `cause`, not `err`: pino's error serializer would overwrite the cause's type with "Object"
    this.deps.logger?.error({ cause: internalCause(err), tool, requestId }, 'internal error: the call was answered INTERNAL_ERROR');
  }
}

/**
 * The context a tool body runs with: the call's own cancellation as `cancel` (the read path
 * listens to it) and as `signal`, an AbortSignal created only when a tool reads it. A class, not
 * an object literal with a getter (V8 builds those on a slow path, on every call).
 */
class BodyContext implements CallContext {
  readonly principal: string;
  readonly requestId: string;
  readonly cancel: CallCancel;
  declare clientAddress?: string;
  declare budgetScope?: CallContext['budgetScope'];

  constructor(ctx: CallContext, cancel: CallCancel) {
    this.principal = ctx.principal;
    this.requestId = ctx.requestId;
    this.cancel = cancel;
  }

  get signal(): AbortSignal {
    return this.cancel.signal;
  }
}
