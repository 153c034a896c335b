/**
 * The columns a SELECT's FROM list exposes, in order, as PostgreSQL's name lookup sees them
 * (issue #9 item 6): used by src/mask/grouping.ts to resolve GROUP BY items — a bare name, an
 * output name, an ordinal after `*` — to a masked projection's column exactly as PostgreSQL would,
 * or to say it cannot.
 *
 * Model (parse_relation.c colNameToVar, expandNSItemAttrs; parse_clause.c transformJoinUsingClause):
 * a FROM item's columns are a table's catalog columns (under an alias column list), a plain
 * sub-select's target names, a masked projection's visible columns; a JOIN's are its USING / NATURAL
 * merged columns, then the left input's others, then the right's (the inputs' own columns are not
 * visible unqualified; a JOIN alias hides the inputs' names). Anything else — a function, table
 * function, CTE, sample, VALUES, a sub-select with `*` or unnamed expressions, a JOIN alias column
 * list — is unknown (undefined), and so is every bare name at a level that has an unknown item.
 * Merged USING / NATURAL columns never count as a masked projection's column (for a FULL join they
 * are a COALESCE).
 * Does not: look at outer query levels (a GROUP BY bare name prefers local FROM columns, then output
 * names; outer columns are never a masked projection of this level).
 */
import { unwrapNode } from '../guard/ast/node.js';
import { resolveRelation } from '../guard/relations.js';
import type { CatalogSnapshot } from '../guard/types.js';
import type { RelationMasks } from './masks.js';

type Body = Record<string, unknown>;

export interface ProjectionSite {
  /** The RangeSubselect body the rewrite created. */
  node: Body;
  alias: string;
  rm: RelationMasks;
  primaryKey: readonly string[];
}

/** The column names of a projection as the query sees them (an alias column list renames the first ones). */
export function visibleColumns(site: ProjectionSite): string[] {
  const alias = site.node.alias as { colnames?: unknown[] } | undefined;
  const renamed = (Array.isArray(alias?.colnames) ? alias.colnames : []).map((c) => {
    const w = unwrapNode(c);
    return w?.[0] === 'String' && typeof w[1].sval === 'string' ? w[1].sval : undefined;
  });
  return site.rm.columns.map((c, i) => (i < renamed.length ? (renamed[i] ?? `\u0000${c.name}`) : c.name));
}


export interface FromColumn {
  name: string;
  /** Set when the column is a plain column of a masked projection (`site.alias`.`name`). */
  site?: ProjectionSite;
}

/** Columns in order; undefined: not known. */
export type Columns = readonly FromColumn[] | undefined;

export interface FromScope {
  /** Every top-level item's columns, concatenated (what `*` expands to); undefined if any is unknown. */
  all: Columns;
  /** Range names visible for qualification → their columns. */
  byAlias: ReadonlyMap<string, Columns>;
}

export interface NameContext {
  catalog: CatalogSnapshot;
  searchPath: readonly string[];
  cteNames: ReadonlySet<string>;
  byNode: ReadonlyMap<Body, ProjectionSite>;
}

function str(n: unknown): string | undefined {
  const w = unwrapNode(n);
  return w?.[0] === 'String' && typeof w[1].sval === 'string' ? w[1].sval : undefined;
}

/** Names under an alias column list (`t(a, b)` renames the first ones); undefined: unsure. */
function renamed(b: Body, cols: readonly FromColumn[]): Columns {
  const list = (b.alias as { colnames?: unknown[] } | undefined)?.colnames;
  if (!Array.isArray(list) || list.length === 0) return cols;
  const names = list.map(str);
  if (names.some((n) => n === undefined) || names.length > cols.length) return undefined;
  return cols.map((c, i) => (i < names.length ? { name: names[i] as string } : c));
}

/** The output names of a plain sub-select whose targets are all named or plain column references. */
export function subselectColumns(subquery: unknown): string[] | undefined {
  const w = unwrapNode(subquery);
  if (w?.[0] !== 'SelectStmt' || (w[1].op !== undefined && w[1].op !== 'SETOP_NONE') || !Array.isArray(w[1].targetList)) return undefined;
  const out: string[] = [];
  for (const t of w[1].targetList) {
    const rt = unwrapNode(t)?.[1];
    if (typeof rt?.name === 'string') {
      out.push(rt.name);
      continue;
    }
    const ref = unwrapNode(rt?.val);
    const last = ref?.[0] === 'ColumnRef' && Array.isArray(ref[1].fields) ? str(ref[1].fields.at(-1)) : undefined;
    if (last === undefined) return undefined;
    out.push(last);
  }
  return out;
}

function joinColumns(b: Body, l: Columns, r: Columns): Columns {
  if (l === undefined || r === undefined) return undefined;
  const using = Array.isArray(b.usingClause) ? b.usingClause.map(str) : [];
  if (using.some((n) => n === undefined)) return undefined;
  const merged = b.isNatural === true ? l.map((c) => c.name).filter((n) => r.some((x) => x.name === n)) : (using as string[]);
  const m = new Set(merged);
  return [...merged.map((name) => ({ name })), ...l.filter((c) => !m.has(c.name)), ...r.filter((c) => !m.has(c.name))];
}

function itemColumns(ctx: NameContext, item: unknown, byAlias: Map<string, Columns>): Columns {
  const w = unwrapNode(item);
  if (w === undefined) return undefined;
  const [t, b] = w;
  const alias = (b.alias as { aliasname?: string } | undefined)?.aliasname;
  if (t === 'JoinExpr') {
    const inner = alias === undefined ? byAlias : new Map<string, Columns>();
    const cols = joinColumns(b, itemColumns(ctx, b.larg, inner), itemColumns(ctx, b.rarg, inner));
    // a JOIN alias hides the inputs' names: their columns are no longer `site.alias`.`col`
    const out = cols === undefined ? undefined : renamed(b, alias === undefined ? cols : cols.map((c) => ({ name: c.name })));
    if (alias !== undefined) byAlias.set(alias, out);
    return out;
  }
  const site = t === 'RangeSubselect' ? ctx.byNode.get(b) : undefined;
  let cols: Columns;
  let name = alias;
  if (site !== undefined) {
    cols = visibleColumns(site).map((n) => ({ name: n, site }));
    name = site.alias;
  } else if (t === 'RangeVar') {
    const relname = (b.relname as string | undefined) ?? '';
    const schema = b.schemaname as string | undefined;
    name = alias ?? relname;
    const r = schema === undefined && ctx.cteNames.has(relname) ? undefined : resolveRelation(schema !== undefined ? [schema, relname] : [relname], ctx.catalog, ctx.searchPath);
    const known = r?.schema !== undefined ? ctx.catalog.relations.get(`${r.schema}.${r.name}`)?.columns : undefined;
    cols = known === undefined ? undefined : renamed(b, known.map((c) => ({ name: c.name })));
  } else if (t === 'RangeSubselect') {
    const names = subselectColumns(b.subquery);
    cols = names === undefined ? undefined : renamed(b, names.map((n) => ({ name: n })));
  }
  if (name !== undefined) byAlias.set(name, cols);
  return cols;
}

/** The FROM scope of one SELECT body (see the module header). */
export function fromScope(ctx: NameContext, select: Body): FromScope {
  const byAlias = new Map<string, Columns>();
  const from = Array.isArray(select.fromClause) ? select.fromClause : [];
  let all: FromColumn[] | undefined = [];
  for (const item of from) {
    const cols = itemColumns(ctx, item, byAlias);
    all = cols === undefined || all === undefined ? undefined : [...all, ...cols];
  }
  return { all, byAlias };
}

/**
 * What a bare column name means as an input column of this level: the FROM column it names,
 * 'none' (no local column: an output name, an outer column or an error), or 'unsure' (an unknown
 * FROM item, a system column name, or ambiguous — which fails on M as well).
 */
export function inputColumn(scope: FromScope, name: string): FromColumn | 'none' | 'unsure' {
  if (scope.all === undefined || SYSTEM.has(name)) return 'unsure';
  const hits = scope.all.filter((c) => c.name === name);
  if (hits.length > 1) return 'unsure';
  return hits[0] ?? 'none';
}

const SYSTEM = new Set(['tableoid', 'ctid', 'xmin', 'xmax', 'cmin', 'cmax']);
