/**
 * Operator actions outside the MCP tools (admin API and CLI): rejecting a held write and reverting
 * an undo entry, recorded in the audit log like the agent's own calls. (Approving already is: the
 * approval hooks write `allowed` before and `approved` after the write, src/core/gateway.ts.)
 *
 * Guarantees:
 * - revert: an `allowed` record (tool `revert`, principal `operator:<name>`, the undo id) is written
 *   durably BEFORE the revert reaches the database; when it cannot be written the revert does not
 *   run (AUDIT_UNAVAILABLE). The outcome follows with the same request_id: `reverted` with the
 *   database and row count, `blocked` with the reason code of a refusal (UNDO_NOT_FOUND,
 *   UNDO_CONFLICT, UNDO_ALREADY_REVERTED), or `failed` with the code of any other error.
 * - reject: after the queue marked the approval rejected (nothing reaches the database), a
 *   `rejected` record (tool `reject`, principal `operator:<name>`, database, approval id, the held
 *   statement's normalized text) is written durably; a refused rejection (APPROVAL_NOT_FOUND,
 *   APPROVAL_NOT_PENDING, ...) is recorded as `blocked` with its code.
 * Does not: record the operator's free-text note (it may hold anything), row values, or the raw
 * statement.
 */
import { randomUUID } from 'node:crypto';
import { isGatewayError } from './errors.js';
import type { Approval, AuditEventInput, AuditPort } from './ports.js';

export interface OperatorWrites {
  revert(undoId: string, options: { by: string }): Promise<{ database: string; rowCount: number }>;
  approvals: { reject(approvalId: string, operator: string, note?: string): Promise<Approval> };
}

function outcomeOf(err: unknown): Pick<AuditEventInput, 'decision' | 'reasons'> {
  if (isGatewayError(err)) return { decision: err.decision === 'block' ? 'blocked' : 'failed', reasons: [err.code] };
  return { decision: 'failed', reasons: ['INTERNAL_ERROR'] };
}

/** Revert an undo entry as `operator` (`operator:<name>`), audited before and after. */
export async function auditedRevert<R extends { database: string; rowCount: number }>(
  audit: AuditPort,
  writes: { revert(undoId: string, options: { by: string }): Promise<R> },
  undoId: string,
  operator: string,
): Promise<R> {
  const base: AuditEventInput = { request_id: randomUUID(), principal: operator, tool: 'revert', decision: 'allowed', undo_id: undoId };
  const started = Date.now();
  await audit.durable(base);
  try {
    const res = await writes.revert(undoId, { by: operator });
    await audit.durable({ ...base, decision: 'reverted', database: res.database, rows: res.rowCount, duration_ms: Date.now() - started });
    return res;
  } catch (err) {
    await audit.durable({ ...base, ...outcomeOf(err), duration_ms: Date.now() - started }).catch(() => undefined);
    throw err;
  }
}

/** Reject a held write as `operator` (`operator:<name>`), audited once it is decided. */
export async function auditedReject(audit: AuditPort, writes: OperatorWrites, approvalId: string, operator: string, note?: string): Promise<Approval> {
  const base: AuditEventInput = { request_id: randomUUID(), principal: operator, tool: 'reject', decision: 'rejected', approval_id: approvalId };
  let a: Approval;
  try {
    a = await writes.approvals.reject(approvalId, operator, note);
  } catch (err) {
    await audit.durable({ ...base, ...outcomeOf(err) }).catch(() => undefined);
    throw err;
  }
  await audit.durable({ ...base, database: a.database, normalized_sql: a.normalizedSql });
  return a;
}
