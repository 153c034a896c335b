/**
 * The durable approval queue against a real PostgreSQL: exactly-once approval across
 * connections and processes, re-validation and re-measurement at approval time, expiry,
 * rejection, and interrupted approvals.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/core/errors.js';
import { reason } from '../../../src/guard/reasons.js';
import {
  ApprovalService,
  executeWrite,
  getJournalEntry,
  measureBlastRadius,
  WriteDatabase,
  type Approval,
  type ApprovalHooks,
} from '../../../src/db/writes/index.js';
import type { WritePlan } from '../../../src/guard/write-plan.js';
import { caps, rejection, session, setupWriteDb, type WriteTestDb } from './helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');

let w: WriteTestDb;
beforeAll(async () => {
  w = await setupWriteDb();
});
afterAll(async () => {
  await w?.end();
});

const codeOf = (err: unknown): string | undefined => (err instanceof GatewayError ? err.code : undefined);

/** `DELETE FROM app.support_tickets WHERE <where>` (held statements in these tests). */
function planFor(sql: string): WritePlan {
  const where = sql.replace(/^DELETE FROM app\.support_tickets WHERE /, '').replace(/\bid\b/g, 't.id');
  return {
    kind: 'delete',
    target: { schema: 'app', name: 'support_tickets', alias: 't', primaryKey: ['id'] },
    countSql: `SELECT count(*) FROM app.support_tickets AS t WHERE ${where}`,
    executeSql: `DELETE FROM app.support_tickets AS t WHERE ${where} RETURNING t.*`,
    reversible: true,
    irreversibleReasons: [],
  };
}

interface Counters {
  executed: number;
}

function hooksFor(db: WriteDatabase, counters: Counters, overrides: Partial<ApprovalHooks> = {}): ApprovalHooks {
  return {
    revalidate: async () => ({ ok: true }),
    measure: async (a) => ({ rows: (await measureBlastRadius(db, planFor(a.sql), { session })).rows }),
    execute: async (a, o) => {
      counters.executed++;
      return executeWrite(db, planFor(a.sql), {
        session,
        principal: a.principal,
        sql: a.sql,
        normalizedSql: a.normalizedSql,
        ...caps,
        approvalId: o.approvalId,
        ...(o.allowedRows !== undefined ? { allowedRows: o.allowedRows } : {}),
      });
    },
    ...overrides,
  };
}

async function hold(service: ApprovalService, sql: string, options: { ttlMs?: number; principal?: string } = {}): Promise<Approval> {
  const radius = await measureBlastRadius(w.db, planFor(sql), { session });
  return service.create('demo', {
    principal: options.principal ?? 'alice',
    sql,
    normalizedSql: sql.replace(/\d+/g, '$n'),
    blastRadius: radius,
    reasons: [reason('HELD_FOR_APPROVAL')],
    ttlMs: options.ttlMs ?? 60_000,
  });
}

const ticketCount = async (where: string): Promise<number> => Number((await w.admin<{ n: string }>(`SELECT count(*) AS n FROM app.support_tickets WHERE ${where}`))[0]?.n);

describe('ApprovalService', () => {
  it('holds a write durably, lists it, and shows it as pending for its principal', async () => {
    const counters = { executed: 0 };
    const service = new ApprovalService([w.db], hooksFor(w.db, counters));
    const a = await hold(service, 'DELETE FROM app.support_tickets WHERE id BETWEEN 1 AND 3');
    expect(a).toMatchObject({ status: 'pending', principal: 'alice', database: 'demo', blastRadius: { rows: 3 } });
    expect(a.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(Date.parse(a.expiresAt) - Date.parse(a.createdAt)).toBeGreaterThan(59_000);
    // a fresh service (another replica) sees it
    const other = new ApprovalService([w.db]);
    expect((await other.pendingFor('alice')).map((x) => x.approvalId)).toContain(a.approvalId);
    expect(await other.pendingFor('bob')).toEqual([]);
    expect((await other.get(a.approvalId))?.sql).toBe('DELETE FROM app.support_tickets WHERE id BETWEEN 1 AND 3');
    expect(counters.executed).toBe(0);
    expect(await ticketCount('id BETWEEN 1 AND 3')).toBe(3);
  });

  it('approve: re-checks, executes with undo, records executed {undoId}; a second approve is refused', async () => {
    const counters = { executed: 0 };
    const service = new ApprovalService([w.db], hooksFor(w.db, counters));
    const a = await hold(service, 'DELETE FROM app.support_tickets WHERE id BETWEEN 10 AND 12');
    const out = await service.approve(a.approvalId, 'operator:ops');
    expect(out.status).toBe('executed');
    if (out.status !== 'executed') return;
    expect(out.rowCount).toBe(3);
    expect(out.approval).toMatchObject({ status: 'executed', decidedBy: 'operator:ops', result: { undoId: out.undoId, rowCount: 3 } });
    expect(await ticketCount('id BETWEEN 10 AND 12')).toBe(0);
    expect((await getJournalEntry(w.db, out.undoId as string))?.approvalId).toBe(a.approvalId);
    expect(codeOf(await rejection(service.approve(a.approvalId, 'operator:ops')))).toBe('APPROVAL_NOT_PENDING');
    expect(counters.executed).toBe(1);
  });

  it('two replicas approving at the same moment: the write runs exactly once', async () => {
    const pools = [0, 1].map(() => new pg.Pool({ connectionString: w.scratch.gatewayUrl, max: 2 }));
    const dbs = pools.map((p) => new WriteDatabase(p, { name: 'demo' }));
    const counters = { executed: 0 };
    try {
      for (let round = 0; round < 5; round++) {
        const id = 100 + round;
        const a = await hold(new ApprovalService([w.db]), `DELETE FROM app.support_tickets WHERE id = ${id}`);
        const services = dbs.map((db) => new ApprovalService([db], hooksFor(db, counters)));
        const results = await Promise.allSettled(services.map((s) => s.approve(a.approvalId, `operator:${round}`)));
        const ok = results.filter((r) => r.status === 'fulfilled');
        expect(ok).toHaveLength(1);
        expect((ok[0] as PromiseFulfilledResult<{ status: string }>).value.status).toBe('executed');
        expect(codeOf((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason)).toBe('APPROVAL_NOT_PENDING');
      }
      expect(counters.executed).toBe(5);
      const journal = await w.admin<{ n: string }>("SELECT count(*) AS n FROM pgwarden.journal WHERE approval_id IS NOT NULL AND normalized_sql LIKE 'DELETE FROM app.support_tickets WHERE id = $n'");
      expect(Number(journal[0]?.n)).toBe(5);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('two gateway processes approving at the same moment: the write runs exactly once', async () => {
    const a = await hold(new ApprovalService([w.db]), 'DELETE FROM app.support_tickets WHERE id = 110');
    const startAt = Date.now() + 1_500;
    const runChild = (operator: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'fixtures/child.ts'), 'approve', w.scratch.gatewayUrl, a.approvalId, operator, String(startAt)], { cwd: ROOT });
        let out = '';
        let err = '';
        child.stdout.on('data', (d: Buffer) => (out += d.toString()));
        child.stderr.on('data', (d: Buffer) => (err += d.toString()));
        child.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`child exited ${code}: ${err}`))));
      });
    const outputs = (await Promise.all([runChild('operator:one'), runChild('operator:two')])).map((o) => JSON.parse(o) as { status?: string; error?: string });
    expect(outputs.filter((o) => o.status === 'executed')).toHaveLength(1);
    expect(outputs.filter((o) => o.error === 'APPROVAL_NOT_PENDING')).toHaveLength(1);
    expect(await ticketCount('id = 110')).toBe(0);
    const entries = await w.admin<{ n: string }>('SELECT count(*) AS n FROM pgwarden.journal WHERE approval_id = $1', [a.approvalId]);
    expect(Number(entries[0]?.n)).toBe(1);
  }, 60_000);

  it('a blast radius that grew past the approved figure is refused; nothing runs', async () => {
    const counters = { executed: 0 };
    const service = new ApprovalService([w.db], hooksFor(w.db, counters));
    const a = await hold(service, 'DELETE FROM app.support_tickets WHERE priority = \'grown\'');
    expect(a.blastRadius.rows).toBe(0);
    await w.admin("UPDATE app.support_tickets SET priority = 'grown' WHERE id IN (40, 41)");
    const out = await service.approve(a.approvalId, 'operator:ops');
    expect(out.status).toBe('refused');
    if (out.status === 'executed') return;
    expect(out.reasons[0]?.code).toBe('APPROVAL_RECHECK_FAILED');
    expect(out.reasons[0]?.message).toContain('from 0 to 2 rows');
    expect(out.approval.status).toBe('refused');
    expect(counters.executed).toBe(0);
    expect(await ticketCount("priority = 'grown'")).toBe(2);
  });

  it('rows that appear between re-measure and execution still cannot exceed the approved figure', async () => {
    const counters = { executed: 0 };
    const base = hooksFor(w.db, counters);
    const service = new ApprovalService([w.db], {
      ...base,
      measure: async (ap) => {
        const m = await base.measure(ap);
        await w.admin("UPDATE app.support_tickets SET priority = 'sneaky' WHERE id = 46");
        return m;
      },
    });
    await w.admin("UPDATE app.support_tickets SET priority = 'sneaky' WHERE id = 45");
    const a = await hold(service, "DELETE FROM app.support_tickets WHERE priority = 'sneaky'");
    const out = await service.approve(a.approvalId, 'operator:ops');
    expect(out.status).toBe('failed');
    if (out.status === 'executed') return;
    expect(out.reasons[0]?.code).toBe('BLAST_RADIUS_EXCEEDED');
    expect(await ticketCount("priority = 'sneaky'")).toBe(2);
  });

  it('a statement the current policy refuses is refused at approval', async () => {
    const counters = { executed: 0 };
    const service = new ApprovalService([w.db], hooksFor(w.db, counters, { revalidate: async () => ({ ok: false, reasons: [reason('WRITE_TABLE_NOT_ALLOWED')] }) }));
    const a = await hold(service, 'DELETE FROM app.support_tickets WHERE id = 47');
    const out = await service.approve(a.approvalId, 'operator:ops');
    expect(out.status).toBe('refused');
    if (out.status === 'executed') return;
    expect(out.reasons.map((r) => r.code)).toEqual(['APPROVAL_RECHECK_FAILED', 'WRITE_TABLE_NOT_ALLOWED']);
    expect(counters.executed).toBe(0);
    expect(await ticketCount('id = 47')).toBe(1);
  });

  it('expired approvals cannot be approved or rejected, and sweep() marks them expired', async () => {
    const counters = { executed: 0 };
    const service = new ApprovalService([w.db], hooksFor(w.db, counters));
    const a = await hold(service, 'DELETE FROM app.support_tickets WHERE id = 48', { ttlMs: 50 });
    const b = await hold(service, 'DELETE FROM app.support_tickets WHERE id = 49', { ttlMs: 50 });
    await new Promise((r) => setTimeout(r, 120));
    expect(codeOf(await rejection(service.approve(a.approvalId, 'operator:ops')))).toBe('APPROVAL_EXPIRED');
    expect(codeOf(await rejection(service.reject(a.approvalId, 'operator:ops')))).toBe('APPROVAL_EXPIRED');
    expect((await service.sweep()).expired).toBeGreaterThanOrEqual(1);
    expect((await service.get(b.approvalId))?.status).toBe('expired');
    expect(counters.executed).toBe(0);
    expect(await ticketCount('id IN (48, 49)')).toBe(2);
  });

  it('reject: pending → rejected with the reason; approving afterwards is refused', async () => {
    const counters = { executed: 0 };
    const service = new ApprovalService([w.db], hooksFor(w.db, counters));
    const a = await hold(service, 'DELETE FROM app.support_tickets WHERE id = 50');
    const r = await service.reject(a.approvalId, 'operator:ops', 'not during business hours');
    expect(r).toMatchObject({ status: 'rejected', decidedBy: 'operator:ops', note: 'not during business hours' });
    expect(codeOf(await rejection(service.approve(a.approvalId, 'operator:ops')))).toBe('APPROVAL_NOT_PENDING');
    expect(codeOf(await rejection(service.approve('11111111-1111-1111-1111-111111111111', 'operator:ops')))).toBe('APPROVAL_NOT_FOUND');
    expect(codeOf(await rejection(service.approve('not-a-uuid', 'operator:ops')))).toBe('APPROVAL_NOT_FOUND');
    expect(await service.list({ status: 'rejected' })).toEqual(expect.arrayContaining([expect.objectContaining({ approvalId: a.approvalId })]));
  });

  it('an approval whose process died while executing is failed by sweep(), and its write never committed', async () => {
    const service = new ApprovalService([w.db], hooksFor(w.db, { executed: 0 }), { staleExecutingMs: 1 });
    const a = await hold(service, 'DELETE FROM app.support_tickets WHERE id = 51');
    await w.admin("UPDATE pgwarden.approvals SET status = 'executing', decided_by = 'operator:gone', decided_at = now() - interval '1 hour' WHERE approval_id = $1", [a.approvalId]);
    expect((await service.sweep()).interrupted).toBe(1);
    expect(await service.get(a.approvalId)).toMatchObject({ status: 'failed' });
    expect(await ticketCount('id = 51')).toBe(1);
  });

  it('approve without hooks wired is refused before claiming', async () => {
    const service = new ApprovalService([w.db]);
    const a = await hold(service, 'DELETE FROM app.support_tickets WHERE id = 52');
    expect(codeOf(await rejection(service.approve(a.approvalId, 'operator:ops')))).toBe('INTERNAL_ERROR');
    expect((await service.get(a.approvalId))?.status).toBe('pending');
  });
});
