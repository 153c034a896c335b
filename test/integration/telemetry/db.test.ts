/**
 * DB client spans around real statements on the test PostgreSQL: the span and the metric carry
 * the SQLSTATE of a failure, never the database's message, which here quotes the literal.
 */
import { SpanStatusCode } from '@opentelemetry/api';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { databaseSchema, DEFAULT_LIMITS } from '../../../src/config/schema.js';
import { DatabasePool } from '../../../src/db/pool.js';
import { dbOperationInfo } from '../../../src/telemetry/index.js';
import { testDatabase } from '../../support/pg.js';
import { dataPoints, decisionFor, spanNamed, startPipeline, type Pipeline } from '../../unit/telemetry/helpers.js';

let pool: DatabasePool;
let p: Pipeline;

beforeAll(() => {
  pool = new DatabasePool(databaseSchema.parse({ url: testDatabase().gatewayUrl, search_path: ['app'], application_name: 'pgwarden-test' }));
});
afterAll(async () => {
  await pool.end();
});
beforeEach(() => {
  p = startPipeline();
});
afterEach(async () => {
  await p.close();
});

async function read(sql: string, fallbackRelations: string[]): Promise<number> {
  const t = p.telemetry({ recordQueryText: true });
  return t.toolCall('query', { principal: 'analyst' }, async (scope) => {
    const d = await decisionFor(sql, { decision: 'allow', kind: 'read', relations: fallbackRelations, reasons: [] });
    t.guardDecision(d, d.elapsedUs);
    const result = await t.dbOperation(dbOperationInfo('main', d), async (db) => {
      const r = await pool.runRead({ sql, limits: { ...DEFAULT_LIMITS }, searchPath: ['app'] });
      db.setReturnedRows(r.rowCount);
      return r;
    });
    scope.finish({ decision: 'allowed', rows: result.rowCount });
    return result.rowCount;
  });
}

describe('dbOperation over a real pool', () => {
  it('a successful read: semconv attributes, rows, duration in seconds', async () => {
    const rows = await read("SELECT id, email FROM app.customers WHERE email <> 'secret-literal@x.test' ORDER BY id LIMIT 5", ['app.customers']);
    expect(rows).toBe(5);
    const db = spanNamed(p.spans.getFinishedSpans(), 'SELECT app.customers');
    expect(db.attributes).toMatchObject({
      'db.system.name': 'postgresql',
      'db.namespace': 'main',
      'db.operation.name': 'SELECT',
      'db.collection.name': 'app.customers',
      'db.response.returned_rows': 5,
    });
    expect(db.attributes['db.query.text']).toMatch(/email <> \$1/);
    const m = await p.metrics();
    const point = dataPoints(m, 'db.client.operation.duration')[0]?.value as { count: number; sum: number };
    expect(point.count).toBe(1);
    expect(point.sum).toBeGreaterThan(0);
    expect(point.sum).toBeLessThan(5);
    expect(await p.everything()).not.toContain('secret-literal');
  });

  it('a failing read: SQLSTATE 22P02 recorded, the message quoting the literal is not', async () => {
    const err = await read("SELECT id FROM app.customers WHERE id = 'secret-literal'::int", ['app.customers']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as { details?: { sqlstate?: string } }).details?.sqlstate).toBe('22P02'); // the db layer's sanitized GatewayError
    const db = spanNamed(p.spans.getFinishedSpans(), 'SELECT app.customers');
    expect(db.attributes['db.response.status_code']).toBe('22P02');
    expect(db.status.code).toBe(SpanStatusCode.ERROR);
    const m = await p.metrics();
    expect(dataPoints(m, 'db.client.operation.duration')[0]?.attributes).toMatchObject({ 'db.response.status_code': '22P02', 'error.type': '22P02' });
    expect(await p.everything()).not.toContain('secret-literal');
  });
});
