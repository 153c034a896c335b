/**
 * `pgwarden approvals …` and `pgwarden revert …` against a real database, in process (the
 * commands take their configuration and approval hooks as parameters).
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalsCommand, type ApprovalHooksProvider } from '../../../src/cli/approvals.js';
import { revertCommand } from '../../../src/cli/revert.js';
import { parseConfig } from '../../../src/config/index.js';
import type { Config } from '../../../src/config/schema.js';
import { executeWrite, measureBlastRadius, WriteState } from '../../../src/db/writes/index.js';
import { reason } from '../../../src/guard/reasons.js';
import { caps, deleteTickets, session, setupWriteDb, type WriteTestDb } from './helpers.js';

let w: WriteTestDb;
let config: Config;
let state: WriteState;
const auditPath = path.join(mkdtempSync(path.join(tmpdir(), 'pgwarden-cli-audit-')), 'audit.ndjson');
const auditRecords = (): Record<string, unknown>[] =>
  readFileSync(auditPath, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

const planFor = (sql: string) => deleteTickets(`t.id = ${/WHERE id = (\d+)$/.exec(sql)?.[1] ?? '-1'}`);

const hooks: ApprovalHooksProvider = async (_config, writes) => {
  const db = writes.database('demo');
  if (db === undefined) throw new Error('no demo database');
  return {
    hooks: {
      revalidate: async () => ({ ok: true }),
      measure: async (a) => ({ rows: (await measureBlastRadius(db, planFor(a.sql), { session })).rows }),
      execute: (a, o) => executeWrite(db, planFor(a.sql), { session, principal: a.principal, sql: a.sql, normalizedSql: a.normalizedSql, ...caps, approvalId: o.approvalId }),
    },
    close: async () => undefined,
  };
};

beforeAll(async () => {
  w = await setupWriteDb();
  config = parseConfig(
    {
      databases: { demo: { url: w.scratch.gatewayUrl, search_path: ['app'] } },
      audit: { sink: 'file', path: auditPath, fsync: 'never' },
      principals: { alice: { policy: 'writer' } },
      policies: { writer: { databases: { demo: { mode: 'read-write', schemas: ['app'] } } } },
    },
    { allowNoTokens: true },
  );
  state = WriteState.fromConfig(config);
});
afterAll(async () => {
  await state?.end();
  await w?.end();
});

async function cli(fn: (out: (t: string) => void) => Promise<number>): Promise<{ code: number; text: string }> {
  let text = '';
  const code = await fn((t) => (text += t));
  return { code, text };
}

const hold = async (id: number) =>
  state.approvals.create('demo', {
    principal: 'alice',
    sql: `DELETE FROM app.support_tickets WHERE id = ${id}`,
    normalizedSql: 'DELETE FROM app.support_tickets WHERE id = $1',
    blastRadius: await measureBlastRadius(w.db, planFor(`WHERE id = ${id}`), { session }),
    reasons: [reason('HELD_FOR_APPROVAL')],
    ttlMs: 60_000,
  });

describe('pgwarden approvals', () => {
  it('list shows pending approvals without the literal statement; show prints it', async () => {
    const a = await hold(8);
    const list = await cli((out) => approvalsCommand(['list', '--status', 'pending'], { config, out }));
    expect(list.code).toBe(0);
    expect(list.text).toContain(a.approvalId);
    expect(list.text).toContain('WHERE id = $1');
    expect(list.text).not.toContain('id = 8');
    const json = await cli((out) => approvalsCommand(['list', '--json'], { config, out }));
    expect(JSON.parse(json.text)[0]).not.toHaveProperty('sql');
    const show = await cli((out) => approvalsCommand(['show', a.approvalId], { config, out }));
    expect(show.text).toContain('statement DELETE FROM app.support_tickets WHERE id = 8');
    expect(show.text).toContain('rows      1');
  });

  it('approve runs the re-checked execution path once and prints the undo id; again → exit 2', async () => {
    const a = await hold(9);
    const ok = await cli((out) => approvalsCommand(['approve', a.approvalId, '--operator', 'dana'], { config, out, hooks }));
    expect(ok.code).toBe(0);
    expect(ok.text).toMatch(/executed .*: 1 rows, undo id [0-9a-f-]{36}/);
    expect((await state.approvals.get(a.approvalId))?.decidedBy).toBe('operator:dana');
    expect(await w.admin('SELECT 1 FROM app.support_tickets WHERE id = 9')).toHaveLength(0);
    const again = await cli((out) => approvalsCommand(['approve', a.approvalId], { config, out, hooks }));
    expect(again.code).toBe(2);
    expect(again.text).toContain('APPROVAL_NOT_PENDING');

    const undoId = /undo id ([0-9a-f-]{36})/.exec(ok.text)?.[1] as string;
    const rev = await cli((out) => revertCommand([undoId, '--operator', 'dana'], { config, out }));
    expect(rev.code).toBe(0);
    expect(rev.text).toContain('1 rows of app.support_tickets restored');
    expect(await w.admin('SELECT 1 FROM app.support_tickets WHERE id = 9')).toHaveLength(1);
    const twice = await cli((out) => revertCommand([undoId], { config, out }));
    expect(twice.code).toBe(2);
    expect(twice.text).toContain('UNDO_ALREADY_REVERTED');
    // both reverts are in the audit log: intent before, outcome after, as the operator
    const reverts = auditRecords().filter((r) => r.tool === 'revert' && r.undo_id === undoId);
    expect(reverts.map((r) => [r.decision, r.principal])).toEqual([
      ['allowed', 'operator:dana'],
      ['reverted', 'operator:dana'],
      ['allowed', expect.stringMatching(/^operator:/)],
      ['blocked', expect.stringMatching(/^operator:/)],
    ]);
    expect(reverts[1]).toMatchObject({ database: 'demo', rows: 1 });
    expect(reverts[3]).toMatchObject({ reasons: ['UNDO_ALREADY_REVERTED'] });
    expect(reverts[0]?.request_id).toBe(reverts[1]?.request_id);
  });

  it('reject records the reason; unknown ids exit 2', async () => {
    const a = await hold(10);
    const r = await cli((out) => approvalsCommand(['reject', a.approvalId, '--reason', 'no'], { config, out }));
    expect(r.code).toBe(0);
    expect((await state.approvals.get(a.approvalId))?.note).toBe('no');
    const rejected = auditRecords().filter((r) => r.approval_id === a.approvalId);
    expect(rejected).toEqual([expect.objectContaining({ tool: 'reject', decision: 'rejected', principal: expect.stringMatching(/^operator:/), database: 'demo', sql: 'DELETE FROM app.support_tickets WHERE id = $1' })]);
    const again = await cli((out) => approvalsCommand(['reject', a.approvalId], { config, out }));
    expect(again.code).toBe(2);
    expect(auditRecords().filter((r) => r.approval_id === a.approvalId).at(-1)).toMatchObject({ tool: 'reject', decision: 'blocked', reasons: ['APPROVAL_NOT_PENDING'] });
    const missing = await cli((out) => approvalsCommand(['show', '11111111-1111-1111-1111-111111111111'], { config, out }));
    expect(missing.code).toBe(2);
    const rev = await cli((out) => revertCommand(['11111111-1111-1111-1111-111111111111', '--json'], { config, out }));
    expect(rev.code).toBe(2);
    expect(JSON.parse(rev.text).error.code).toBe('UNDO_NOT_FOUND');
  });
});
