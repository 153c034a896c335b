/**
 * What the guard knows about a database: a CatalogSnapshot (src/guard/types.ts) loaded from
 * pg_catalog, and a per-pool cache with a TTL.
 *
 * Guarantees: the snapshot is read in one REPEATABLE READ READ ONLY transaction (consistent);
 * it lists every relation of kinds r, p, v, m, f, S in every schema (pg_catalog and
 * information_schema included); for each view and materialized view `dependsOn` holds every
 * relation it reads, transitively through nested views (the intermediate views included), and
 * `dependsOnFunctions` every function those definitions call; functions cover every schema. The
 * cache loads at most once at a time (single flight) and bumps `version` only when the content
 * changed.
 * Does not: see objects the gateway's login cannot see in pg_catalog (all of it is world
 * readable by default), or notice a change before the TTL expires (call refresh()).
 */
import { createHash } from 'node:crypto';
import type { CatalogFunction, CatalogOperator, CatalogRelation, CatalogSnapshot, CatalogType, CatalogTypeInfo, RelationKind } from '../guard/types.js';
import { GatewayError } from '../errors/gateway-error.js';
import type { DatabasePool } from './pool.js';
import { attachWriteInfo } from './catalog-writes.js';
import { jsonPartsRows, jsonPartsSql } from './json-parts.js';

const KINDS: Record<string, RelationKind> = {
  r: 'table',
  p: 'partitioned_table',
  v: 'view',
  m: 'materialized_view',
  f: 'foreign_table',
  S: 'sequence',
};

const VOLATILITY: Record<string, CatalogFunction['volatility']> = { i: 'immutable', s: 'stable', v: 'volatile' };

interface RelationRow {
  oid: number;
  schema: string;
  name: string;
  kind: string;
  reltuples: number | null;
}

interface DependencyRow {
  view: number;
  ref: number;
  is_function: boolean;
}

interface FunctionRow {
  oid: number;
  schema: string;
  name: string;
  secdef: boolean;
  volatility: string;
  language: string;
  args: string;
  ret: number;
  variadic: boolean;
  defaults: number;
}

interface TypeRow {
  oid: number;
  schema: string;
  name: string;
  kind: string;
  category: string;
  preferred: boolean;
  base: number;
  array: number;
  fields: string | null;
}

const RELATIONS_SQL = `
  SELECT c.oid::int8 AS oid, n.nspname AS schema, c.relname AS name, c.relkind::text AS kind,
         c.reltuples::float8 AS reltuples
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')`;

/**
 * Direct references of each view/materialized view rule. pg_depend does not record references
 * to pinned (built-in) objects such as pg_catalog.pg_authid or pg_read_file(), so the stored
 * rule tree is read as well: every RangeTblEntry carries ":relid", every function call
 * ":funcid" (also aggregates, window functions and operator implementations). The tree scan is
 * limited to views outside pg_catalog/information_schema (system views are system catalogs to
 * the guard anyway, and scanning their large trees costs ~10x the whole load).
 */
const DEPENDENCIES_SQL = `
  WITH rules AS (
    SELECT r.oid, r.ev_class, r.ev_action, n.nspname NOT IN ('pg_catalog', 'information_schema') AS user_view
    FROM pg_rewrite r
    JOIN pg_class v ON v.oid = r.ev_class AND v.relkind IN ('v', 'm')
    JOIN pg_namespace n ON n.oid = v.relnamespace
  )
  SELECT DISTINCT rules.ev_class::int8 AS view, d.refobjid::int8 AS ref,
         d.refclassid = 'pg_proc'::regclass AS is_function
  FROM rules JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = rules.oid
  WHERE d.refclassid IN ('pg_class'::regclass, 'pg_proc'::regclass)
  UNION
  SELECT rules.ev_class::int8, m[2]::int8, m[1] <> 'relid'
  FROM rules, regexp_matches(rules.ev_action::text, ':(relid|funcid|aggfnoid|winfnoid|opfuncid) (\\d+)', 'g') AS m
  WHERE m[2] <> '0' AND rules.user_view`;

const FUNCTIONS_SQL = `
  SELECT p.oid::int8 AS oid, n.nspname AS schema, p.proname AS name, p.prosecdef AS secdef,
         p.provolatile::text AS volatility, l.lanname AS language,
         array_to_string(p.proargtypes::oid[], ',') AS args, p.prorettype::int8 AS ret,
         p.provariadic <> 0 AS variadic, p.pronargdefaults::int AS defaults
  FROM pg_proc p
  JOIN pg_namespace n ON n.oid = p.pronamespace
  JOIN pg_language l ON l.oid = p.prolang`;

/**
 * Columns of user relations, for the masking rewrite (a masked table is read through a
 * projection that lists every column). Run after `set_config('search_path', 'pg_catalog', true)`
 * so format_type qualifies every type outside pg_catalog.
 */
const COLUMNS_SQL = `
  SELECT a.attrelid::int8 AS oid, a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
         a.atttypid::int8 AS type_oid, a.attnum
  FROM pg_catalog.pg_attribute a
  JOIN pg_catalog.pg_class c ON c.oid = a.attrelid AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
  JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE a.attnum > 0 AND NOT a.attisdropped
    AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  ORDER BY a.attrelid, a.attnum`;

/** Direct inheritance / partition parents. */
const INHERITS_SQL = 'SELECT inhrelid::int8 AS child, inhparent::int8 AS parent FROM pg_catalog.pg_inherits';

const SCHEMAS_SQL = 'SELECT nspname AS name FROM pg_namespace';

/**
 * Types (for type-based resolution of operator and function candidates, src/guard/resolve.ts):
 * base = a domain's base type, an array's element type, a range's subtype, a multirange's range.
 */
const TYPES_SQL = `
  SELECT t.oid::int8 AS oid, n.nspname AS schema, t.typname AS name, t.typtype::text AS kind,
         t.typcategory::text AS category, t.typispreferred AS preferred,
         (CASE WHEN t.typtype = 'd' THEN t.typbasetype
               WHEN t.typcategory = 'A' AND t.typsubscript = 'pg_catalog.array_subscript_handler'::regproc THEN t.typelem
               WHEN t.typtype = 'r' THEN (SELECT r.rngsubtype FROM pg_range r WHERE r.rngtypid = t.oid)
               WHEN t.typtype = 'm' THEN (SELECT r.rngtypid FROM pg_range r WHERE r.rngmultitypid = t.oid)
               ELSE 0 END)::int8 AS base,
         t.typarray::int8 AS array,
         (CASE WHEN t.typtype = 'c' THEN (SELECT string_agg(a.atttypid::text, ',') FROM pg_attribute a
                                          WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped) END) AS fields
  FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace`;

const IMPLICIT_CASTS_SQL = `SELECT castsource::int8 AS source, casttarget::int8 AS target FROM pg_cast WHERE castcontext = 'i'`;

const ALL_OPERATORS_SQL = `
  SELECT n.nspname AS schema, o.oprname AS name, o.oprleft::int8 AS "left", o.oprright::int8 AS "right",
         o.oprresult::int8 AS result
  FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace`;

const OPERATORS_SQL = `
  SELECT DISTINCT o.oprname AS name
  FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
  WHERE n.nspname <> 'pg_catalog'`;

/**
 * Every query above in ONE statement (issue #13, start-up): PostgreSQL aggregates each query's
 * rows into JSON arrays (the same values the driver would have produced row by row — numbers,
 * booleans, strings, null) in chunks of at most CHUNK_ROWS rows (json-parts.ts: no text value
 * grows with the catalog), which is a few JSON.parse calls here instead of ~5,000 rows decoded
 * field by field (≈ 35 of the first snapshot's 70 ms of CPU), and one round trip instead of ten:
 * a start that is busy loading modules does not have to come back between queries. Same
 * transaction, same queries, same rows; the columns keep their attnum order (the part's ORDER
 * BY). search_path is pg_catalog (withTrustedRead), so format_type qualifies every other type.
 */
const SNAPSHOT_PARTS = {
  relations: [RELATIONS_SQL, ['oid', 'schema', 'name', 'kind', 'reltuples']],
  dependencies: [DEPENDENCIES_SQL, ['view', 'ref', 'is_function']],
  functions: [FUNCTIONS_SQL, ['oid', 'schema', 'name', 'secdef', 'volatility', 'language', 'args', 'ret', 'variadic', 'defaults']],
  schemas: [SCHEMAS_SQL, ['name']],
  operators: [OPERATORS_SQL, ['name']],
  inherits: [INHERITS_SQL, ['child', 'parent']],
  types: [TYPES_SQL, ['oid', 'schema', 'name', 'kind', 'category', 'preferred', 'base', 'array', 'fields']],
  casts: [IMPLICIT_CASTS_SQL, ['source', 'target']],
  allOperators: [ALL_OPERATORS_SQL, ['schema', 'name', 'left', 'right', 'result']],
  columns: [COLUMNS_SQL, ['oid', 'name', 'type', 'type_oid'], 'q.oid, q.attnum'],
} as const satisfies Record<string, readonly [string, readonly string[], string?]>;
const SNAPSHOT_ENTRIES = Object.entries(SNAPSHOT_PARTS) as [string, readonly [string, readonly string[], string?]][];
const SNAPSHOT_SQL = jsonPartsSql(SNAPSHOT_ENTRIES.map(([, [sql, cols, order]]) => [sql, `pg_catalog.json_build_array(${cols.map((c) => `q."${c}"`).join(', ')})`, order ?? ''] as const));

interface SnapshotRows {
  relations: RelationRow[];
  dependencies: DependencyRow[];
  functions: FunctionRow[];
  schemas: { name: string }[];
  operators: { name: string }[];
  inherits: { child: number; parent: number }[];
  types: TypeRow[];
  casts: { source: number; target: number }[];
  allOperators: CatalogOperator[];
  columns: { oid: number; name: string; type: string; type_oid: number }[];
}

/** Run SNAPSHOT_SQL and return each part's rows as objects keyed by column ([] for an empty part). */
async function readSnapshotRows(client: { query: <R extends object>(sql: string) => Promise<{ rows: R[] }> }): Promise<SnapshotRows> {
  // Two statements, one round trip (the simple protocol; no parameters): the driver answers with
  // one result per statement, the snapshot's last.
  const results = (await client.query<{ part: number; rows: string | null }>(`SELECT pg_catalog.set_config('search_path', 'pg_catalog', true);\n${SNAPSHOT_SQL}`)) as unknown;
  const last = (Array.isArray(results) ? results[results.length - 1] : results) as { rows: { part: number; rows: string | null }[] } | undefined;
  if (last === undefined) throw new Error('catalog snapshot: no result');
  const parts = jsonPartsRows(SNAPSHOT_ENTRIES.length, last.rows);
  const out: Record<string, Record<string, unknown>[]> = {};
  SNAPSHOT_ENTRIES.forEach(([key, [, cols]], i) => {
    out[key] = (parts[i] as unknown[][]).map((values) => {
      const row: Record<string, unknown> = {};
      for (let c = 0; c < cols.length; c++) row[cols[c] as string] = values[c];
      return row;
    });
  });
  return out as unknown as SnapshotRows;
}

function estimatedRows(kind: RelationKind, reltuples: number | null): number {
  if (kind === 'view' || kind === 'sequence' || reltuples === null || reltuples < 0) return -1;
  return Math.round(reltuples);
}

/** Transitive closure of view dependencies (relations and functions), memoized, cycle-safe. */
function closeDependencies(
  direct: Map<number, { relations: Set<number>; functions: Set<number> }>,
): Map<number, { relations: Set<number>; functions: Set<number> }> {
  const done = new Map<number, { relations: Set<number>; functions: Set<number> }>();
  const visit = (view: number, stack: Set<number>): { relations: Set<number>; functions: Set<number> } => {
    const memo = done.get(view);
    if (memo !== undefined) return memo;
    const own = direct.get(view) ?? { relations: new Set<number>(), functions: new Set<number>() };
    const relations = new Set(own.relations);
    const functions = new Set(own.functions);
    stack.add(view);
    for (const ref of own.relations) {
      if (direct.has(ref) && !stack.has(ref)) {
        const sub = visit(ref, stack);
        for (const r of sub.relations) relations.add(r);
        for (const f of sub.functions) functions.add(f);
      }
    }
    stack.delete(view);
    relations.delete(view);
    const result = { relations, functions };
    done.set(view, result);
    return result;
  };
  for (const view of direct.keys()) visit(view, new Set());
  return done;
}

interface SnapshotContent {
  relations: Map<string, CatalogRelation>;
  functions: Map<string, CatalogFunction[]>;
  schemas: Set<string>;
  userOperators: Set<string>;
  typeInfo: CatalogTypeInfo;
}

function oidList(text: string | null | undefined): number[] {
  return text ? text.split(',').filter((x) => x !== '').map(Number) : [];
}

/** Types, implicit casts and every operator, indexed for resolve.ts. */
function buildTypeInfo(typeRows: readonly TypeRow[], castRows: readonly { source: number; target: number }[], opRows: readonly CatalogOperator[]): CatalogTypeInfo {
  const types = new Map<number, CatalogType>();
  const typesByName = new Map<string, CatalogType[]>();
  for (const r of typeRows) {
    const t: CatalogType = { oid: r.oid, schema: r.schema, name: r.name, kind: r.kind, category: r.category, preferred: r.preferred, base: r.base, array: r.array };
    if (r.fields !== null) t.fields = oidList(r.fields);
    types.set(t.oid, t);
    const list = typesByName.get(t.name);
    if (list === undefined) typesByName.set(t.name, [t]);
    else list.push(t);
  }
  const implicitCasts = new Map<number, number[]>();
  for (const c of castRows) {
    const list = implicitCasts.get(c.source);
    if (list === undefined) implicitCasts.set(c.source, [c.target]);
    else list.push(c.target);
  }
  const operators = new Map<string, CatalogOperator[]>();
  for (const o of opRows) {
    const op: CatalogOperator = { schema: o.schema, name: o.name, left: o.left, right: o.right, result: o.result };
    const list = operators.get(o.name);
    if (list === undefined) operators.set(o.name, [op]);
    else list.push(op);
  }
  return { types, typesByName, implicitCasts, operators };
}

async function readCatalog(pool: DatabasePool): Promise<SnapshotContent> {
  return await pool.withTrustedRead(
    async (client) => {
      const all = await readSnapshotRows(client);
      const { relations: relationRows, dependencies: dependencyRows, functions: functionRows, schemas: schemaRows, operators: operatorRows, inherits: inheritRows, columns: columnRows } = all;
      const typeInfo = buildTypeInfo(all.types, all.casts, all.allOperators);

      const relByOid = new Map<number, RelationRow>(relationRows.map((r) => [r.oid, r]));
      const fnByOid = new Map<number, FunctionRow>(functionRows.map((f) => [f.oid, f]));
      const direct = new Map<number, { relations: Set<number>; functions: Set<number> }>();
      for (const row of relationRows) if (row.kind === 'v' || row.kind === 'm') direct.set(row.oid, { relations: new Set(), functions: new Set() });
      for (const dep of dependencyRows) {
        const entry = direct.get(dep.view);
        if (entry === undefined) continue;
        if (dep.is_function) entry.functions.add(dep.ref);
        else if (relByOid.has(dep.ref)) entry.relations.add(dep.ref);
      }
      const closed = closeDependencies(direct);
      const qualifiedRel = (oid: number): string | undefined => {
        const r = relByOid.get(oid);
        return r === undefined ? undefined : `${r.schema}.${r.name}`;
      };
      const qualifiedFn = (oid: number): string | undefined => {
        const f = fnByOid.get(oid);
        return f === undefined ? undefined : `${f.schema}.${f.name}`;
      };

      const relations = new Map<string, CatalogRelation>();
      for (const row of relationRows) {
        const kind = KINDS[row.kind] ?? 'other';
        const relation: CatalogRelation = { schema: row.schema, name: row.name, kind, estimatedRows: estimatedRows(kind, row.reltuples) };
        const deps = closed.get(row.oid);
        if (deps !== undefined) {
          relation.dependsOn = [...deps.relations].map(qualifiedRel).filter((x): x is string => x !== undefined).sort();
          relation.dependsOnFunctions = [...new Set([...deps.functions].map(qualifiedFn).filter((x): x is string => x !== undefined))].sort();
        }
        relations.set(`${row.schema}.${row.name}`, relation);
      }
      attachColumns(relations, relByOid, columnRows, inheritRows);
      await attachWriteInfo(client, relations, qualifiedRel);

      const functions = new Map<string, CatalogFunction[]>();
      for (const row of functionRows) {
        const fn: CatalogFunction = {
          schema: row.schema,
          name: row.name,
          securityDefiner: row.secdef,
          volatility: VOLATILITY[row.volatility] ?? 'volatile',
          language: row.language,
          args: oidList(row.args),
          ret: row.ret,
          variadic: row.variadic,
          defaults: row.defaults,
        };
        const list = functions.get(row.name);
        if (list === undefined) functions.set(row.name, [fn]);
        else list.push(fn);
      }
      return {
        relations,
        functions,
        schemas: new Set(schemaRows.map((s) => s.name)),
        userOperators: new Set(operatorRows.map((o) => o.name)),
        typeInfo,
      };
    },
    { repeatableRead: true, timeoutMs: 30_000 },
  );
}

/** Columns (attnum order) and transitive inheritance ancestors, for the masking rewrite. */
function attachColumns(
  relations: Map<string, CatalogRelation>,
  relByOid: Map<number, RelationRow>,
  columnRows: readonly { oid: number; name: string; type: string; type_oid: number }[],
  inheritRows: readonly { child: number; parent: number }[],
): void {
  const key = (oid: number): string | undefined => {
    const r = relByOid.get(oid);
    return r === undefined ? undefined : `${r.schema}.${r.name}`;
  };
  for (const col of columnRows) {
    const k = key(col.oid);
    const rel = k === undefined ? undefined : relations.get(k);
    if (rel === undefined) continue;
    (rel.columns ??= []).push({ name: col.name, type: col.type, typeOid: col.type_oid });
  }
  const parents = new Map<number, number[]>();
  for (const { child, parent } of inheritRows) {
    const list = parents.get(child);
    if (list === undefined) parents.set(child, [parent]);
    else list.push(parent);
  }
  for (const child of parents.keys()) {
    const seen = new Set<number>();
    const todo = [...(parents.get(child) ?? [])];
    while (todo.length > 0) {
      const p = todo.pop() as number;
      if (seen.has(p) || p === child) continue;
      seen.add(p);
      todo.push(...(parents.get(p) ?? []));
    }
    const k = key(child);
    const rel = k === undefined ? undefined : relations.get(k);
    if (rel !== undefined) rel.ancestors = [...seen].map(key).filter((x): x is string => x !== undefined).sort();
  }
}

/** Load a snapshot with the given version number. */
export async function loadCatalog(pool: DatabasePool, version: number): Promise<CatalogSnapshot> {
  const content = await readCatalog(pool);
  return { ...content, version };
}

/** A stable digest of a snapshot's content (not its version). */
export function catalogDigest(snapshot: Omit<CatalogSnapshot, 'version'>): string {
  const hash = createHash('sha256');
  for (const key of [...snapshot.relations.keys()].sort()) {
    const r = snapshot.relations.get(key) as CatalogRelation;
    hash.update(`R|${key}|${r.kind}|${(r.dependsOn ?? []).join(',')}|${(r.dependsOnFunctions ?? []).join(',')}|${(r.ancestors ?? []).join(',')}\n`);
    if (r.columns !== undefined) hash.update(`C|${JSON.stringify(r.columns)}\n`);
    if (r.write !== undefined) hash.update(`W|${JSON.stringify(r.write)}\n`);
  }
  for (const name of [...snapshot.functions.keys()].sort()) {
    const list = (snapshot.functions.get(name) ?? [])
      .map((f) => `${f.schema}.${f.name}(${(f.args ?? []).join(',')})${f.ret ?? ''}${f.variadic === true ? 'v' : ''}${f.defaults ?? ''}:${String(f.securityDefiner)}:${f.volatility}:${f.language}`)
      .sort();
    hash.update(`F|${list.join(';')}\n`);
  }
  hash.update(`S|${[...snapshot.schemas].sort().join(',')}\n`);
  hash.update(`O|${[...snapshot.userOperators].sort().join(',')}\n`);
  const info = snapshot.typeInfo;
  if (info !== undefined) {
    for (const t of [...info.types.values()].sort((a, b) => a.oid - b.oid)) hash.update(`T|${t.oid}|${t.schema}.${t.name}|${t.kind}${t.category}${t.preferred ? 'p' : ''}|${t.base}|${t.array}|${(t.fields ?? []).join(',')}\n`);
    for (const [src, targets] of [...info.implicitCasts].sort((a, b) => a[0] - b[0])) hash.update(`K|${src}>${[...targets].sort((a, b) => a - b).join(',')}\n`);
    for (const name of [...info.operators.keys()].sort()) {
      hash.update(`P|${(info.operators.get(name) ?? []).map((o) => `${o.schema}.${o.name}(${o.left},${o.right})${o.result}`).sort().join(';')}\n`);
    }
  }
  return hash.digest('hex');
}

export interface CatalogCacheOptions {
  /** guard.catalog_ttl_ms */
  ttlMs: number;
  /** After a failed refresh with a snapshot in hand, retry no sooner than this. Default 1000 ms. */
  retryMs?: number;
  /**
   * refresh() reloads at most this often (a stream of unknown names must not turn into a stream
   * of catalog loads); within the window it returns the current snapshot. Default 1000 ms.
   * refresh({ force: true }) ignores it.
   */
  minRefreshMs?: number;
  /** Called when a refresh fails (the stale snapshot keeps serving). */
  onError?: (err: GatewayError) => void;
  now?: () => number;
}

/**
 * Per-pool cache of the catalog snapshot. get() serves the snapshot while it is younger than
 * the TTL and reloads it otherwise; a failed reload keeps serving the previous snapshot (and
 * retries after retryMs) — with no snapshot yet, it throws.
 */
export class CatalogCache {
  private snapshot: CatalogSnapshot | undefined;
  /** The current snapshot's digest; undefined until a later load needs it (computed lazily). */
  private digest: string | undefined;
  private expiresAt = 0;
  private loadedAt = 0;
  private inFlight: Promise<CatalogSnapshot> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly pool: DatabasePool,
    private readonly options: CatalogCacheOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** The current snapshot without loading (undefined before the first load). */
  peek(): CatalogSnapshot | undefined {
    return this.snapshot;
  }

  async get(): Promise<CatalogSnapshot> {
    if (this.snapshot !== undefined && this.now() < this.expiresAt) return this.snapshot;
    return await this.refresh();
  }

  /** Reload now (joins a reload already in progress; see minRefreshMs). */
  async refresh(options: { force?: boolean } = {}): Promise<CatalogSnapshot> {
    if (this.inFlight !== undefined) return await this.inFlight;
    const minRefreshMs = this.options.minRefreshMs ?? 1_000;
    if (options.force !== true && this.snapshot !== undefined && this.now() - this.loadedAt < minRefreshMs) return this.snapshot;
    this.inFlight = this.load().finally(() => {
      this.inFlight = undefined;
    });
    return await this.inFlight;
  }

  /** A new TTL (guard.catalog_ttl_ms reloaded); applies from the next load. */
  setTtl(ttlMs: number): void {
    this.options.ttlMs = ttlMs;
  }

  /** Make the next get() reload. */
  invalidate(): void {
    this.expiresAt = 0;
  }

  private async load(): Promise<CatalogSnapshot> {
    let content: SnapshotContent;
    try {
      content = await readCatalog(this.pool);
    } catch (err) {
      const gatewayError = err instanceof GatewayError ? err : new GatewayError('INTERNAL_ERROR', undefined, { cause: err });
      if (this.snapshot === undefined) throw gatewayError;
      this.options.onError?.(gatewayError);
      this.expiresAt = this.now() + (this.options.retryMs ?? 1_000);
      return this.snapshot;
    }
    this.loadedAt = this.now();
    if (this.snapshot === undefined) {
      // The first snapshot's digest is computed when the next load compares against it, not
      // now: the first call waits for this load (issue #13, start-up; 30-40 ms cold).
      this.snapshot = { ...content, version: 1 };
      this.digest = undefined;
    } else {
      const previous = this.digest ?? catalogDigest(this.snapshot);
      const digest = catalogDigest(content);
      this.digest = digest;
      if (digest !== previous) this.snapshot = { ...content, version: this.snapshot.version + 1 };
    }
    this.expiresAt = this.now() + this.options.ttlMs;
    return this.snapshot;
  }
}
