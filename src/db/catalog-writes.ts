/**
 * Write facts for the catalog snapshot (issue #5): for every user table (plain and partitioned,
 * outside the system schemas) its primary key, NOT NULL / generated / GENERATED ALWAYS identity
 * columns, user triggers, rewrite rules, the foreign keys that reference it (with their ON DELETE /
 * ON UPDATE actions and both sides' columns), its unique / exclusion / check / foreign-key
 * constraints with the columns each reads, the columns an INSERT fills by default, and whether it
 * has inheritance children; for views (INSTEAD OF triggers, rules) the MD5 of their definition;
 * triggers with their events, enabled state and function, rules with their event. Read in the
 * same consistent transaction as the rest of the snapshot (src/db/catalog.ts), and again for the
 * relations one write depends on inside that write's own transaction (readWriteFacts).
 *
 * Guarantees: every relation of kind r/p/v in a user schema gets `write` (possibly with empty
 * lists; views get no constraint facts), so
 * "no primary key" is a fact, not a missing load; internal triggers (foreign-key enforcement) are
 * not user triggers; a view's _RETURN rule is not a rule; foreign keys cloned onto partitions are
 * listed once (their parent constraint).
 * Does not: look into trigger or rule bodies, or see objects the login cannot see in pg_catalog.
 */
import type { PoolClient } from 'pg';
import type { CatalogRelation, CatalogRuleFact, CatalogWriteInfo, ForeignKeyAction } from '../guard/types.js';
import { jsonPartsRows, jsonPartsSql } from './json-parts.js';

/** Relations write facts are loaded for: user tables (plain, partitioned) and views (INSTEAD OF triggers, rules, definition). */
const USER_TABLES = `
  SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'`;

/** The same, restricted to the relations named in $1 (schema.name): re-read inside a write's transaction. */
const NAMED_TABLES = `${USER_TABLES}
    AND (n.nspname::text || '.' || c.relname::text) = ANY($1::text[])`;

/** The queries below select their relations with `IN (__FILTER__)`. */
const withFilter = (sql: string, filter: string): string => sql.split('__FILTER__').join(filter);

const TABLES_SQL = `
  SELECT c.oid::int8::float8 AS oid, c.relhassubclass AS has_children, c.relkind::text AS kind,
         CASE WHEN c.relkind = 'v' THEN pg_catalog.md5(pg_catalog.pg_get_viewdef(c.oid)) END AS definition
  FROM pg_catalog.pg_class c WHERE c.oid IN (__FILTER__)`;

const PRIMARY_KEYS_SQL = `
  SELECT con.conrelid::int8::float8 AS oid, pg_catalog.array_agg(a.attname::text ORDER BY k.ord) AS cols
  FROM pg_catalog.pg_constraint con
  CROSS JOIN LATERAL pg_catalog.unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
  JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
  WHERE con.contype = 'p' AND con.conrelid IN (__FILTER__)
  GROUP BY con.conrelid`;

const COLUMN_FLAGS_SQL = `
  SELECT a.attrelid::int8::float8 AS oid, a.attname::text AS name, a.attnotnull AS not_null,
         a.attgenerated::text <> '' AS generated, a.attidentity::text = 'a' AS identity_always, a.attnum
  FROM pg_catalog.pg_attribute a
  WHERE a.attrelid IN (__FILTER__) AND a.attnum > 0 AND NOT a.attisdropped
    AND (a.attnotnull OR a.attgenerated::text <> '' OR a.attidentity::text = 'a')
  ORDER BY a.attrelid, a.attnum`;

const TRIGGERS_SQL = `
  SELECT t.tgrelid::int8::float8 AS oid, t.tgname::text AS name, t.tgtype::int AS type, t.tgenabled::text AS enabled,
         fn.nspname::text || '.' || p.proname::text AS function
  FROM pg_catalog.pg_trigger t
  JOIN pg_catalog.pg_proc p ON p.oid = t.tgfoid
  JOIN pg_catalog.pg_namespace fn ON fn.oid = p.pronamespace
  WHERE NOT t.tgisinternal AND t.tgrelid IN (__FILTER__)
  ORDER BY 1, 2`;

const RULES_SQL = `
  SELECT r.ev_class::int8::float8 AS oid, r.rulename::text AS name, r.ev_type::text AS event, r.ev_enabled::text AS enabled
  FROM pg_catalog.pg_rewrite r
  WHERE r.rulename <> '_RETURN' AND r.ev_class IN (__FILTER__)
  ORDER BY 1, 2`;

const REFERENCING_SQL = `
  SELECT con.confrelid::int8::float8 AS oid, con.conname::text AS constraint,
         ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
               ORDER BY k.ord) AS referencing_cols,
         rn.nspname::text || '.' || rc.relname::text AS referencing,
         con.confdeltype::text AS on_delete, con.confupdtype::text AS on_update,
         ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
               ORDER BY k.ord) AS cols
  FROM pg_catalog.pg_constraint con
  JOIN pg_catalog.pg_class rc ON rc.oid = con.conrelid
  JOIN pg_catalog.pg_namespace rn ON rn.oid = rc.relnamespace
  WHERE con.contype = 'f' AND con.conparentid = 0 AND con.confrelid IN (__FILTER__)
  ORDER BY 1, 2`;

/**
 * Unique and exclusion indexes (with or without a constraint): every column they read — key
 * columns and, through pg_depend, columns of index expressions and predicates. A whole-row
 * reference in an expression or predicate (a Var with varattno 0 in the stored node tree), or an
 * index with neither a key column nor a column dependency, counts as every column (fail closed).
 */
const UNIQUE_INDEXES_SQL = `
  SELECT i.indrelid::int8::float8 AS oid, ic.relname::text AS name, i.indisexclusion AS exclusion,
         i.indnullsnotdistinct AS nulls_not_distinct,
         ARRAY(SELECT a.attname::text FROM pg_catalog.pg_attribute a
               WHERE a.attrelid = i.indrelid AND a.attnum > 0 AND NOT a.attisdropped
                 AND (a.attnum = ANY (i.indkey::int2[])
                      OR EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                                 WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = i.indexrelid
                                   AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = i.indrelid
                                   AND d.refobjsubid = a.attnum)
                      OR COALESCE(i.indexprs::text, '') || COALESCE(i.indpred::text, '') LIKE '%:varattno 0 %'
                      OR NOT EXISTS (SELECT 1 FROM pg_catalog.unnest(i.indkey::int2[]) AS k(n) WHERE k.n > 0)
                         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d
                                     WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = i.indexrelid
                                       AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid = i.indrelid
                                       AND d.refobjsubid > 0))
               ORDER BY a.attnum) AS cols
  FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class ic ON ic.oid = i.indexrelid
  WHERE (i.indisunique OR i.indisexclusion) AND i.indrelid IN (__FILTER__)
  ORDER BY 1, 2`;

/** Check and foreign-key constraints of each table (conkey: the columns a CHECK reads, or the referencing columns). */
const CONSTRAINTS_SQL = `
  SELECT con.conrelid::int8::float8 AS oid, con.conname::text AS name, con.contype::text AS type, con.convalidated AS validated,
         ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum
               ORDER BY k.ord) AS cols,
         CASE WHEN con.contype = 'f' THEN fn.nspname::text || '.' || fc.relname::text END AS ref_table,
         ARRAY(SELECT a.attname::text FROM pg_catalog.unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
               JOIN pg_catalog.pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum
               ORDER BY k.ord) AS ref_cols
  FROM pg_catalog.pg_constraint con
  LEFT JOIN pg_catalog.pg_class fc ON fc.oid = con.confrelid
  LEFT JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
  WHERE con.contype IN ('c', 'f') AND con.conrelid IN (__FILTER__)
  ORDER BY 1, 2`;

const DEFAULTED_SQL = `
  SELECT a.attrelid::int8::float8 AS oid, a.attname::text AS name, a.attnum
  FROM pg_catalog.pg_attribute a
  WHERE a.attrelid IN (__FILTER__) AND a.attnum > 0 AND NOT a.attisdropped
    AND (a.atthasdef OR a.attidentity::text <> '' OR a.attgenerated::text <> '')
  ORDER BY a.attrelid, a.attnum`;

const ACTIONS: Readonly<Record<string, ForeignKeyAction>> = { a: 'no action', r: 'restrict', c: 'cascade', n: 'set null', d: 'set default' };

interface Queryable {
  query: PoolClient['query'];
}

/** tgtype bits (PostgreSQL's trigger.h). */
const TRIGGER_TYPE = { insert: 4, delete: 8, update: 16, truncate: 32, instead: 64 } as const;
const RULE_EVENTS: Readonly<Record<string, CatalogRuleFact['event']>> = { '1': 'select', '2': 'update', '3': 'insert', '4': 'delete' };

/**
 * The fact queries in ONE statement (issue #13, start-up: one round trip instead of nine, for the
 * snapshot and for a write's re-read alike): each query's rows aggregated by PostgreSQL into
 * JSON row objects (`row_to_json`: the keys and values the driver would have given row by row —
 * numbers, booleans, strings, arrays of strings, null) in chunks of at most CHUNK_ROWS rows
 * (json-parts.ts), in each query's order (its ORDER BY numbers the rows).
 */
const FACT_QUERIES = {
  tables: [TABLES_SQL, ''],
  pks: [PRIMARY_KEYS_SQL, ''],
  flags: [COLUMN_FLAGS_SQL, 'q.oid, q.attnum'],
  triggers: [TRIGGERS_SQL, 'q.oid, q.name'],
  rules: [RULES_SQL, 'q.oid, q.name'],
  refs: [REFERENCING_SQL, 'q.oid, q."constraint"'],
  uniques: [UNIQUE_INDEXES_SQL, 'q.oid, q.name'],
  cons: [CONSTRAINTS_SQL, 'q.oid, q.name'],
  defaulted: [DEFAULTED_SQL, 'q.oid, q.attnum'],
} as const;

const FACT_ENTRIES = Object.entries(FACT_QUERIES);

function factsSql(filter: string): string {
  return jsonPartsSql(FACT_ENTRIES.map(([, [sql, order]]) => [withFilter(sql, filter), 'pg_catalog.row_to_json(q)', order] as const));
}

interface FactRows {
  tables: { oid: number; has_children: boolean; kind: string; definition: string | null }[];
  pks: { oid: number; cols: string[] }[];
  flags: { oid: number; name: string; not_null: boolean; generated: boolean; identity_always: boolean }[];
  triggers: { oid: number; name: string; type: number; enabled: string; function: string }[];
  rules: { oid: number; name: string; event: string; enabled: string }[];
  refs: { oid: number; constraint: string; referencing: string; referencing_cols: string[]; on_delete: string; on_update: string; cols: string[] }[];
  uniques: { oid: number; name: string; exclusion: boolean; nulls_not_distinct: boolean; cols: string[] }[];
  cons: { oid: number; name: string; type: string; validated: boolean; cols: string[]; ref_table: string | null; ref_cols: string[] }[];
  defaulted: { oid: number; name: string }[];
}

async function readFactRows(client: Queryable, filter: string, params: unknown[]): Promise<FactRows> {
  const chunks = (await client.query<{ part: number; rows: string | null }>(factsSql(filter), params)).rows;
  const parts = jsonPartsRows(FACT_ENTRIES.length, chunks);
  const out: Record<string, unknown[]> = {};
  FACT_ENTRIES.forEach(([key], i) => (out[key] = parts[i] as unknown[]));
  return out as unknown as FactRows;
}

/**
 * Run the fact queries over the relations `filter` selects (`params` bind its placeholders);
 * `attach` receives each relation's new facts and says whether to keep them.
 */
async function loadFacts(client: Queryable, filter: string, params: unknown[], attach: (oid: number, info: CatalogWriteInfo) => boolean): Promise<void> {
  const { tables, pks, flags, triggers, rules, refs, uniques, cons, defaulted } = await readFactRows(client, filter, params);

  const byOid = new Map<number, CatalogWriteInfo>();
  for (const t of tables) {
    const info: CatalogWriteInfo = {
      primaryKey: [], notNull: [], generated: [], identityAlways: [], userTriggers: [], rules: [], referencedBy: [], hasChildren: t.has_children,
      triggers: [], ruleFacts: [],
    };
    // Constraint facts are a table's: a view gets none (absent = unknown to the masker, never "none").
    if (t.kind !== 'v') {
      info.constraints = [];
      info.defaulted = [];
    }
    if (t.definition !== null) info.definition = t.definition;
    if (attach(t.oid, info)) byOid.set(t.oid, info);
  }
  for (const p of pks) {
    const info = byOid.get(p.oid);
    if (info) info.primaryKey = p.cols;
  }
  for (const f of flags) {
    const info = byOid.get(f.oid);
    if (!info) continue;
    if (f.not_null) info.notNull.push(f.name);
    if (f.generated) info.generated.push(f.name);
    if (f.identity_always) info.identityAlways.push(f.name);
  }
  for (const t of triggers) {
    const info = byOid.get(t.oid);
    if (!info) continue;
    info.userTriggers.push(t.name);
    const events = (['insert', 'update', 'delete', 'truncate'] as const).filter((e) => (t.type & TRIGGER_TYPE[e]) !== 0);
    // 'D' never fires; 'R' fires only in replica mode, which the gateway's roles cannot set: counted as firing (fail closed).
    info.triggers?.push({ name: t.name, events, enabled: t.enabled !== 'D', instead: (t.type & TRIGGER_TYPE.instead) !== 0, function: t.function });
  }
  for (const r of rules) {
    const info = byOid.get(r.oid);
    if (!info) continue;
    info.rules.push(r.name);
    info.ruleFacts?.push({ name: r.name, event: RULE_EVENTS[r.event] ?? 'update', enabled: r.enabled !== 'D' });
  }
  for (const r of refs) {
    byOid.get(r.oid)?.referencedBy.push({
      table: r.referencing,
      constraint: r.constraint,
      columns: r.cols,
      referencingColumns: r.referencing_cols,
      onDelete: ACTIONS[r.on_delete] ?? 'cascade', // unknown action: assume it acts (fail closed)
      onUpdate: ACTIONS[r.on_update] ?? 'cascade',
    });
  }
  for (const u of uniques) {
    byOid.get(u.oid)?.constraints?.push({ name: u.name, kind: u.exclusion ? 'exclusion' : 'unique', columns: u.cols, nullsNotDistinct: u.nulls_not_distinct });
  }
  for (const c of cons) {
    const info = byOid.get(c.oid);
    if (!info) continue;
    if (c.type === 'c') info.constraints?.push({ name: c.name, kind: 'check', columns: c.cols, validated: c.validated });
    else if (c.ref_table !== null) info.constraints?.push({ name: c.name, kind: 'foreign_key', columns: c.cols, validated: c.validated, references: { table: c.ref_table, columns: c.ref_cols } });
  }
  for (const d of defaulted) byOid.get(d.oid)?.defaulted?.push(d.name);
}

/**
 * Load the write facts and attach them as `write` to the relations (keyed by oid through
 * `keyOf`). Runs inside the caller's snapshot transaction.
 */
export async function attachWriteInfo(client: Queryable, relations: Map<string, CatalogRelation>, keyOf: (oid: number) => string | undefined): Promise<void> {
  await loadFacts(client, USER_TABLES, [], (oid, info) => {
    const rel = relationOf(relations, keyOf, oid);
    if (rel === undefined) return false;
    rel.write = info;
    return true;
  });
}

/**
 * The write facts of the named relations (schema.name), read now with the caller's client: the
 * executor re-reads what a write was judged on inside the write's own transaction, after
 * locking its target, and compares (src/guard/write/reach.ts definitionsDigest). Relations that
 * no longer exist are absent.
 */
export async function readWriteFacts(client: Queryable, keys: readonly string[]): Promise<Map<string, CatalogWriteInfo>> {
  const names = await client.query<{ oid: number; key: string }>(
    `SELECT c.oid::int8::float8 AS oid, n.nspname::text || '.' || c.relname::text AS key FROM pg_catalog.pg_class c
     JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid IN (${NAMED_TABLES})`,
    [[...keys]],
  );
  const keyByOid = new Map(names.rows.map((r) => [r.oid, r.key]));
  const out = new Map<string, CatalogWriteInfo>();
  await loadFacts(client, NAMED_TABLES, [[...keys]], (oid, info) => {
    const key = keyByOid.get(oid);
    if (key === undefined) return false;
    out.set(key, info);
    return true;
  });
  return out;
}

function relationOf(relations: Map<string, CatalogRelation>, keyOf: (oid: number) => string | undefined, oid: number): CatalogRelation | undefined {
  const k = keyOf(oid);
  return k === undefined ? undefined : relations.get(k);
}
