/**
 * The executor and revert against a real PostgreSQL: same-transaction journal, exact
 * round-trips of every value type, conflicts, at-most-once revert, capture caps, the row-count
 * ceiling, and the schema's own guarantees.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/core/errors.js';
import {
  ensureWriteSchema,
  executeWrite,
  getJournalEntry,
  listJournal,
  purgeJournal,
  revertWrite,
  statementDigest,
  UndoConflictError,
  WRITE_SCHEMA_VERSION,
} from '../../../src/db/writes/index.js';
import type { WritePlan } from '../../../src/guard/write-plan.js';
import { caps, deleteTickets, insertTypes, journalCount, rejection, session, setupWriteDb, snapshot, typesPlan, updateTickets, type WriteTestDb } from './helpers.js';

let w: WriteTestDb;
beforeAll(async () => {
  w = await setupWriteDb();
});
afterAll(async () => {
  await w?.end();
});

const run = (plan: WritePlan, sql: string, extra: Partial<Parameters<typeof executeWrite>[2]> = {}) =>
  executeWrite(w.db, plan, { session, principal: 'alice', sql, normalizedSql: sql.replace(/\d+/g, '$1'), ...caps, ...extra });

const codeOf = (err: unknown): string | undefined => (err instanceof GatewayError ? err.code : undefined);

describe('the pgwarden schema', () => {
  it('is versioned, idempotent, and closed to PUBLIC and to the reader role', async () => {
    expect(await ensureWriteSchema(w.db)).toBe(WRITE_SCHEMA_VERSION);
    expect(await ensureWriteSchema(w.db)).toBe(WRITE_SCHEMA_VERSION);
    const v = await w.admin<{ n: string }>('SELECT count(*) AS n FROM pgwarden.schema_version');
    expect(Number(v[0]?.n)).toBe(WRITE_SCHEMA_VERSION);
    const priv = await w.admin<{ pub: boolean; reader: boolean }>(
      "SELECT has_schema_privilege('public', 'pgwarden', 'USAGE') AS pub, has_schema_privilege($1, 'pgwarden', 'USAGE') AS reader",
      [w.readerRole],
    );
    expect(priv[0]).toEqual({ pub: false, reader: false });
  });

  it('concurrent ensureWriteSchema calls (replicas starting together) all succeed', async () => {
    const results = await Promise.all([ensureWriteSchema(w.db), ensureWriteSchema(w.db), ensureWriteSchema(w.db)]);
    expect(results).toEqual([1, 1, 1]);
  });
});

describe('execute → undo id → revert', () => {
  it('DELETE: the row and its journal entry commit together; revert restores it exactly', async () => {
    const before = await snapshot(w, 'app.support_tickets');
    const sql = 'DELETE FROM app.support_tickets WHERE id = 5';
    const r = await run(deleteTickets('t.id = 5'), sql);
    expect(r.rowCount).toBe(1);
    expect(r.undoId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await w.admin('SELECT 1 FROM app.support_tickets WHERE id = 5')).toHaveLength(0);
    const entry = await getJournalEntry(w.db, r.undoId as string);
    expect(entry).toMatchObject({ principal: 'alice', database: 'demo', kind: 'delete', table: 'app.support_tickets', primaryKey: ['id'], rowCount: 1, revertedAt: null });
    expect(entry?.statementDigest).toBe(statementDigest(sql));
    expect(entry?.normalizedSql).not.toContain('5');

    const rev = await revertWrite(w.db, r.undoId as string, { by: 'alice' });
    expect(rev).toMatchObject({ undoId: r.undoId, kind: 'delete', rowCount: 1, table: 'app.support_tickets' });
    expect(await snapshot(w, 'app.support_tickets')).toEqual(before);
    const after = await getJournalEntry(w.db, r.undoId as string);
    expect(after?.revertedBy).toBe('alice');
    expect(after?.revertedAt).not.toBeNull();
    expect(await getJournalEntry(w.db, rev.revertUndoId)).toMatchObject({ revertOf: r.undoId, kind: 'insert', rowCount: 1 });
  });

  it('UPDATE of every value type, then revert: the table is byte-for-byte what it was', async () => {
    const before = await snapshot(w, 'app.write_types');
    const set = `ts = now(), amount = 1, doc = '{"x": 1}', raw_json = '[]', tags = ARRAY['n'], matrix = '{{9}}', blob = '\\x01', note = 'changed', ratio = 2, span = '1 hour', day = '2000-01-01', flag = NOT coalesce(t.flag, false), uid = NULL`;
    const r = await run(typesPlan('update', 't.id BETWEEN 1 AND 4', set), 'UPDATE app.write_types SET … WHERE id BETWEEN 1 AND 4');
    expect(r.rowCount).toBe(4);
    expect(await snapshot(w, 'app.write_types')).not.toEqual(before);
    await revertWrite(w.db, r.undoId as string, { by: 'alice' });
    expect(await snapshot(w, 'app.write_types')).toEqual(before);
  });

  it('DELETE of every value type (generated and identity-always columns included), then revert', async () => {
    const before = await snapshot(w, 'app.write_types');
    const r = await run(typesPlan('delete', 't.id IN (1, 2, 3, 4)'), 'DELETE FROM app.write_types WHERE id IN (1, 2, 3, 4)');
    expect(r.rowCount).toBe(4);
    expect(await snapshot(w, 'app.write_types')).toEqual([]);
    await revertWrite(w.db, r.undoId as string, { by: 'operator:ops' });
    expect(await snapshot(w, 'app.write_types')).toEqual(before);
  });

  it('INSERT, then revert: exactly the inserted rows are removed', async () => {
    const before = await snapshot(w, 'app.write_types');
    const r = await run(
      insertTypes(`(10, now(), 1.5, '{"k": "v"}', '{"a":1}', ARRAY['a'], '{{1}}', '\\xaa', 'it''s new', 1e10, '2 days', current_date, true, gen_random_uuid()), (11, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)`, 2),
      'INSERT INTO app.write_types … VALUES (…), (…)',
    );
    expect(r.rowCount).toBe(2);
    expect(await snapshot(w, 'app.write_types')).toHaveLength(before.length + 2);
    const rev = await revertWrite(w.db, r.undoId as string, { by: 'alice' });
    expect(rev.kind).toBe('insert');
    expect(await snapshot(w, 'app.write_types')).toEqual(before);
  });

  it('a revert entry can itself be reverted once (redo), conflict-checked like any write', async () => {
    const r = await run(deleteTickets('t.id = 6'), 'DELETE FROM app.support_tickets WHERE id = 6');
    const rev = await revertWrite(w.db, r.undoId as string, { by: 'alice' });
    const redo = await revertWrite(w.db, rev.revertUndoId, { by: 'alice' });
    expect(redo.kind).toBe('insert');
    expect(await w.admin('SELECT 1 FROM app.support_tickets WHERE id = 6')).toHaveLength(0);
    await revertWrite(w.db, redo.revertUndoId, { by: 'alice' });
    expect(await w.admin('SELECT 1 FROM app.support_tickets WHERE id = 6')).toHaveLength(1);
  });
});

describe('revert refusals', () => {
  it('a row changed since the write → UNDO_CONFLICT naming its key; nothing is reverted', async () => {
    const r = await run(updateTickets("priority = 'urgent'", 't.id IN (20, 21, 22)'), "UPDATE app.support_tickets SET priority = 'urgent' WHERE id IN (20, 21, 22)");
    expect(r.rowCount).toBe(3);
    await w.admin("UPDATE app.support_tickets SET subject = 'edited by a human' WHERE id = 21");
    const middle = await snapshot(w, 'app.support_tickets');
    const err = await rejection(revertWrite(w.db, r.undoId as string, { by: 'alice' }));
    expect(err).toBeInstanceOf(UndoConflictError);
    const conflict = err as UndoConflictError;
    expect(conflict.code).toBe('UNDO_CONFLICT');
    expect(conflict.conflicts).toEqual([{ id: '21' }]);
    expect(conflict.message).toContain('id=21');
    expect(await snapshot(w, 'app.support_tickets')).toEqual(middle);
    expect((await getJournalEntry(w.db, r.undoId as string))?.revertedAt).toBeNull();
  });

  it('a deleted row that reappeared → UNDO_CONFLICT', async () => {
    const r = await run(deleteTickets('t.id = 30'), 'DELETE FROM app.support_tickets WHERE id = 30');
    await w.admin("INSERT INTO app.support_tickets VALUES (30, 1, now(), NULL, 'low', 'new', 'new body')");
    const err = await rejection(revertWrite(w.db, r.undoId as string, { by: 'alice' }));
    expect(codeOf(err)).toBe('UNDO_CONFLICT');
    expect((err as UndoConflictError).conflicts).toEqual([{ id: '30' }]);
  });

  it('an inserted row deleted since → UNDO_CONFLICT', async () => {
    const r = await run(insertTypes(`(40, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'x', NULL, NULL, NULL, NULL, NULL)`, 1), 'INSERT …');
    await w.admin('DELETE FROM app.write_types WHERE id = 40');
    expect(codeOf(await rejection(revertWrite(w.db, r.undoId as string, { by: 'alice' })))).toBe('UNDO_CONFLICT');
  });

  it('twice → UNDO_ALREADY_REVERTED; two concurrent reverts → exactly one succeeds', async () => {
    const r = await run(deleteTickets('t.id = 31'), 'DELETE FROM app.support_tickets WHERE id = 31');
    const results = await Promise.allSettled([revertWrite(w.db, r.undoId as string, { by: 'a' }), revertWrite(w.db, r.undoId as string, { by: 'b' })]);
    expect(results.filter((x) => x.status === 'fulfilled')).toHaveLength(1);
    const failed = results.find((x) => x.status === 'rejected') as PromiseRejectedResult;
    expect(codeOf(failed.reason)).toBe('UNDO_ALREADY_REVERTED');
    expect(codeOf(await rejection(revertWrite(w.db, r.undoId as string, { by: 'a' })))).toBe('UNDO_ALREADY_REVERTED');
    expect(await w.admin('SELECT 1 FROM app.support_tickets WHERE id = 31')).toHaveLength(1);
  });

  it("unknown ids, malformed ids and another principal's entries → UNDO_NOT_FOUND", async () => {
    expect(codeOf(await rejection(revertWrite(w.db, '00000000-0000-0000-0000-000000000000', { by: 'a' })))).toBe('UNDO_NOT_FOUND');
    expect(codeOf(await rejection(revertWrite(w.db, "x' OR 1=1 --", { by: 'a' })))).toBe('UNDO_NOT_FOUND');
    const r = await run(deleteTickets('t.id = 32'), 'DELETE FROM app.support_tickets WHERE id = 32');
    expect(codeOf(await rejection(revertWrite(w.db, r.undoId as string, { by: 'mallory', principal: 'mallory' })))).toBe('UNDO_NOT_FOUND');
    await revertWrite(w.db, r.undoId as string, { by: 'alice', principal: 'alice' });
  });
});

describe('executor refusals roll back the write and write no journal entry', () => {
  it('more rows than allowedRows → BLAST_RADIUS_EXCEEDED', async () => {
    const before = await snapshot(w, 'app.support_tickets');
    const n = await journalCount(w);
    const err = await rejection(run(deleteTickets('t.id BETWEEN 50 AND 59'), 'DELETE …', { allowedRows: 3 }));
    expect(codeOf(err)).toBe('BLAST_RADIUS_EXCEEDED');
    expect(await snapshot(w, 'app.support_tickets')).toEqual(before);
    expect(await journalCount(w)).toBe(n);
  });

  it('more images than max_capture_rows or max_capture_bytes → CAPTURE_TOO_LARGE', async () => {
    const before = await snapshot(w, 'app.support_tickets');
    const n = await journalCount(w);
    expect(codeOf(await rejection(run(updateTickets("priority = 'low'", 't.id BETWEEN 50 AND 59'), 'UPDATE …', { maxCaptureRows: 5 })))).toBe('CAPTURE_TOO_LARGE');
    expect(codeOf(await rejection(run(deleteTickets('t.id BETWEEN 50 AND 59'), 'DELETE …', { maxCaptureBytes: 500 })))).toBe('CAPTURE_TOO_LARGE');
    expect(await snapshot(w, 'app.support_tickets')).toEqual(before);
    expect(await journalCount(w)).toBe(n);
  });

  it('an UPDATE that changes a row the capture did not see → WRITE_SET_CHANGED', async () => {
    const before = await snapshot(w, 'app.support_tickets');
    const plan = updateTickets("priority = 'low'", 't.id IN (60, 61)', 't.id = 60');
    expect(codeOf(await rejection(run(plan, 'UPDATE …')))).toBe('WRITE_SET_CHANGED');
    expect(await snapshot(w, 'app.support_tickets')).toEqual(before);
  });

  it('a plan that is not reversible is refused when a journal is required; journal: false runs it without an undo id', async () => {
    const plan: WritePlan = { ...deleteTickets('t.id = 62'), reversible: false, irreversibleReasons: ['test'] };
    expect(codeOf(await rejection(run(plan, 'DELETE …', { journal: true })))).toBe('NOT_REVERSIBLE');
    const n = await journalCount(w);
    const r = await run(plan, 'DELETE …');
    expect(r).toMatchObject({ rowCount: 1, undoId: null });
    expect(await journalCount(w)).toBe(n);
  });

  it("a role without write grants → PERMISSION_DENIED, nothing written (the principal's role applies to the write)", async () => {
    const before = await snapshot(w, 'app.support_tickets');
    const err = await rejection(run(deleteTickets('t.id = 63'), 'DELETE …', { session: { ...session, role: w.readerRole } }));
    expect(codeOf(err)).toBe('PERMISSION_DENIED');
    expect(await snapshot(w, 'app.support_tickets')).toEqual(before);
  });

  it('the statement goes over the extended protocol: a smuggled second statement cannot run', async () => {
    const before = await snapshot(w, 'app.support_tickets');
    const plan = deleteTickets('t.id = 64');
    plan.executeSql = 'DELETE FROM app.support_tickets AS t WHERE t.id = 64 RETURNING t.*; DELETE FROM app.support_tickets';
    expect(await rejection(run(plan, 'x'))).toBeInstanceOf(GatewayError);
    expect(await snapshot(w, 'app.support_tickets')).toEqual(before);
  });
});

describe('journal retention', () => {
  it('purgeJournal deletes entries older than retention_days only; 0 keeps everything', async () => {
    const old = await run(deleteTickets('t.id = 70'), 'DELETE …');
    const recent = await run(deleteTickets('t.id = 71'), 'DELETE …');
    await w.admin("UPDATE pgwarden.journal SET created_at = now() - interval '31 days' WHERE undo_id = $1", [old.undoId]);
    expect((await purgeJournal(w.db, 0)).journal).toBe(0);
    const purged = await purgeJournal(w.db, 30);
    expect(purged.journal).toBe(1);
    expect(await getJournalEntry(w.db, old.undoId as string)).toBeUndefined();
    expect(await getJournalEntry(w.db, recent.undoId as string)).toBeDefined();
    expect(codeOf(await rejection(revertWrite(w.db, old.undoId as string, { by: 'alice' })))).toBe('UNDO_NOT_FOUND');
    expect((await listJournal(w.db, { principal: 'alice', limit: 1 }))[0]?.undoId).toBe(recent.undoId);
  });
});
