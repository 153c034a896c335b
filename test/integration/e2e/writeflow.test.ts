/**
 * The write workflow under change (issue #14), end to end: a real MCP client, the real gateway and
 * a real PostgreSQL. Reverts act on ONLY the recorded table (item 7); pending approvals are capped
 * per principal, by count and by size (item 9). Reload cases are in reload.test.ts (a real
 * process and SIGHUP).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, codes, startE2eGateway, type E2eGateway } from '../../support/gateway.js';
import { testDatabase } from '../../support/pg.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';

const WRITER = 'pgw_flow_writer_0123456789abcdefghijklmnopq';
const OTHER = 'pgw_flow_other_0123456789abcdefghijklmnopqr';
const HOLDER = 'pgw_flow_holder_0123456789abcdefghijklmnopq';

let w: WriteTestDb;
let gw: E2eGateway;

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  const g = pg.escapeIdentifier(testDatabase().gatewayRole);
  await w.admin(`
    CREATE TABLE app.inh_parent (id int PRIMARY KEY, v text);
    CREATE TABLE internal.inh_hidden (CONSTRAINT inh_hidden_pk PRIMARY KEY (id)) INHERITS (app.inh_parent);
    INSERT INTO app.inh_parent VALUES (1, 'a'), (2, 'b'), (3, 'c');
    GRANT SELECT, INSERT, UPDATE, DELETE ON app.inh_parent TO ${g};
  `);
  const writes = { confirm_above_rows: 5, block_above_rows: 100 };
  const base = { mode: 'read-write', schemas: ['app'], tables: { deny: ['internal.*'] } };
  gw = await startE2eGateway({
    configInput: (auditPath) => ({
      server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 100_000, per_ip: 100_000 } },
      log: { level: 'warn' },
      audit: { sink: 'file', path: auditPath, fsync: 'never' },
      databases: { shop: { url: w.scratch.gatewayUrl, search_path: ['app'] } },
      principals: {
        writer: { policy: 'writer', tokens: [{ token: WRITER }] },
        other: { policy: 'holder', tokens: [{ token: OTHER }] },
        holder: { policy: 'holder', tokens: [{ token: HOLDER }] },
      },
      policies: {
        writer: { databases: { shop: { ...base, writes } } },
        holder: { databases: { shop: { ...base, writes: { ...writes, confirm_above_rows: 0, max_pending_approvals: 2, max_pending_bytes: 400 } } } },
      },
    }),
  });
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await w?.end();
});

describe('revert acts on ONLY the recorded table (issue #14 item 7)', () => {
  it('a write to ONLY parent is reverted although a child has the same key', async () => {
    const c = await gw.connect('legacy', WRITER);
    const out = await callTool(c, 'execute', { sql: "UPDATE ONLY app.inh_parent SET v = 'changed' WHERE id = 1" });
    expect(out.structured.decision).toBe('executed');
    await w.admin("INSERT INTO internal.inh_hidden VALUES (1, 'child')");
    const reverted = await callTool(c, 'revert', { undoId: out.structured.undoId });
    expect(reverted.isError).toBe(false);
    expect(await w.admin('SELECT v FROM ONLY app.inh_parent WHERE id = 1')).toEqual([{ v: 'a' }]);
    expect(await w.admin('SELECT v FROM internal.inh_hidden WHERE id = 1')).toEqual([{ v: 'child' }]);
  });

  it("a hidden child's rows never change the revert's answer (no existence oracle)", async () => {
    const c = await gw.connect('legacy', WRITER);
    const answers: string[] = [];
    for (const [id, child] of [[2, false], [3, true]] as const) {
      const out = await callTool(c, 'execute', { sql: `UPDATE ONLY app.inh_parent SET v = 'guess' WHERE id = ${id}` });
      expect(out.structured.decision).toBe('executed');
      if (child) await w.admin(`INSERT INTO internal.inh_hidden VALUES (${id}, 'guessed')`);
      const reverted = await callTool(c, 'revert', { undoId: out.structured.undoId });
      answers.push(JSON.stringify({ isError: reverted.isError, decision: reverted.structured.decision, codes: codes(reverted) }));
    }
    expect(answers[0]).toBe(answers[1]);
    expect(JSON.parse(answers[0] as string)).toMatchObject({ isError: false, decision: 'reverted' });
    expect(await w.admin('SELECT id, v FROM ONLY app.inh_parent WHERE id IN (2, 3) ORDER BY id')).toEqual([
      { id: 2, v: 'b' },
      { id: 3, v: 'c' },
    ]);
  });
});

describe('pending approvals are capped per principal (issue #14 item 9)', () => {
  it('by count: the third hold is refused with a clear code; another principal is unaffected', async () => {
    const c = await gw.connect('legacy', HOLDER);
    const held = [];
    for (const id of [70, 71]) held.push(await callTool(c, 'execute', { sql: `UPDATE app.support_tickets SET subject = 'h' WHERE id = ${id}` }));
    expect(held.map((h) => h.structured.decision)).toEqual(['hold', 'hold']);
    const third = await callTool(c, 'execute', { sql: "UPDATE app.support_tickets SET subject = 'h' WHERE id = 72" });
    expect(third.isError).toBe(true);
    expect(third.structured.decision).toBe('block');
    expect(codes(third)).toEqual(['PENDING_APPROVALS_LIMIT']);
    expect(third.structured.approvalId).toBeUndefined();
    const pending = await gw.runtime.writes?.approvals.list({ principal: 'holder', status: 'pending' });
    expect(pending?.length).toBe(2);
    // an operator's decision makes room again
    await gw.runtime.writes?.approvals.reject(held[0]?.structured.approvalId as string, 'operator:test');
    expect((await callTool(c, 'execute', { sql: "UPDATE app.support_tickets SET subject = 'h' WHERE id = 72" })).structured.decision).toBe('hold');
  });

  it('by total size of the held statements', async () => {
    const c = await gw.connect('legacy', OTHER);
    const big = `UPDATE app.support_tickets SET subject = 'h' WHERE id = 80 -- ${'x'.repeat(250)}`;
    expect((await callTool(c, 'execute', { sql: big })).structured.decision).toBe('hold');
    const second = await callTool(c, 'execute', { sql: big.replace('id = 80', 'id = 81') });
    expect(codes(second)).toEqual(['PENDING_APPROVALS_LIMIT']);
    expect(second.structured.reasons).toEqual([expect.objectContaining({ message: expect.stringMatching(/max_pending_bytes/) })]);
  });

  it('concurrent holds cannot all pass the check', async () => {
    await w.admin(`UPDATE pgwarden.approvals SET status = 'rejected' WHERE principal = 'holder' AND status = 'pending'`);
    const c = await gw.connect('legacy', HOLDER);
    const outs = await Promise.all([90, 91, 92, 93, 94].map((id) => callTool(c, 'execute', { sql: `UPDATE app.support_tickets SET subject = 'c' WHERE id = ${id}` })));
    expect(outs.filter((o) => o.structured.decision === 'hold').length).toBe(2);
    expect(outs.filter((o) => codes(o).includes('PENDING_APPROVALS_LIMIT')).length).toBe(3);
  });
});
