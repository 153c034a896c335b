/**
 * A write's decision is in the audit log — written, not just queued — before the write reaches
 * the database (issue #10 item 12). The write is made to wait on a row lock held by another
 * session: while it waits inside PostgreSQL, the audit file must already hold its `allowed` record
 * (on 344cc74 the only record was queued after the call ended, so a kill -9 at that moment left
 * no trace of a write that may commit). The outcome (`executed`) follows with the same request id.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, startE2eGateway, type E2eGateway } from '../../support/gateway.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';

const WRITER = 'pgw_writer_audit_e2e_7c1f9a0b3d5e2f4a6b8c0d1e';

let w: WriteTestDb;
let gw: E2eGateway;

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  const policyDb = { mode: 'read-write', schemas: ['app'], limits: { lock_timeout_ms: 20_000, statement_timeout_ms: 25_000 }, writes: { confirm_above_rows: 50, block_above_rows: 100 } };
  gw = await startE2eGateway({
    configInput: (auditPath) => ({
      server: { host: '127.0.0.1', port: 0 },
      log: { level: 'warn' },
      // fsync never: "written" means write(2) returned (what survives a kill -9), not synced
      audit: { sink: 'file', path: auditPath, fsync: 'never' },
      databases: { shop: { url: w.scratch.gatewayUrl, search_path: ['app'] } },
      principals: { writer: { policy: 'writer', tokens: [{ token: WRITER }] } },
      policies: { writer: { databases: { shop: policyDb } } },
    }),
  });
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await w?.end();
});

async function waitForLockWaiter(admin: pg.Client): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    const r = await admin.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()");
    if ((r.rows[0] as { n: number }).n > 0) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('the write never reached the database');
}

describe('write decisions are audited before the write runs', () => {
  it('while the write waits inside PostgreSQL, its decision is already in the audit file; the outcome follows', async () => {
    const client = await gw.connect('modern', WRITER);
    const admin = new pg.Client({ connectionString: w.scratch.databaseUrl });
    await admin.connect();
    try {
      await admin.query('BEGIN');
      await admin.query('SELECT id FROM app.support_tickets WHERE id = 8 FOR UPDATE');
      const call = callTool(client, 'execute', { sql: "UPDATE app.support_tickets SET priority = 'low' WHERE id = 8" });
      await waitForLockWaiter(admin);
      const during = gw.auditRecords().filter((r) => r.tool === 'execute');
      expect(during).toHaveLength(1);
      expect(during[0]).toMatchObject({ decision: 'allowed', kind: 'write', principal: 'writer', blast_radius_rows: 1, relations: ['app.support_tickets'] });
      expect(String(during[0]?.sql)).toContain('UPDATE app.support_tickets');
      await admin.query('COMMIT');
      const out = await call;
      expect(out.isError).toBe(false);
      expect(out.structured).toMatchObject({ decision: 'executed', rowCount: 1 });
      await gw.runtime.gateway.status({ principal: 'writer', requestId: 'flush' }); // any call; then wait for the writer
      const deadline = Date.now() + 5_000;
      let after = gw.auditRecords().filter((r) => r.tool === 'execute');
      while (after.length < 2 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
        after = gw.auditRecords().filter((r) => r.tool === 'execute');
      }
      expect(after.map((r) => r.decision)).toEqual(['allowed', 'executed']);
      expect(after[1]?.request_id).toBe(after[0]?.request_id);
      expect(after[1]?.undo_id).toBe(out.structured.undoId);
    } finally {
      await admin.query('ROLLBACK').catch(() => undefined);
      await admin.end();
    }
  }, 60_000);

  it('a revert is audited before it runs too', async () => {
    const client = await gw.connect('legacy', WRITER);
    const done = await callTool(client, 'execute', { sql: "UPDATE app.support_tickets SET priority = 'high' WHERE id = 9" });
    expect(done.isError).toBe(false);
    const undoId = done.structured.undoId as string;
    const admin = new pg.Client({ connectionString: w.scratch.databaseUrl });
    await admin.connect();
    try {
      await admin.query('BEGIN');
      await admin.query('SELECT id FROM app.support_tickets WHERE id = 9 FOR UPDATE');
      const call = callTool(client, 'revert', { undoId });
      await waitForLockWaiter(admin);
      const during = gw.auditRecords().filter((r) => r.tool === 'revert');
      expect(during).toHaveLength(1);
      expect(during[0]).toMatchObject({ decision: 'allowed', undo_id: undoId });
      await admin.query('COMMIT');
      expect((await call).isError).toBe(false);
    } finally {
      await admin.query('ROLLBACK').catch(() => undefined);
      await admin.end();
    }
  }, 60_000);
});
