/**
 * Operator reject and revert (admin API, CLI) are audited: a revert whose intent cannot be written
 * does not run; outcomes carry the refusal's code.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/core/errors.js';
import { auditedReject, auditedRevert } from '../../../src/core/operator-actions.js';
import { NO_AUDIT, type AuditEventInput, type AuditPort } from '../../../src/core/ports.js';
import type { Approval } from '../../../src/db/writes/approvals.js';

function recorder(fail = false): { port: AuditPort; events: AuditEventInput[] } {
  const events: AuditEventInput[] = [];
  const port: AuditPort = {
    ...NO_AUDIT,
    record: (e) => void events.push(e),
    durable: async (e) => {
      if (fail) throw new GatewayError('AUDIT_UNAVAILABLE');
      events.push(e);
    },
  };
  return { port, events };
}

const approval = { approvalId: 'a1', database: 'shop', normalizedSql: 'DELETE FROM t WHERE id = $1' } as Approval;

describe('operator actions', () => {
  it('a revert is recorded before it runs and its outcome after, as the operator', async () => {
    const { port, events } = recorder();
    let ran = false;
    const writes = { revert: async () => ((ran = true), { database: 'shop', rowCount: 3 }) };
    await auditedRevert(port, writes, 'u1', 'operator:dana');
    expect(ran).toBe(true);
    expect(events.map((e) => [e.decision, e.principal, e.tool, e.undo_id])).toEqual([
      ['allowed', 'operator:dana', 'revert', 'u1'],
      ['reverted', 'operator:dana', 'revert', 'u1'],
    ]);
    expect(events[1]).toMatchObject({ database: 'shop', rows: 3, request_id: events[0]?.request_id });
  });

  it('a revert whose intent cannot be written does not run', async () => {
    const { port } = recorder(true);
    let ran = false;
    const writes = { revert: async () => ((ran = true), { database: 'shop', rowCount: 1 }) };
    await expect(auditedRevert(port, writes, 'u1', 'operator:dana')).rejects.toMatchObject({ code: 'AUDIT_UNAVAILABLE' });
    expect(ran).toBe(false);
  });

  it('refusals and failures are recorded with their code', async () => {
    const { port, events } = recorder();
    const refused = { revert: async () => Promise.reject(new GatewayError('UNDO_CONFLICT', undefined, { decision: 'block' })) };
    await expect(auditedRevert(port, refused, 'u1', 'operator:x')).rejects.toThrow();
    const broken = { revert: async () => Promise.reject(new Error('boom')) };
    await expect(auditedRevert(port, broken, 'u2', 'operator:x')).rejects.toThrow('boom');
    expect(events.filter((e) => e.decision !== 'allowed').map((e) => [e.decision, e.reasons])).toEqual([
      ['blocked', ['UNDO_CONFLICT']],
      ['failed', ['INTERNAL_ERROR']],
    ]);
  });

  it('a rejection is recorded with the database and normalized statement, never the note', async () => {
    const { port, events } = recorder();
    const writes = { revert: async () => ({ database: '', rowCount: 0 }), approvals: { reject: async () => approval } };
    await auditedReject(port, writes, 'a1', 'operator:dana', 'secret-note-text');
    expect(events).toEqual([expect.objectContaining({ decision: 'rejected', tool: 'reject', principal: 'operator:dana', approval_id: 'a1', database: 'shop', normalized_sql: approval.normalizedSql })]);
    expect(JSON.stringify(events)).not.toContain('secret-note-text');
  });
});
