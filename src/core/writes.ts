/**
 * The guarded write flow, after the guard allowed a single write for `execute`:
 *
 *   plan (pure, src/guard/write) → measure the blast radius (read-only count) → thresholds:
 *   block | hold (durable approval, nothing runs) | execute (one transaction: capture before-images,
 *   write with RETURNING, journal, commit) → undo id.
 *
 * Guarantees: nothing is written unless the radius was measured and is within the policy's
 * thresholds (or an operator approved it); the executor rolls back if the write changes more rows
 * than measured/approved; a write whose effects cannot be journaled runs only when the policy
 * says allow_irreversible. An in-client confirmation (confirm_in_client) replaces the operator only
 * for writes within its max_rows, is consumed exactly once before anything runs, and the write is
 * re-measured and refused if it grew past the confirmed count. Does not: judge the statement (the guard did) or authenticate
 * operators (the admin API and CLI do).
 *
 * Size: runGuardedWrite (~70 lines, the one function in core/ over 60) is kept whole on purpose:
 * its order — consume a confirmation before anything, measure, thresholds, re-check a confirmed
 * count, hold or confirm, durable intent, execute within the measured rows — is the guarantee
 * above, and it is reviewed by reading it top to bottom; split, the order would live in no one place.
 */
import type { DatabasePolicy } from '../config/schema.js';
import { reason } from '../guard/reasons.js';
import type { CatalogSnapshot, Decision } from '../guard/types.js';
import { applyThresholds, isWritePlan, planWrite, type WritePlan } from '../guard/write/index.js';
import type { BlastRadius, DatabaseWriterPort, WriteSessionOptions, WritesPort } from './ports.js';
import { ok, refused, type Outcome } from './results.js';

export interface ExecutePayload {
  decision: 'executed';
  database: string;
  rowCount: number;
  /** Pass to revert to undo this write; null when the policy allowed an irreversible write. */
  undoId: string | null;
  blastRadius: BlastRadius;
  elapsedMs: number;
}

export interface WriteInput {
  database: string;
  decision: Decision;
  /**
   * The tree to plan instead of `decision.stmt`: the masking rewrite of it, where every masked
   * relation the write reads is its masked projection (the target is never replaced).
   */
  planStmt?: unknown;
  catalog: CatalogSnapshot;
  searchPath: readonly string[];
  policy: DatabasePolicy;
  session: WriteSessionOptions;
  principal: string;
  sql: string;
  /** Bind values for $n (predefined tools); recorded with a held write so approval binds the same. */
  params?: readonly unknown[];
  /**
   * Bind values appended after `params` when the plan runs (the masking rewrite's hash-key blocks,
   * src/mask): never stored with a held write (an approval re-plans and gets them again).
   */
  keyParams?: readonly unknown[];
  /** In-client confirmation (src/mcp/confirm.ts): offer one instead of a hold, or redeem one. */
  confirm?: InClientConfirm;
  /**
   * Called after every check passed, right before the write is sent; the write waits for it and
   * does not run when it rejects. The gateway writes the decision to the audit log here (durable).
   */
  beforeExecute?: (radius: BlastRadius) => Promise<void>;
}

/**
 * `offer`: the client can ask its human (elicitation), so a hold within confirm_in_client.max_rows
 * becomes a single-use confirmation instead of an operator approval. `redeem`: the retried call
 * after the human answered; `confirmationId` comes from verified request state ('' when the state
 * did not verify), `rows` is the count the human was shown.
 */
export type InClientConfirm = { offer: true } | { redeem: { confirmationId: string; rows: number; accepted: boolean } };

/** Plan one allowed write; a refusal when it cannot be planned or recorded. */
export function planAllowedWrite(input: Pick<WriteInput, 'decision' | 'planStmt' | 'catalog' | 'searchPath' | 'policy'>): Outcome<WritePlan> {
  const plan = planWrite(input.planStmt ?? input.decision, input.catalog, input.searchPath);
  if (!isWritePlan(plan)) return refused({ decision: 'block', reasons: plan.reasons });
  if (!plan.reversible && !input.policy.writes.allow_irreversible) {
    return refused({ decision: 'block', reasons: plan.irreversibleReasons.map((m) => reason('NOT_REVERSIBLE', m)) });
  }
  return ok(plan);
}

/** Measure, apply thresholds, then hold, block or execute with undo. */
export async function runGuardedWrite(writes: WritesPort, writer: DatabaseWriterPort, input: WriteInput): Promise<Outcome<ExecutePayload>> {
  const started = Date.now();
  const planned = planAllowedWrite(input);
  if (!planned.ok) return planned;
  const plan = planned.value;
  const rules = input.policy.writes;
  const redeem = input.confirm && 'redeem' in input.confirm ? input.confirm.redeem : undefined;
  if (redeem) {
    // Consume first (exactly once, bound to principal + statement digest), whatever the answer:
    // a declined or replayed confirmation can never be used again.
    const consumed = await writer.consumeConfirmation({ confirmationId: redeem.confirmationId, principal: input.principal, sql: input.sql });
    if (!consumed) return refused({ decision: 'block', reasons: [reason('CONFIRMATION_INVALID')] });
    if (!redeem.accepted) return refused({ decision: 'block', reasons: [reason('CONFIRMATION_INVALID', 'The write was declined at the client; nothing ran.')] });
  }
  const runParams = input.keyParams?.length ? [...(input.params ?? []), ...input.keyParams] : input.params;
  const radius = await writer.measure(plan, { session: input.session, method: rules.measure, ...(runParams ? { params: runParams } : {}) });
  const verdict = applyThresholds(radius.rows ?? undefined, rules, plan.uncountableReason);
  const reasons = verdict.reason ? [verdict.reason] : [];
  if (verdict.action === 'block') return refused({ decision: 'block', reasons, blastRadius: radius });
  const inClient = rules.confirm_in_client;
  if (redeem) {
    // Re-measured: the write runs only while it still fits what the human confirmed and the policy.
    if (!inClient.enabled || radius.rows === null || radius.rows > redeem.rows || radius.rows > inClient.max_rows) {
      return refused({ decision: 'block', reasons: [reason('CONFIRMATION_INVALID', 'The write would now change more rows than were confirmed; nothing ran.')], blastRadius: radius });
    }
  } else if (verdict.action === 'hold' && input.confirm && inClient.enabled && radius.rows !== null && radius.rows <= inClient.max_rows) {
    const c = await writer.createConfirmation({ principal: input.principal, sql: input.sql, ttlMs: inClient.ttl_ms });
    return refused({
      decision: 'hold',
      reasons,
      expiresAt: c.expiresAt,
      blastRadius: radius,
      confirmation: { confirmationId: c.confirmationId, rows: radius.rows, table: `${plan.target.schema}.${plan.target.name}`, database: input.database, normalizedSql: input.decision.normalized },
    });
  }
  if (verdict.action === 'hold' && !redeem) {
    const approval = await writes.approvals.create(input.database, {
      principal: input.principal,
      sql: input.sql,
      normalizedSql: input.decision.normalized,
      ...(input.params ? { parameters: input.params } : {}),
      blastRadius: { ...radius },
      reasons,
      ttlMs: rules.approval_ttl_ms,
      limits: { maxPending: rules.max_pending_approvals, maxPendingBytes: rules.max_pending_bytes },
    });
    return refused({ decision: 'hold', reasons, approvalId: approval.approvalId, expiresAt: approval.expiresAt, blastRadius: radius });
  }
  await input.beforeExecute?.(radius);
  const result = await writer.execute(plan, {
    session: input.session,
    principal: input.principal,
    sql: input.sql,
    normalizedSql: input.decision.normalized,
    ...(runParams ? { params: runParams } : {}),
    ...(radius.rows !== null ? { allowedRows: redeem ? Math.min(radius.rows, redeem.rows) : radius.rows } : {}),
    maxCaptureRows: rules.max_capture_rows,
    maxCaptureBytes: rules.max_capture_bytes,
    journal: plan.reversible,
  });
  return ok({
    decision: 'executed',
    database: input.database,
    rowCount: result.rowCount,
    undoId: result.undoId,
    blastRadius: radius,
    elapsedMs: Date.now() - started,
  });
}
