/**
 * Gateway-owned state in each writable database: the undo journal, the approval queue and
 * single-use client confirmations, in one schema (config journal.schema, default `pgwarden`).
 *
 * Guarantees:
 * - ensureWriteSchema() is idempotent and versioned: `<schema>.schema_version` records the
 *   applied migrations; each migration runs once, in one transaction, under a
 *   transaction-scoped advisory lock, so replicas starting together do not race.
 * - The schema is revoked from PUBLIC; only its owner (the gateway's login role) can use it.
 *   The guard additionally treats it as denied for every agent, whatever the policy says
 *   (GuardRequest.reservedSchemas).
 * Does not: grant anything to anyone, or create the schema's owner role (see docs/writes.md for
 * the least-privilege grants).
 */
import '../pg-load.js'; // before pg: loads it without its Cloudflare probe (issue #13, start-up)
import pg from 'pg';
import { GatewayError } from '../../errors/gateway-error.js';
import type { WriteDatabase } from './session.js';

/** The schema version this code expects. */
export const WRITE_SCHEMA_VERSION = 1;

/** Migrations by version; `__S__` is replaced by the quoted schema name. */
const MIGRATIONS: Record<number, string> = {
  1: `
CREATE TABLE IF NOT EXISTS __S__.journal (
  undo_id          uuid PRIMARY KEY,
  principal        text NOT NULL,
  database         text NOT NULL,
  statement_digest text NOT NULL,
  normalized_sql   text NOT NULL,
  table_schema     text NOT NULL,
  table_name       text NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('insert', 'update', 'delete')),
  primary_key      text[] NOT NULL,
  before_images    json NOT NULL,
  after_images     json NOT NULL,
  row_count        integer NOT NULL,
  approval_id      uuid,
  created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
  reverted_at      timestamptz,
  reverted_by      text,
  revert_of        uuid
);
CREATE INDEX IF NOT EXISTS journal_created_at ON __S__.journal (created_at);
CREATE INDEX IF NOT EXISTS journal_principal ON __S__.journal (principal, created_at DESC);
CREATE TABLE IF NOT EXISTS __S__.approvals (
  approval_id    uuid PRIMARY KEY,
  principal      text NOT NULL,
  database       text NOT NULL,
  sql            text NOT NULL,
  normalized_sql text NOT NULL,
  digest         text NOT NULL,
  parameters     jsonb,
  blast_radius   jsonb NOT NULL,
  reasons        jsonb NOT NULL DEFAULT '[]',
  status         text NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'executing', 'executed', 'rejected', 'expired', 'failed', 'refused')),
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  expires_at     timestamptz NOT NULL,
  decided_by     text,
  decided_at     timestamptz,
  decision_note  text,
  finished_at    timestamptz,
  result         jsonb
);
CREATE INDEX IF NOT EXISTS approvals_pending ON __S__.approvals (expires_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS approvals_principal ON __S__.approvals (principal, status);
CREATE TABLE IF NOT EXISTS __S__.confirmations (
  confirmation_id uuid PRIMARY KEY,
  principal       text NOT NULL,
  database        text NOT NULL,
  digest          text NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
  expires_at      timestamptz NOT NULL
);
`,
};

/**
 * Create or upgrade the schema. Needs CREATE on the database the first time (the schema is
 * created) and ownership of the schema afterwards. Returns the version now applied.
 */
export async function ensureWriteSchema(db: WriteDatabase): Promise<number> {
  const S = pg.escapeIdentifier(db.schema);
  const version = db.qualified('schema_version');
  return await db.transaction('BEGIN; SET LOCAL statement_timeout = 60000; SET LOCAL lock_timeout = 30000; SET LOCAL search_path = pg_catalog', async (c) => {
    // Serializes migrations of this schema across replicas (released at COMMIT/ROLLBACK).
    await c.query("SELECT pg_advisory_xact_lock(hashtextextended('pgwarden.write-schema:' || $1, 0))", [db.schema]);
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${S}`);
    await c.query(`REVOKE ALL ON SCHEMA ${S} FROM PUBLIC`);
    await c.query(`CREATE TABLE IF NOT EXISTS ${version} (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())`);
    const r = await c.query<{ v: number | null }>(`SELECT max(version) AS v FROM ${version}`);
    let current = r.rows[0]?.v ?? 0;
    if (current > WRITE_SCHEMA_VERSION) {
      throw new GatewayError('INTERNAL_ERROR', `The ${db.schema} schema is at version ${current}, newer than this pgwarden (${WRITE_SCHEMA_VERSION}); upgrade pgwarden.`);
    }
    for (let v = current + 1; v <= WRITE_SCHEMA_VERSION; v++) {
      const sql = MIGRATIONS[v];
      if (sql === undefined) throw new GatewayError('INTERNAL_ERROR', `Missing write-schema migration ${v}.`);
      await c.query(sql.replaceAll('__S__.', `${S}.`));
      await c.query(`INSERT INTO ${version} (version) VALUES ($1)`, [v]);
      current = v;
    }
    return current;
  });
}
