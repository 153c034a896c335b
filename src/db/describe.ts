/**
 * Schema discovery for the describe tool: relations of some schemas, and one relation's
 * columns, keys, indexes, row estimate and (optionally) a few sample rows.
 *
 * Guarantees: catalog queries are trusted gateway SQL with bind parameters (names are never
 * spliced into text); the sample statement is built with escaped identifiers and runs through
 * the same hardened read path as agent statements (read-only, timeouts, caps, role).
 * Does not: decide which schemas/tables a principal may see, or mask sample values — the
 * caller filters by policy and must mask the sample (or build it through the guard with
 * sampleSql()).
 */
import './pg-load.js'; // before pg: loads it without its Cloudflare probe (issue #13, start-up)
import pg from 'pg';
import { GatewayError } from '../errors/gateway-error.js';
import type { RelationKind } from '../guard/types.js';
import type { DatabasePool, ReadOptions, ReadResult } from './pool.js';

export interface RelationSummary {
  schema: string;
  name: string;
  kind: RelationKind;
  /** pg_class.reltuples; -1 when unknown (never analyzed) or not applicable (views). */
  estimatedRows: number;
  comment: string | null;
}

export interface ColumnDescription {
  name: string;
  /** format_type(), e.g. "character varying(20)", "timestamp with time zone". */
  type: string;
  nullable: boolean;
  default: string | null;
  /** Generated column expression kind: 'stored' (PG12+), else null. */
  generated: 'stored' | 'virtual' | null;
  comment: string | null;
}

export interface ForeignKeyDescription {
  name: string;
  columns: string[];
  references: { schema: string; table: string; columns: string[] };
  /** pg_get_constraintdef(), e.g. "FOREIGN KEY (customer_id) REFERENCES app.customers(id)". */
  definition: string;
}

export interface IndexDescription {
  name: string;
  /** pg_get_indexdef() with schema-qualified names. */
  definition: string;
  unique: boolean;
  primary: boolean;
}

export interface RelationDescription extends RelationSummary {
  columns: ColumnDescription[];
  primaryKey: string[] | null;
  foreignKeys: ForeignKeyDescription[];
  indexes: IndexDescription[];
  /** Present when sample rows were requested. NOT masked. */
  sample?: ReadResult;
}

const KINDS: Record<string, RelationKind> = { r: 'table', p: 'partitioned_table', v: 'view', m: 'materialized_view', f: 'foreign_table', S: 'sequence' };

function estimate(kind: RelationKind, reltuples: number | null): number {
  if (kind === 'view' || kind === 'sequence' || reltuples === null || reltuples < 0) return -1;
  return Math.round(reltuples);
}

interface SummaryRow {
  oid: number;
  schema: string;
  name: string;
  kind: string;
  reltuples: number | null;
  comment: string | null;
}

const SUMMARY_COLUMNS = `c.oid::int8::float8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
  c.reltuples::float8 AS reltuples, obj_description(c.oid, 'pg_class') AS comment`;

function toSummary(row: SummaryRow): RelationSummary {
  const kind = KINDS[row.kind] ?? 'other';
  return { schema: row.schema, name: row.name, kind, estimatedRows: estimate(kind, row.reltuples), comment: row.comment };
}

/** Tables, views, materialized views and foreign tables in `schemas`, ordered by schema and name. */
export async function listRelations(pool: DatabasePool, schemas: readonly string[]): Promise<RelationSummary[]> {
  if (schemas.length === 0) return [];
  return await pool.withTrustedRead(async (client) => {
    const r = await client.query<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS}
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = ANY($1::text[]) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
       ORDER BY n.nspname, c.relname`,
      [[...schemas]],
    );
    return r.rows.map(toSummary);
  });
}

/** `SELECT * FROM "schema"."name" LIMIT n` with escaped identifiers. */
export function sampleSql(schema: string, name: string, rows: number): string {
  const n = Math.max(0, Math.floor(rows));
  return `SELECT * FROM ${pg.escapeIdentifier(schema)}.${pg.escapeIdentifier(name)} LIMIT ${n}`;
}

export interface DescribeOptions {
  /** Fetch this many sample rows through the hardened read path with these settings. */
  sample?: { rows: number; read: Omit<ReadOptions, 'sql' | 'explain' | 'params'> };
}

/** Describe one relation; throws UNKNOWN_TABLE when it does not exist. */
export async function describeRelation(pool: DatabasePool, schema: string, name: string, options: DescribeOptions = {}): Promise<RelationDescription> {
  const description = await pool.withTrustedRead(async (client) => {
    const found = await client.query<SummaryRow>(
      `SELECT ${SUMMARY_COLUMNS}
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = $1 AND c.relname = $2 AND c.relkind IN ('r', 'p', 'v', 'm', 'f')`,
      [schema, name],
    );
    const row = found.rows[0];
    if (row === undefined) return undefined;
    const oid = row.oid;
    const columns = await client.query<{ name: string; type: string; nullable: boolean; default: string | null; generated: string; comment: string | null }>(
      `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, NOT a.attnotnull AS nullable,
              pg_get_expr(d.adbin, d.adrelid) AS default, a.attgenerated::text AS generated,
              col_description(a.attrelid, a.attnum) AS comment
       FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
       WHERE a.attrelid = $1::oid AND a.attnum > 0 AND NOT a.attisdropped
       ORDER BY a.attnum`,
      [oid],
    );
    const constraints = await client.query<{ name: string; type: string; columns: string[]; ref_schema: string | null; ref_table: string | null; ref_columns: string[] | null; definition: string }>(
      `SELECT con.conname AS name, con.contype::text AS type,
              ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY k(num, ord)
                    JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.num ORDER BY k.ord)::text[] AS columns,
              rn.nspname AS ref_schema, rc.relname AS ref_table,
              ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY k(num, ord)
                    JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.num ORDER BY k.ord)::text[] AS ref_columns,
              pg_get_constraintdef(con.oid) AS definition
       FROM pg_constraint con
       LEFT JOIN pg_class rc ON rc.oid = con.confrelid
       LEFT JOIN pg_namespace rn ON rn.oid = rc.relnamespace
       WHERE con.conrelid = $1::oid AND con.contype IN ('p', 'f')
       ORDER BY con.conname`,
      [oid],
    );
    const indexes = await client.query<{ name: string; definition: string; unique: boolean; primary: boolean }>(
      `SELECT i.relname AS name, pg_get_indexdef(x.indexrelid) AS definition, x.indisunique AS unique, x.indisprimary AS primary
       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
       WHERE x.indrelid = $1::oid
       ORDER BY i.relname`,
      [oid],
    );
    const pk = constraints.rows.find((c) => c.type === 'p');
    const result: RelationDescription = {
      ...toSummary(row),
      columns: columns.rows.map((c) => ({
        name: c.name,
        type: c.type,
        nullable: c.nullable,
        default: c.default,
        generated: c.generated === 's' ? 'stored' : c.generated === 'v' ? 'virtual' : null,
        comment: c.comment,
      })),
      primaryKey: pk === undefined ? null : pk.columns,
      foreignKeys: constraints.rows
        .filter((c) => c.type === 'f')
        .map((c) => ({
          name: c.name,
          columns: c.columns,
          references: { schema: c.ref_schema ?? '', table: c.ref_table ?? '', columns: c.ref_columns ?? [] },
          definition: c.definition,
        })),
      indexes: indexes.rows,
    };
    return result;
  });
  if (description === undefined) {
    throw new GatewayError('UNKNOWN_TABLE', 'No such table or view.', { decision: 'block' });
  }
  if (options.sample !== undefined && options.sample.rows > 0) {
    description.sample = await pool.runRead({ ...options.sample.read, sql: sampleSql(schema, name, options.sample.rows) });
  }
  return description;
}
