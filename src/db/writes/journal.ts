/**
 * Reading and pruning the undo journal.
 *
 * Guarantees: purgeJournal() deletes only entries older than the retention period (created_at,
 * database clock) and never an entry younger than it; 0 days keeps everything.
 * Does not: return images to agents (journal entries hold raw row values: operators only).
 */
import type { WriteDatabase } from './session.js';

export interface JournalEntry {
  undoId: string;
  principal: string;
  database: string;
  statementDigest: string;
  normalizedSql: string;
  table: string;
  kind: 'insert' | 'update' | 'delete';
  primaryKey: string[];
  rowCount: number;
  approvalId: string | null;
  createdAt: string;
  revertedAt: string | null;
  revertedBy: string | null;
  revertOf: string | null;
}

interface Row {
  undo_id: string;
  principal: string;
  database: string;
  statement_digest: string;
  normalized_sql: string;
  table_schema: string;
  table_name: string;
  kind: JournalEntry['kind'];
  primary_key: string[];
  row_count: number;
  approval_id: string | null;
  created_at: Date;
  reverted_at: Date | null;
  reverted_by: string | null;
  revert_of: string | null;
}

const COLUMNS =
  'undo_id, principal, database, statement_digest, normalized_sql, table_schema, table_name, kind, primary_key, row_count, approval_id, created_at, reverted_at, reverted_by, revert_of';

function fromRow(r: Row): JournalEntry {
  return {
    undoId: r.undo_id,
    principal: r.principal,
    database: r.database,
    statementDigest: r.statement_digest,
    normalizedSql: r.normalized_sql,
    table: `${r.table_schema}.${r.table_name}`,
    kind: r.kind,
    primaryKey: r.primary_key,
    rowCount: r.row_count,
    approvalId: r.approval_id,
    createdAt: r.created_at.toISOString(),
    revertedAt: r.reverted_at === null ? null : r.reverted_at.toISOString(),
    revertedBy: r.reverted_by,
    revertOf: r.revert_of,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** One entry's metadata (no images), or undefined. */
export async function getJournalEntry(db: WriteDatabase, undoId: string): Promise<JournalEntry | undefined> {
  if (!UUID.test(undoId)) return undefined;
  return await db.trusted(async (c) => {
    const r = await c.query<Row>(`SELECT ${COLUMNS} FROM ${db.qualified('journal')} WHERE undo_id = $1`, [undoId]);
    return r.rows[0] === undefined ? undefined : fromRow(r.rows[0]);
  }, { readOnly: true });
}

/** Recent entries (metadata only), newest first; optionally one principal's. */
export async function listJournal(db: WriteDatabase, filter: { principal?: string; limit?: number } = {}): Promise<JournalEntry[]> {
  const limit = Math.min(1000, Math.max(1, Math.floor(filter.limit ?? 20)));
  return await db.trusted(async (c) => {
    const r = await c.query<Row>(
      `SELECT ${COLUMNS} FROM ${db.qualified('journal')} WHERE ($1::text IS NULL OR principal = $1) ORDER BY created_at DESC LIMIT $2`,
      [filter.principal ?? null, limit],
    );
    return r.rows.map(fromRow);
  }, { readOnly: true });
}

/** Delete journal entries older than retentionDays (0: keep forever), and decided approvals as old. Returns deleted counts. */
export async function purgeJournal(db: WriteDatabase, retentionDays: number): Promise<{ journal: number; approvals: number }> {
  if (!(retentionDays > 0)) return { journal: 0, approvals: 0 };
  return await db.trusted(async (c) => {
    const j = await c.query(`DELETE FROM ${db.qualified('journal')} WHERE created_at < clock_timestamp() - make_interval(days => $1::int)`, [Math.floor(retentionDays)]);
    const a = await c.query(
      `DELETE FROM ${db.qualified('approvals')} WHERE status NOT IN ('pending', 'executing') AND created_at < clock_timestamp() - make_interval(days => $1::int)`,
      [Math.floor(retentionDays)],
    );
    await c.query(`DELETE FROM ${db.qualified('confirmations')} WHERE expires_at < clock_timestamp()`);
    return { journal: j.rowCount ?? 0, approvals: a.rowCount ?? 0 };
  }, { timeoutMs: 60_000 });
}
