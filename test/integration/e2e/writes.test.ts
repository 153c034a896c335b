/**
 * Guarded writes end to end: a real MCP client → execute → undo id → revert, thresholds that hold
 * or block, an operator approving a held write through the admin API, conflicts on revert — all
 * against a real PostgreSQL (a scratch copy of the demo database with write grants).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, codes, startE2eGateway, type E2eGateway } from '../../support/gateway.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';

const WRITER = 'pgw_writer_e2e_0123456789abcdefghijklmnopqrst';
const READER = 'pgw_reader2_e2e_0123456789abcdefghijklmnopqrs';
const OPERATOR = 'pgw_operator_e2e_0123456789abcdefghijklmnopq';

let w: WriteTestDb;
let gw: E2eGateway;

const ticket = async (id: number): Promise<Record<string, unknown> | undefined> =>
  (await w.admin<Record<string, unknown>>('SELECT id, priority, subject, closed_at::text AS closed_at FROM app.support_tickets WHERE id = $1', [id]))[0];
const ticketCount = async (): Promise<number> => Number((await w.admin<{ n: string }>('SELECT count(*)::text AS n FROM app.support_tickets'))[0]?.n);

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  const policyDb = { mode: 'read-write', schemas: ['app'], tables: { deny: ['internal.*'] }, writes: { confirm_above_rows: 5, block_above_rows: 100 } };
  gw = await startE2eGateway({
    configInput: (auditPath) => ({
      server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 100_000, per_ip: 100_000 } },
      log: { level: 'warn' },
      audit: { sink: 'file', path: auditPath, fsync: 'never' },
      databases: { shop: { url: w.scratch.gatewayUrl, search_path: ['app'] } },
      principals: {
        writer: { policy: 'writer', tokens: [{ token: WRITER }] },
        reader: { policy: 'reader', tokens: [{ token: READER }] },
      },
      operators: { ops: { tokens: [{ token: OPERATOR }] } },
      policies: {
        writer: { databases: { shop: policyDb } },
        reader: { databases: { shop: { ...policyDb, mode: 'read-only' } } },
      },
    }),
  });
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await w?.end();
});

describe('execute and revert', () => {
  it('lists execute and revert only for writers, annotated destructive', async () => {
    const writer = await gw.connect('modern', WRITER);
    const tools = (await writer.listTools()).tools;
    const execute = tools.find((t) => t.name === 'execute');
    expect(execute?.annotations).toMatchObject({ readOnlyHint: false, destructiveHint: true });
    expect(tools.find((t) => t.name === 'revert')?.annotations?.destructiveHint).toBe(true);
    const reader = await gw.connect('legacy', READER);
    expect((await reader.listTools()).tools.map((t) => t.name)).not.toContain('execute');
  });

  it('executes a scoped write with an undo id, and revert restores the rows exactly, once', async () => {
    const client = await gw.connect('legacy', WRITER);
    const before = await ticket(5);
    const out = await callTool(client, 'execute', { sql: "UPDATE app.support_tickets SET priority = 'urgent', closed_at = NULL WHERE id = 5" });
    expect(out.isError).toBe(false);
    expect(out.structured).toMatchObject({ decision: 'executed', rowCount: 1 });
    const undoId = out.structured.undoId as string;
    expect(undoId).toMatch(/^[0-9a-f-]{36}$/);
    expect((await ticket(5))?.priority).toBe('urgent');
    const reverted = await callTool(client, 'revert', { undoId });
    expect(reverted.isError).toBe(false);
    expect(await ticket(5)).toEqual(before);
    const again = await callTool(client, 'revert', { undoId });
    expect(again.isError).toBe(true);
    expect(codes(again)).toEqual(['UNDO_ALREADY_REVERTED']);
  });

  it('refuses a revert when the rows changed since, listing them', async () => {
    const client = await gw.connect('modern', WRITER);
    const out = await callTool(client, 'execute', { sql: "UPDATE app.support_tickets SET subject = 'x' WHERE id = 6" });
    expect(out.isError).toBe(false);
    await w.admin("UPDATE app.support_tickets SET subject = 'changed meanwhile' WHERE id = 6");
    const reverted = await callTool(client, 'revert', { undoId: out.structured.undoId as string });
    expect(reverted.isError).toBe(true);
    expect(codes(reverted)).toEqual(['UNDO_CONFLICT']);
    expect((await ticket(6))?.subject).toBe('changed meanwhile');
  });

  it.each([
    ['DELETE FROM app.support_tickets', 'NO_WHERE'],
    ['DELETE FROM app.support_tickets WHERE 1 = 1', 'TAUTOLOGICAL_WHERE'],
    ['UPDATE app.support_tickets SET priority = priority WHERE id = id', 'TAUTOLOGICAL_WHERE'],
    ['DELETE FROM app.support_tickets WHERE id > 10', 'BLAST_RADIUS_EXCEEDED'],
    ['DELETE FROM internal.api_keys WHERE id = 1', 'DENIED_TABLE'],
    ['TRUNCATE app.support_tickets', 'DDL_NOT_ALLOWED'],
    ['SELECT 1', 'NOT_A_WRITE'],
  ])('blocks %s (%s) and nothing changes', async (sql, code) => {
    const client = await gw.connect('legacy', WRITER);
    const n = await ticketCount();
    const out = await callTool(client, 'execute', { sql });
    expect(out.isError).toBe(true);
    expect(out.structured.decision).toBe('block');
    expect(codes(out)).toContain(code);
    expect(await ticketCount()).toBe(n);
  });

  it('the query tool stays read-only for writers', async () => {
    const client = await gw.connect('modern', WRITER);
    const out = await callTool(client, 'query', { sql: 'DELETE FROM app.support_tickets WHERE id = 7' });
    expect(out.isError).toBe(true);
    expect(codes(out)).toContain('WRITE_NOT_ALLOWED');
  });
});

describe('approvals', () => {
  it('holds a write over the threshold; an operator approves it out of band; it runs once', async () => {
    const client = await gw.connect('legacy', WRITER);
    const n = await ticketCount();
    const held = await callTool(client, 'execute', { sql: 'DELETE FROM app.support_tickets WHERE id BETWEEN 20 AND 29' });
    expect(held.isError).toBe(true);
    expect(held.structured).toMatchObject({ decision: 'hold', reasons: [{ code: 'HELD_FOR_APPROVAL' }], blastRadius: { rows: 10 } });
    const approvalId = held.structured.approvalId as string;
    expect(await ticketCount()).toBe(n);

    const status = await callTool(client, 'status');
    expect((status.structured.pendingApprovals as { approvalId: string }[]).map((a) => a.approvalId)).toContain(approvalId);

    const asAgent = await fetch(`${gw.url}/admin/approvals/${approvalId}/approve`, { method: 'POST', headers: { authorization: `Bearer ${WRITER}` } });
    expect(asAgent.status).toBe(401);
    expect(await ticketCount()).toBe(n);

    const approve = (): Promise<Response> =>
      fetch(`${gw.url}/admin/approvals/${approvalId}/approve`, { method: 'POST', headers: { authorization: `Bearer ${OPERATOR}`, 'content-type': 'application/json' }, body: '{}' });
    const [a, b] = await Promise.all([approve(), approve()]);
    const statuses = [a.status, b.status].sort();
    expect(statuses[0]).toBe(200);
    expect(statuses[1]).toBeGreaterThanOrEqual(400);
    expect(await ticketCount()).toBe(n - 10);
  });
});
