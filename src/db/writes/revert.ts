/**
 * Revert: undo one recorded write by its undo id.
 *
 * Guarantees:
 * - One transaction. The journal row is locked (FOR UPDATE) first, so two reverts of the same id
 *   serialize and the second sees `reverted_at` and refuses (UNDO_ALREADY_REVERTED): a revert
 *   runs at most once.
 * - Conflict check under row locks: every row the write left behind must still equal its
 *   after-image (jsonb equality of row_to_json of the current row), and every row it deleted must
 *   still be absent; otherwise nothing is changed and UNDO_CONFLICT lists the primary keys of the
 *   rows that changed (values as text).
 * - Rows are rebuilt from the images with json_populate_recordset over the table's own row type,
 *   so every value round-trips exactly (timestamptz, numeric scale, json/jsonb, arrays, bytea,
 *   NULLs, quotes). DELETE → re-insert (OVERRIDING SYSTEM VALUE; generated columns recomputed);
 *   UPDATE → set back by primary key; INSERT → delete by primary key.
 * - The revert is journaled itself (revert_of = the original id; its images are what the revert
 *   removed and restored) and the original is marked reverted, in the same transaction.
 * - With `principal`, only that principal's entries are found (others are UNDO_NOT_FOUND, so
 *   their existence does not leak).
 * - With `authorize`, the inverse write is judged (by the gateway, under the policy in force)
 *   before any row of the table is read: a refused revert reveals nothing about the rows.
 * - Every statement names ONLY the recorded table: inheritance children are neither checked nor
 *   changed (the journal recorded rows of that table alone).
 * Does not: revert effects outside the recorded table (the planner refuses writes that have
 *   them), or reconcile a table whose columns changed since the write (that is a conflict).
 */
import { randomUUID } from 'node:crypto';
import '../pg-load.js'; // before pg: loads it without its Cloudflare probe (issue #13, start-up)
import pg from 'pg';
import { DEFAULT_LIMITS } from '../../config/schema.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { Reason } from '../../guard/reasons.js';
import { statementDigest } from './execute.js';
import { writeHardeningSql, type WriteDatabase, type WriteSessionOptions } from './session.js';
import { UndoConflictError, type RevertOptions, type RevertResult } from '../../shared/writes.js';

export { UndoConflictError, type RevertOptions, type RevertResult, type RevertWrite } from '../../shared/writes.js';

const MAX_LISTED = 50;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

interface JournalRow {
  principal: string;
  kind: 'insert' | 'update' | 'delete';
  table_schema: string;
  table_name: string;
  primary_key: string[];
  before_images: string;
  after_images: string;
  statement_digest: string;
  reverted_at: Date | null;
}

interface ColumnRow {
  name: string;
  generated: boolean;
  identity_always: boolean;
}

function notFound(): GatewayError {
  return new GatewayError('UNDO_NOT_FOUND', undefined, { decision: 'block' });
}

/** Undo one recorded write (see the module header). */
export async function revertWrite(db: WriteDatabase, undoId: string, options: RevertOptions): Promise<RevertResult> {
  if (!UUID.test(undoId)) throw notFound();
  const session: WriteSessionOptions = options.session ?? { limits: { ...DEFAULT_LIMITS }, searchPath: [] };
  const { role, ...withoutRole } = session;
  const begin = `${writeHardeningSql(withoutRole)}; SET LOCAL search_path = pg_catalog`;
  const revertUndoId = randomUUID();

  return await db.transaction(begin, async (client) => {
    const j = await client.query<JournalRow>(
      `SELECT principal, kind, table_schema, table_name, primary_key, before_images::text AS before_images, after_images::text AS after_images, statement_digest, reverted_at
       FROM ${db.qualified('journal')} WHERE undo_id = $1 FOR UPDATE`,
      [undoId],
    );
    const entry = j.rows[0];
    if (entry === undefined || (options.principal !== undefined && entry.principal !== options.principal)) throw notFound();
    if (entry.reverted_at !== null) throw new GatewayError('UNDO_ALREADY_REVERTED', `The write ${undoId} was already reverted.`, { decision: 'block' });

    const T = `${pg.escapeIdentifier(entry.table_schema)}.${pg.escapeIdentifier(entry.table_name)}`;
    const ONLY_T = `ONLY ${T}`;
    const display = `${entry.table_schema}.${entry.table_name}`;
    const cols = await client.query<ColumnRow>(
      `SELECT a.attname AS name, a.attgenerated <> '' AS generated, a.attidentity = 'a' AS identity_always
       FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = $2 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
      [entry.table_schema, entry.table_name],
    );
    if (cols.rows.length === 0) throw new UndoConflictError(display, [], 0, `The table ${display} no longer exists; nothing was reverted.`);
    const pk = entry.primary_key;
    const q = pg.escapeIdentifier;
    const rowKey = (alias: string): string => `(${pk.map((c) => `${alias}.${q(c)}`).join(', ')})`;
    const keyObject = (alias: string): string => `json_build_object(${pk.map((c) => `${pg.escapeLiteral(c)}, ${alias}.${q(c)}::text`).join(', ')})::text`;

    // The rows to check: deleted rows must be absent, others must equal their after-image.
    const deleted = entry.kind === 'delete';
    const images = deleted ? entry.before_images : entry.after_images;
    const writable = cols.rows.filter((c) => !c.generated);
    const inverseKind = entry.kind === 'delete' ? 'insert' : entry.kind === 'insert' ? 'delete' : 'update';
    if (role !== undefined) await client.query(`SET LOCAL ROLE ${q(role)}`);
    // The definitions the revert is judged on cannot change until it commits (CREATE TRIGGER,
    // CREATE RULE, ALTER TABLE on the table wait for this lock, which the restore takes anyway).
    await client.query(`LOCK TABLE ${ONLY_T} IN ROW EXCLUSIVE MODE`);
    if (options.authorize !== undefined) {
      const count = await client.query<{ n: number }>('SELECT json_array_length($1::json) AS n', [images]);
      const columns = (inverseKind === 'update' ? writable.filter((c) => !c.identity_always && !pk.includes(c.name)) : writable).map((c) => c.name);
      const reasons = await options.authorize({ schema: entry.table_schema, name: entry.table_name, kind: inverseKind, rowCount: Number(count.rows[0]?.n ?? 0), primaryKey: pk, columns });
      if (reasons.length > 0) {
        const first = reasons[0] as Reason;
        const err = new GatewayError(first.code, first.message, { decision: 'block', fix: first.fix });
        err.reasons.push(...reasons.slice(1));
        throw err;
      }
    }

    await client.query(
      `SELECT 1 FROM ${ONLY_T} AS cur WHERE ${rowKey('cur')} IN (SELECT ${pk.map((c) => `p.${q(c)}`).join(', ')} FROM json_populate_recordset(null::${T}, $1::json) AS p) FOR UPDATE OF cur`,
      [images],
    );
    const conflictSql = deleted
      ? `SELECT ${keyObject('p')} AS key FROM json_array_elements($1::json) AS e(img) CROSS JOIN LATERAL json_populate_record(null::${T}, e.img) AS p
         JOIN ${ONLY_T} AS cur ON ${rowKey('cur')} = ${rowKey('p')}`
      : `SELECT ${keyObject('p')} AS key FROM json_array_elements($1::json) AS e(img) CROSS JOIN LATERAL json_populate_record(null::${T}, e.img) AS p
         LEFT JOIN ${ONLY_T} AS cur ON ${rowKey('cur')} = ${rowKey('p')}
         WHERE row_to_json(cur.*)::jsonb IS DISTINCT FROM e.img::jsonb`;
    const conflicts = await client.query<{ key: string }>(conflictSql, [images]);
    if (conflicts.rows.length > 0) {
      const keys = conflicts.rows.slice(0, MAX_LISTED).map((r) => JSON.parse(r.key) as Record<string, string>);
      throw new UndoConflictError(display, keys, conflicts.rows.length);
    }

    let restored: string[];
    try {
      if (entry.kind === 'delete') {
        const names = writable.map((c) => q(c.name)).join(', ');
        const r = await client.query<{ image: string }>(
          `INSERT INTO ${T} AS t (${names}) OVERRIDING SYSTEM VALUE SELECT ${writable.map((c) => `p.${q(c.name)}`).join(', ')} FROM json_populate_recordset(null::${T}, $1::json) AS p RETURNING row_to_json(t.*)::text AS image`,
          [entry.before_images],
        );
        restored = r.rows.map((x) => x.image);
      } else if (entry.kind === 'update') {
        const settable = writable.filter((c) => !c.identity_always && !pk.includes(c.name));
        if (settable.length === 0) {
          const r = await client.query<{ image: string }>('SELECT e::text AS image FROM json_array_elements($1::json) AS e', [entry.after_images]);
          restored = r.rows.map((x) => x.image);
        } else {
          const r = await client.query<{ image: string }>(
            `UPDATE ${ONLY_T} AS t SET ${settable.map((c) => `${q(c.name)} = p.${q(c.name)}`).join(', ')}
             FROM json_populate_recordset(null::${T}, $1::json) AS p WHERE ${rowKey('t')} = ${rowKey('p')} RETURNING row_to_json(t.*)::text AS image`,
            [entry.before_images],
          );
          restored = r.rows.map((x) => x.image);
        }
      } else {
        const r = await client.query<{ image: string }>(
          `DELETE FROM ${ONLY_T} AS t USING json_populate_recordset(null::${T}, $1::json) AS p WHERE ${rowKey('t')} = ${rowKey('p')} RETURNING row_to_json(t.*)::text AS image`,
          [entry.after_images],
        );
        restored = r.rows.map((x) => x.image);
      }
    } catch (err) {
      if ((err as { code?: unknown }).code === '23505') {
        throw new UndoConflictError(display, [], 1, `A row with the same primary key was inserted into ${display} since the write; nothing was reverted.`);
      }
      throw err;
    }
    const expected = (JSON.parse(images) as unknown[]).length;
    if (restored.length !== expected) {
      throw new UndoConflictError(display, [], Math.abs(expected - restored.length), `The revert would change ${restored.length} rows of ${display} instead of ${expected}; nothing was reverted.`);
    }

    // The revert's own entry: inverse kind; images = what it removed / what it restored.
    const inverse = entry.kind === 'delete' ? 'insert' : entry.kind === 'insert' ? 'delete' : 'update';
    const before = inverse === 'insert' ? '[]' : inverse === 'delete' ? `[${restored.join(',')}]` : entry.after_images;
    const after = inverse === 'delete' ? '[]' : `[${restored.join(',')}]`;
    if (role !== undefined) await client.query('SET LOCAL ROLE NONE');
    await client.query(
      `INSERT INTO ${db.qualified('journal')} (undo_id, principal, database, statement_digest, normalized_sql, table_schema, table_name, kind, primary_key, before_images, after_images, row_count, revert_of)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::text[], $10::json, $11::json, $12, $13)`,
      [revertUndoId, options.by, db.name, statementDigest(`revert ${undoId}`), `-- revert of ${undoId}`, entry.table_schema, entry.table_name, inverse, pk, before, after, restored.length, undoId],
    );
    await client.query(`UPDATE ${db.qualified('journal')} SET reverted_at = clock_timestamp(), reverted_by = $2 WHERE undo_id = $1`, [undoId, options.by]);
    return { undoId, revertUndoId, table: display, kind: entry.kind, rowCount: restored.length };
  });
}
