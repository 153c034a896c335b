/**
 * Keep the row type of whole-row values across the masked projection (issue #9 item 6).
 *
 * A whole-row reference to a table (`SELECT o FROM app.orders o`, `array_agg(o)`, `pg_typeof(o)`)
 * has the table's composite type; once `o` is the masked projection (a sub-select) it is `record`.
 * Where such a value is an output column or a function argument, this pass replaces the reference
 * by `CASE WHEN o IS DISTINCT FROM NULL THEN CAST(o AS schema.table) END` (a null-extended `o` of
 * an outer join stays NULL, a row of NULLs stays a row), and names the output column `o` as before.
 *
 * Guarantees: only a single-name reference (`o`, or `o.*` as a function argument) that PostgreSQL
 * resolves to a masked projection is replaced: the name is a range alias of that projection, no
 * visible FROM item at this or an outer level has a column of that name, and every visible FROM
 * item's columns are known (a sub-select, function, CTE, join alias or column alias list in scope
 * leaves the reference alone); and only when every mask of the table keeps its column's type
 * (`null`, or a text mask on a text/varchar/char column), so the cast cannot fail.
 * Does not: change whole-row values elsewhere (inside CASE, COALESCE, casts: they stay `record`,
 * with the same text and JSON forms), or anything in a write statement.
 */
import { parseSync } from 'libpg-query';
import type { Budget } from '../guard/ast/budget.js';
import { unwrapNode } from '../guard/ast/node.js';
import { descendRaw, THROW_ON_REFUSE, traverse, visitorTable, type NodeVisit, type Scope, type Visitor } from '../guard/ast/traverse.js';
import { resolveRelation } from '../guard/relations.js';
import type { CatalogSnapshot } from '../guard/types.js';
import type { ProjectionSite } from './grouping.js';
import { quoteIdent, stringTypeCast } from './masks.js';

type Body = Record<string, unknown>;

interface Entry {
  alias: string;
  /** Column names; undefined: not known here (the reference is then left alone). */
  columns: ReadonlySet<string> | undefined;
  site?: ProjectionSite;
}

interface WholeRowPass {
  catalog: CatalogSnapshot;
  searchPath: readonly string[];
  byNode: ReadonlyMap<Body, ProjectionSite>;
  cteNames: ReadonlySet<string>;
  /** FROM entries of each query level (the Scope objects this pass creates). */
  levels: WeakMap<Scope, readonly Entry[]>;
}

type Visit = NodeVisit<WholeRowPass>;

/** Whether a whole-row value of the projection can be cast to the table's row type. */
function typePreserved(site: ProjectionSite): boolean {
  for (const c of site.rm.columns) {
    const m = site.rm.masks.get(c.name);
    if (m !== undefined && m.spec.mask !== 'null' && stringTypeCast(c.type) === undefined) return false;
  }
  return true;
}

function aliasOf(b: Body): { name: string | undefined; renamed: boolean } {
  const a = b.alias as { aliasname?: string; colnames?: unknown[] } | undefined;
  return { name: a?.aliasname, renamed: Array.isArray(a?.colnames) && a.colnames.length > 0 };
}

/** The FROM entries of one range item (through JOIN trees). */
function entries(p: WholeRowPass, item: unknown, into: Entry[]): void {
  const w = unwrapNode(item);
  if (w === undefined) return;
  const [t, b] = w;
  const { name, renamed } = aliasOf(b);
  if (t === 'JoinExpr') {
    if (name !== undefined) into.push({ alias: name, columns: undefined });
    else {
      entries(p, b.larg, into);
      entries(p, b.rarg, into);
    }
    return;
  }
  const site = t === 'RangeSubselect' ? p.byNode.get(b) : undefined;
  if (site !== undefined) {
    into.push({ alias: site.alias, columns: renamed ? undefined : new Set(site.rm.columns.map((c) => c.name)), site });
    return;
  }
  if (t === 'RangeVar') {
    const relname = (b.relname as string | undefined) ?? '';
    const schema = b.schemaname as string | undefined;
    const cte = schema === undefined && p.cteNames.has(relname);
    const r = cte ? undefined : resolveRelation(schema !== undefined ? [schema, relname] : [relname], p.catalog, p.searchPath);
    const cols = r?.schema !== undefined ? p.catalog.relations.get(`${r.schema}.${r.name}`)?.columns : undefined;
    into.push({ alias: name ?? relname, columns: cols === undefined || renamed ? undefined : new Set(cols.map((c) => c.name)) });
    return;
  }
  // a sub-select, function, table function, sample, JSON_TABLE: columns not known here
  into.push({ alias: name ?? '', columns: undefined });
}

/** The masked projection a single name refers to as a whole row, when that is certain. */
function wholeRowSite(p: WholeRowPass, scope: Scope | undefined, name: string): ProjectionSite | undefined {
  // PostgreSQL: a column of that name at any visible level wins over a relation of that name
  for (let s = scope; s; s = s.parent) {
    for (const e of p.levels.get(s) ?? []) if (e.columns === undefined || e.columns.has(name)) return undefined;
  }
  for (let s = scope; s; s = s.parent) {
    const hit = (p.levels.get(s) ?? []).find((e) => e.alias === name);
    if (hit !== undefined) return hit.site !== undefined && typePreserved(hit.site) ? hit.site : undefined;
  }
  return undefined;
}

/** `CASE WHEN o IS DISTINCT FROM NULL THEN CAST(o AS schema.table) END` as a parse node. */
function typedRow(site: ProjectionSite): unknown {
  const a = quoteIdent(site.alias);
  const sql = `SELECT CASE WHEN ${a} IS DISTINCT FROM NULL THEN CAST(${a} AS ${quoteIdent(site.rm.schema)}.${quoteIdent(site.rm.name)}) END`;
  const parsed = parseSync(sql) as { stmts: { stmt: { SelectStmt: { targetList: { ResTarget: { val: unknown } }[] } } }[] };
  const val = parsed.stmts[0]?.stmt.SelectStmt.targetList[0]?.ResTarget.val;
  if (val === undefined) throw new Error('whole-row cast did not parse');
  return val;
}

/** The single name of a whole-row candidate: `o` (or `o.*` where `star` is allowed). */
function candidate(node: unknown, star: boolean): string | undefined {
  const w = unwrapNode(node);
  if (w?.[0] !== 'ColumnRef') return undefined;
  const fields = Array.isArray(w[1].fields) ? w[1].fields : [];
  const first = unwrapNode(fields[0]);
  if (first?.[0] !== 'String' || typeof first[1].sval !== 'string') return undefined;
  if (fields.length === 1) return first[1].sval;
  if (star && fields.length === 2 && unwrapNode(fields[1])?.[0] === 'A_Star') return first[1].sval;
  return undefined;
}

function selectStmt(n: Visit): void {
  const b = n.body;
  const from = Array.isArray(b.fromClause) ? b.fromClause : [];
  const level: Entry[] = [];
  for (const item of from) entries(n.state, item, level);
  const outer = n.scope;
  const scope: Scope = { names: level.map((e) => e.alias), parent: outer };
  n.state.levels.set(scope, level);
  n.scope = scope;
  // FROM items see the outer levels only, unless one is LATERAL (then they see this level: safe side)
  if (!JSON.stringify(from).includes('"lateral":true')) {
    n.push(from, '', outer, n.flags);
    n.skip1 = 'fromClause';
  }
}

/** A write: its levels are not modelled, so nothing below it is replaced. */
function dmlStmt(n: Visit): void {
  const scope: Scope = { names: [], parent: n.scope };
  n.state.levels.set(scope, [{ alias: '', columns: undefined }]);
  n.scope = scope;
}

function resTarget(n: Visit): void {
  const name = candidate(n.body.val, false);
  if (name === undefined) return;
  const site = wholeRowSite(n.state, n.scope, name);
  if (site === undefined) return;
  n.body.val = typedRow(site);
  if (n.body.name === undefined) n.body.name = name;
}

function funcCall(n: Visit): void {
  const args = n.body.args;
  if (!Array.isArray(args)) return;
  for (let i = 0; i < args.length; i++) {
    const name = candidate(args[i], true);
    const site = name === undefined ? undefined : wholeRowSite(n.state, n.scope, name);
    if (site !== undefined) args[i] = typedRow(site);
  }
}

const WHOLE_ROW_VISITOR: Visitor<WholeRowPass> = {
  table: visitorTable<WholeRowPass>(descendRaw(), {
    SelectStmt: selectStmt,
    InsertStmt: dmlStmt,
    UpdateStmt: dmlStmt,
    DeleteStmt: dmlStmt,
    MergeStmt: dmlStmt,
    ResTarget: resTarget,
    FuncCall: funcCall,
  }),
  inherit: 0,
  listInherit: 0,
  ...THROW_ON_REFUSE,
};

/** Replace whole-row references of masked projections (see the module header). Mutates `tree`. */
export function keepWholeRowTypes(tree: unknown, sites: readonly ProjectionSite[], catalog: CatalogSnapshot, searchPath: readonly string[], budget: Budget): void {
  if (sites.length === 0) return;
  const text = JSON.stringify(tree);
  const cteNames = new Set([...text.matchAll(/"ctename":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1] as string}"`) as string));
  const pass: WholeRowPass = { catalog, searchPath, byNode: new Map(sites.map((s) => [s.node, s])), cteNames, levels: new WeakMap() };
  traverse(tree, WHOLE_ROW_VISITOR, pass, budget);
}
