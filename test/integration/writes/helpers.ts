/**
 * Shared set-up for the guarded-writes integration tests: a scratch copy of the demo database
 * where the gateway's least-privilege role also has the write grants docs/writes.md lists, a
 * table with every awkward value type, and hand-written WritePlans (what the planner produces).
 */
import pg from 'pg';
import { DEFAULT_LIMITS } from '../../../src/config/schema.js';
import type { WritePlan } from '../../../src/guard/write-plan.js';
import { ensureWriteSchema, WriteDatabase, type WriteSessionOptions } from '../../../src/db/writes/index.js';
import { createScratchDatabase, type ScratchDatabase } from '../../support/postgres.js';
import { testDatabase } from '../../support/pg.js';

export const session: WriteSessionOptions = { limits: { ...DEFAULT_LIMITS }, searchPath: ['app'] };
export const caps = { maxCaptureRows: 10_000, maxCaptureBytes: 16 * 1024 * 1024 };

export { adminQuery } from '../db/helpers.js';
import { adminQuery } from '../db/helpers.js';

/** The table with every value type an undo must round-trip exactly. */
export const TYPES_TABLE = `
CREATE TABLE app.write_types (
  id        bigint PRIMARY KEY,
  ts        timestamptz,
  amount    numeric(14,4),
  doc       jsonb,
  raw_json  json,
  tags      text[],
  matrix    integer[][],
  blob      bytea,
  note      text,
  ratio     float8,
  span      interval,
  day       date,
  flag      boolean,
  uid       uuid,
  twice     bigint GENERATED ALWAYS AS (id * 2) STORED,
  serial_no integer GENERATED ALWAYS AS IDENTITY
);
INSERT INTO app.write_types (id, ts, amount, doc, raw_json, tags, matrix, blob, note, ratio, span, day, flag, uid) VALUES
  (1, '2024-02-29 23:59:59.999999+05:30', 12345.6700, '{"a": [1, 2.50, {"b": null}], "s": "it''s \\"q\\""}', '{"z": 1,  "a" : [true]}',
      ARRAY['x', 'y''z', NULL, 'comma,brace}'], '{{1,2},{3,4}}', '\\x00ff0a27', E'quote '' double " back \\\\ newline \\n tab \\t ünï', 0.1, '1 year 2 mons 3 days 04:05:06.789', '2024-02-29', true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'),
  (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
  (3, 'infinity', 'NaN', '[]', 'null', '{}', '{}', '\\x', '', 'Infinity', '-1 days', '-infinity', false, '00000000-0000-0000-0000-000000000000'),
  (4, '1999-12-31 23:59:59+00', -0.0001, '{"big": 123456789012345678901234567890}', '{"dup": 1, "dup": 2}', ARRAY['é'], '{{-1}}', '\\xdeadbeef', repeat('long ', 200), -1.5e-300, '00:00:00.000001', '0001-01-01', NULL, NULL);
`;

export interface WriteTestDb {
  scratch: ScratchDatabase;
  /** The gateway's write connection (least-privilege login role + write grants). */
  db: WriteDatabase;
  admin: <T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[]) => Promise<T[]>;
  gatewayRole: string;
  readerRole: string;
  end(): Promise<void>;
}

/** A scratch database prepared for writes: grants, the types table, the pgwarden schema. */
export async function setupWriteDb(options: { ensureSchema?: boolean; schema?: string } = {}): Promise<WriteTestDb> {
  const t = testDatabase();
  const scratch = await createScratchDatabase();
  const admin = <T extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params: unknown[] = []) => adminQuery<T>(scratch.databaseUrl, sql, params);
  const g = pg.escapeIdentifier(t.gatewayRole);
  await admin(TYPES_TABLE);
  await admin(`
    GRANT CREATE ON DATABASE ${pg.escapeIdentifier(scratch.databaseName)} TO ${g};
    GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO ${g};
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA app TO ${g};
    GRANT SELECT ON app.write_types TO ${pg.escapeIdentifier(t.readerRole)};
  `);
  const pool = new pg.Pool({ connectionString: scratch.gatewayUrl, max: 4 });
  pool.on('error', () => undefined);
  const db = new WriteDatabase(pool, { name: 'demo', ...(options.schema !== undefined ? { schema: options.schema } : {}) });
  if (options.ensureSchema !== false) await ensureWriteSchema(db);
  return {
    scratch,
    db,
    admin,
    gatewayRole: t.gatewayRole,
    readerRole: t.readerRole,
    async end() {
      await db.end();
      await pool.end().catch(() => undefined);
      await scratch.drop();
    },
  };
}

const ticketsTarget = { schema: 'app', name: 'support_tickets', alias: 't', primaryKey: ['id'] };
const typesTarget = { schema: 'app', name: 'write_types', alias: 't', primaryKey: ['id'] };

/** DELETE FROM app.support_tickets WHERE <where> (where uses alias t). */
export function deleteTickets(where: string): WritePlan {
  return {
    kind: 'delete',
    target: ticketsTarget,
    countSql: `SELECT count(*) FROM app.support_tickets AS t WHERE ${where}`,
    captureSql: `SELECT t.* FROM app.support_tickets AS t WHERE ${where} FOR UPDATE OF t`,
    executeSql: `DELETE FROM app.support_tickets AS t WHERE ${where} RETURNING t.*`,
    reversible: true,
    irreversibleReasons: [],
  };
}

/** UPDATE app.support_tickets AS t SET <set> WHERE <where>. */
export function updateTickets(set: string, where: string, captureWhere = where): WritePlan {
  return {
    kind: 'update',
    target: ticketsTarget,
    countSql: `SELECT count(*) FROM app.support_tickets AS t WHERE ${where}`,
    captureSql: `SELECT t.* FROM app.support_tickets AS t WHERE ${captureWhere} FOR UPDATE OF t`,
    executeSql: `UPDATE app.support_tickets AS t SET ${set} WHERE ${where} RETURNING t.*`,
    reversible: true,
    irreversibleReasons: [],
  };
}

export function typesPlan(kind: 'update' | 'delete', where: string, set?: string): WritePlan {
  return {
    kind,
    target: typesTarget,
    countSql: `SELECT count(*) FROM app.write_types AS t WHERE ${where}`,
    captureSql: `SELECT t.* FROM app.write_types AS t WHERE ${where} FOR UPDATE OF t`,
    executeSql: kind === 'update' ? `UPDATE app.write_types AS t SET ${set ?? ''} WHERE ${where} RETURNING t.*` : `DELETE FROM app.write_types AS t WHERE ${where} RETURNING t.*`,
    reversible: true,
    irreversibleReasons: [],
  };
}

export function insertTypes(valuesSql: string, rows: number): WritePlan {
  return {
    kind: 'insert',
    target: typesTarget,
    rowsFromAst: rows,
    executeSql: `INSERT INTO app.write_types AS t (id, ts, amount, doc, raw_json, tags, matrix, blob, note, ratio, span, day, flag, uid) VALUES ${valuesSql} RETURNING t.*`,
    reversible: true,
    irreversibleReasons: [],
  };
}

/** The whole table as exact text (row_to_json per row, by primary key). */
export async function snapshot(w: WriteTestDb, table: string): Promise<string[]> {
  const rows = await w.admin<{ r: string }>(`SELECT row_to_json(x.*)::text AS r FROM ${table} AS x ORDER BY 1`);
  return rows.map((r) => r.r);
}

export async function journalCount(w: WriteTestDb): Promise<number> {
  const r = await w.admin<{ n: string }>(`SELECT count(*) AS n FROM ${pg.escapeIdentifier(w.db.schema)}.journal`);
  return Number(r[0]?.n);
}

export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected the promise to reject');
}
