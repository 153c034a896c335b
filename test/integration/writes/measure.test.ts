/**
 * Blast radius: counted in a read-only transaction, with the table estimate and share; the
 * execute-rollback opt-in measures by running the write and rolling it back (and visibly
 * advances sequences — the documented side effect).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/core/errors.js';
import { measureBlastRadius } from '../../../src/db/writes/index.js';
import type { WritePlan } from '../../../src/guard/write-plan.js';
import { deleteTickets, insertTypes, rejection, session, setupWriteDb, snapshot, type WriteTestDb } from './helpers.js';

let w: WriteTestDb;
beforeAll(async () => {
  w = await setupWriteDb();
  await w.admin('ANALYZE app.support_tickets');
});
afterAll(async () => {
  await w?.end();
});

describe('measureBlastRadius', () => {
  it('counts the rows the predicate matches, with the table estimate and the share', async () => {
    const r = await measureBlastRadius(w.db, deleteTickets("t.priority = 'urgent'"), { session });
    expect(r).toMatchObject({ rows: 30, tableEstimate: 120, share: 0.25, method: 'count' });
    expect(r.elapsedMs).toBeGreaterThan(0);
  });

  it('INSERT … VALUES is counted from the tree', async () => {
    const r = await measureBlastRadius(w.db, insertTypes('(1000, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL)', 1), { session });
    expect(r).toMatchObject({ rows: 1, method: 'ast' });
    const noDb = await measureBlastRadius(w.db, { ...insertTypes('(1)', 3), tableEstimatedRows: 50 }, { session });
    expect(noDb).toMatchObject({ rows: 3, tableEstimate: 50, share: 0.06, method: 'ast' });
  });

  it('uncountable plans report rows null with the reason', async () => {
    const plan: WritePlan = { ...deleteTickets('t.id = 1'), uncountableReason: 'MERGE' };
    delete plan.countSql;
    const r = await measureBlastRadius(w.db, plan, { session });
    expect(r).toMatchObject({ rows: null, share: null, method: 'uncountable', uncountableReason: 'MERGE' });
  });

  it('the count runs read-only: a count statement that writes is refused by the database', async () => {
    const plan = { ...deleteTickets('t.id = 1'), countSql: "SELECT count(*) FROM app.support_tickets AS t WHERE nextval('app.events_id_seq') > 0" };
    const err = await rejection(measureBlastRadius(w.db, plan, { session }));
    expect(err).toBeInstanceOf(GatewayError);
    expect((err as GatewayError).code).toBe('READ_ONLY_VIOLATION');
  });

  it('the count is time-boxed by the statement timeout', async () => {
    const plan = { ...deleteTickets('t.id = 1'), countSql: 'SELECT count(*) FROM app.support_tickets AS t, pg_sleep(2)' };
    const err = await rejection(measureBlastRadius(w.db, plan, { session: { ...session, limits: { ...session.limits, statement_timeout_ms: 100 } } }));
    expect((err as GatewayError).code).toBe('STATEMENT_TIMEOUT');
  });

  it('execute-rollback counts by running the write and rolling it back; sequences still advance', async () => {
    const before = await snapshot(w, 'app.support_tickets');
    const r = await measureBlastRadius(w.db, deleteTickets('t.id BETWEEN 1 AND 7'), { session, method: 'execute-rollback' });
    expect(r).toMatchObject({ rows: 7, method: 'execute-rollback' });
    expect(await snapshot(w, 'app.support_tickets')).toEqual(before);

    const seq = async (): Promise<number> => Number((await w.admin<{ v: string }>('SELECT last_value AS v FROM app.events_id_seq'))[0]?.v);
    const s0 = await seq();
    const insertEvent: WritePlan = {
      kind: 'insert',
      target: { schema: 'app', name: 'events', alias: 't', primaryKey: ['id'] },
      executeSql: "INSERT INTO app.events AS t (customer_id, kind, at, payload) VALUES (1, 'login', now(), '{}') RETURNING t.*",
      reversible: true,
      irreversibleReasons: [],
    };
    expect((await measureBlastRadius(w.db, insertEvent, { session, method: 'execute-rollback' })).rows).toBe(1);
    expect(await seq()).toBe(s0 + 1);
  });
});
