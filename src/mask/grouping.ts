/**
 * Keep GROUP BY meaning across the masked projection (issue #9 item 6).
 *
 * PostgreSQL lets `SELECT c.full_name … GROUP BY c.id` through because c.id is the primary key of
 * the base table c (functional dependency). Once c is the masked projection (a sub-select), that
 * dependency is gone and the statement fails with 42803. Grouping by the primary key puts exactly
 * one row of c in each group, so grouping additionally by c's other columns forms the same groups:
 * this module appends them (qualified by the sub-select's alias) to such GROUP BY clauses.
 *
 * PostgreSQL's rule (parse_agg.c, parseCheckAggregates → check_functional_grouping; measured the
 * same on 15 and 18): the dependency counts when every primary-key column is a plain column
 * reference among the grouping items common to EVERY grouping set of the expanded clause (the
 * intersection; ROLLUP and CUBE always include the empty set). `GROUP BY c.id, ROLLUP(x)`,
 * `GROUPING SETS ((c.id), (c.id, x))` and `GROUP BY DISTINCT …` keep it, `ROLLUP(c.id)` does not.
 * Appended columns become plain items, so they are in every set: never nulled by a set, as an
 * ungrouped functionally dependent column is not on M.
 *
 * Guarantees: a GROUP BY is extended only when every primary-key column of a masked projection is
 * unmasked (a masked key value no longer identifies a row) and common to all grouping sets — named
 * `alias.col` (the alias's column names count), a bare `col` that PostgreSQL resolves to it (a FROM
 * column of this level first, only when exactly one FROM column has that name and every FROM item's
 * columns are known; then an output name whose target is such a column), or an ordinal naming such
 * a target, `*` expanded (src/mask/fromcols.ts); only with columns whose type has a built-in equality. With grouping sets, a column that is
 * itself a grouping item of some set (by its name, conservative) is never appended (appending
 * would stop it being nulled in the sets without it). Returns, per SELECT, the projections all of
 * whose columns are now grouped (src/mask/wholerow.ts builds their whole-row values from the
 * grouped columns).
 * The pass is a visitor of the traversal core (one budget with the rest of the rewrite).
 * Does not: change anything else; run anything.
 */
import type { Budget } from '../guard/ast/budget.js';
import { unwrapNode } from '../guard/ast/node.js';
import { descendRaw, THROW_ON_REFUSE, traverse, visitorTable, type Visitor } from '../guard/ast/traverse.js';
import { fromScope, inputColumn, visibleColumns, type FromScope, type NameContext, type ProjectionSite } from './fromcols.js';

export { visibleColumns, type ProjectionSite } from './fromcols.js';

type Body = Record<string, unknown>;

/** SELECT bodies → the projections whose every column is grouped there (by this pass or the query). */
export type FullyGrouped = Map<Body, Set<Body>>;

/** Built-in types with a default btree/hash equality (format_type spelling, typmods stripped). */
const GROUPABLE = new Set([
  'smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision', 'money', 'text', 'character varying', 'character', 'name',
  'boolean', 'date', 'timestamp without time zone', 'timestamp with time zone', 'time without time zone', 'time with time zone',
  'interval', 'uuid', 'bytea', 'jsonb', 'inet', 'cidr', 'macaddr', 'macaddr8', 'oid', 'bit', 'bit varying', '"char"',
]);

function groupable(type: string): boolean {
  const base = type.replace(/\(.*?\)/g, '').replace(/\[\]$/, '').trim();
  return GROUPABLE.has(base);
}

const wrapped = unwrapNode;

function names(ref: Body): string[] | undefined {
  const fields = Array.isArray(ref.fields) ? ref.fields : [];
  const out: string[] = [];
  for (const f of fields) {
    const w = wrapped(f);
    if (w?.[0] !== 'String' || typeof w[1].sval !== 'string') return undefined;
    out.push(w[1].sval);
  }
  return out;
}

/** The range items of a FROM list, through JOIN trees. */
function rangeItems(from: unknown, into: Body[]): void {
  for (const item of Array.isArray(from) ? from : [from]) {
    const w = wrapped(item);
    if (w === undefined) continue;
    if (w[0] === 'JoinExpr') rangeItems([w[1].larg, w[1].rarg], into);
    else into.push(w[1]);
  }
}

const isImplicitRow = (w: [string, Body] | undefined): boolean => w?.[0] === 'RowExpr' && w[1].row_format === 'COERCE_IMPLICIT_CAST';

/**
 * The keys of the grouping items common to every grouping set of `items` (PostgreSQL's
 * flatten_grouping_sets and expand_grouping_sets, intersected): plain items and the members of
 * implicit row constructors count, ROLLUP / CUBE / () contribute nothing, GROUPING SETS the
 * intersection of their members. `key` names an item (the same column → the same key).
 */
function commonItems(items: readonly unknown[], key: (item: unknown) => string): Set<string> {
  const out = new Set<string>();
  for (const item of items) for (const x of commonOf(item, key)) out.add(x);
  return out;
}

function commonOf(item: unknown, key: (item: unknown) => string): Set<string> {
  const w = wrapped(item);
  if (isImplicitRow(w)) return commonItems(Array.isArray(w?.[1].args) ? w[1].args : [], key);
  if (w?.[0] !== 'GroupingSet') return new Set([key(item)]);
  if (w[1].kind !== 'GROUPING_SET_SETS') return new Set();
  const content = Array.isArray(w[1].content) ? w[1].content : [];
  let acc: Set<string> | undefined;
  for (const member of content) {
    const m = commonOf(member, key);
    acc = acc === undefined ? m : new Set([...acc].filter((x) => m.has(x)));
  }
  return acc ?? new Set();
}

/** Every grouping item of any set (members of grouping sets and implicit rows, flattened). */
function allItems(items: readonly unknown[], into: unknown[]): void {
  for (const item of items) {
    const w = wrapped(item);
    if (isImplicitRow(w)) allItems(Array.isArray(w?.[1].args) ? w[1].args : [], into);
    else if (w?.[0] === 'GroupingSet') allItems(Array.isArray(w[1].content) ? w[1].content : [], into);
    else into.push(item);
  }
}

/** What a grouping item names: a key (`alias\0col` for a masked projection's column), and the column names it may be (conservative). */
interface Named {
  key: string | undefined;
  names: string[];
}

const OPAQUE: Named = { key: undefined, names: [] };

/** A column reference in this SELECT's expressions (a bare name is an input column only). */
function refNamed(fields: string[], scope: FromScope): Named {
  const last = fields.at(-1) ?? '';
  if (fields.length !== 1) return { key: fields.join('\u0000'), names: [last] };
  const c = inputColumn(scope, last);
  return { key: typeof c === 'object' && c.site !== undefined ? `${c.site.alias}\u0000${c.name}` : undefined, names: [last] };
}

function fromColumnNamed(c: { name: string; site?: ProjectionSite }): Named {
  return { key: c.site !== undefined ? `${c.site.alias}\u0000${c.name}` : undefined, names: [c.name] };
}

/** The target an ordinal points at, `*` expanded against the FROM scope; 'unsure' where that is not known. */
function ordinalNamed(k: number, targets: readonly unknown[], scope: FromScope): Named | 'unsure' {
  let pos = 0;
  for (const t of targets) {
    const v = wrapped((wrapped(t)?.[1] as Body | undefined)?.val);
    const fields = v?.[0] === 'ColumnRef' && Array.isArray(v[1].fields) ? v[1].fields : [];
    if (wrapped(fields.at(-1))?.[0] === 'A_Star') {
      const qual = fields.length === 2 ? names({ fields: fields.slice(0, 1) }) : fields.length === 1 ? [] : undefined;
      const cols = qual === undefined ? undefined : qual.length === 0 ? scope.all : scope.byAlias.get(qual[0] as string);
      if (cols === undefined) return 'unsure';
      if (k - pos <= cols.length) return fromColumnNamed(cols[k - pos - 1] as { name: string });
      pos += cols.length;
      continue;
    }
    pos += 1;
    if (pos < k) continue;
    const ref = v?.[0] === 'ColumnRef' ? names(v[1]) : undefined;
    return ref === undefined ? OPAQUE : refNamed(ref, scope);
  }
  return OPAQUE; // out of range: fails on M as well
}

/**
 * What a GROUP BY item names, as PostgreSQL resolves it (parse_clause.c findTargetlistEntrySQL92):
 * an ordinal is a target (after `*` expansion); a bare name is a FROM column of this level first,
 * then an output name (an ambiguous one fails on M as well); anything else is an expression.
 */
function itemNamed(item: unknown, targets: readonly unknown[], scope: FromScope): Named | 'unsure' {
  const w = wrapped(item);
  if (w?.[0] === 'A_Const' && w[1].ival !== undefined) {
    const k = Number((w[1].ival as { ival?: unknown }).ival ?? 0);
    return Number.isInteger(k) && k >= 1 ? ordinalNamed(k, targets, scope) : OPAQUE;
  }
  if (w?.[0] !== 'ColumnRef') return OPAQUE;
  const fields = names(w[1]);
  if (fields === undefined) return OPAQUE;
  if (fields.length !== 1) return refNamed(fields, scope);
  const name = fields[0] as string;
  const input = inputColumn(scope, name);
  if (input !== 'none') return typeof input === 'object' ? fromColumnNamed(input) : { key: undefined, names: [name, ...outputNames(name, targets)] };
  for (const t of targets) {
    const rt = wrapped(t)?.[1] as Body | undefined;
    const v = wrapped(rt?.val);
    const ref = v?.[0] === 'ColumnRef' ? names(v[1]) : undefined;
    if (rt?.name !== name && (rt?.name !== undefined || ref?.at(-1) !== name)) continue;
    if (ref === undefined) return { key: undefined, names: [name] };
    const r = refNamed(ref, scope);
    return { key: r.key, names: [name, ...r.names] };
  }
  return { key: undefined, names: [name] };
}

/** The last names of the column references among the targets named `name` (conservative). */
function outputNames(name: string, targets: readonly unknown[]): string[] {
  const out: string[] = [];
  for (const t of targets) {
    const rt = wrapped(t)?.[1] as Body | undefined;
    const v = wrapped(rt?.val);
    if (rt?.name === name && v?.[0] === 'ColumnRef') out.push(names(v[1])?.at(-1) ?? '');
  }
  return out;
}

interface Ctx {
  names: NameContext;
  byNode: ReadonlyMap<Body, ProjectionSite>;
  full: FullyGrouped;
}

/** The GROUP BY pass: every SELECT of the rewritten tree (projections included) is looked at. */
const GROUPING_VISITOR: Visitor<Ctx> = {
  table: visitorTable<Ctx>(descendRaw(), {
    SelectStmt: (n) => extend(n.body, n.state),
  }),
  inherit: 0,
  listInherit: 0,
  ...THROW_ON_REFUSE,
};

/**
 * Extend GROUP BY clauses over masked projections (see the module header). Mutates `tree` (appends
 * to GROUP BY lists only). Spends `budget`. Returns the projections fully grouped per SELECT.
 */
export function keepGroupingDependencies(
  tree: unknown,
  sites: readonly ProjectionSite[],
  names: Pick<NameContext, 'catalog' | 'searchPath'>,
  budget: Budget,
): FullyGrouped {
  const full: FullyGrouped = new Map();
  if (sites.length === 0) return full;
  const byNode = new Map<Body, ProjectionSite>(sites.map((s) => [s.node, s]));
  const text = JSON.stringify(tree);
  const cteNames = new Set([...text.matchAll(/"ctename":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1] as string}"`) as string));
  traverse(tree, GROUPING_VISITOR, { names: { ...names, cteNames, byNode }, byNode, full }, budget);
  return full;
}

function extend(select: Body, ctx: Ctx): void {
  const group = select.groupClause;
  if (!Array.isArray(group) || group.length === 0) return;
  const targets = Array.isArray(select.targetList) ? select.targetList : [];
  const items: Body[] = [];
  rangeItems(select.fromClause, items);
  const scope = fromScope(ctx.names, select);
  let unsure = false;
  let unique = 0;
  const named = (item: unknown): Named | undefined => {
    const r = itemNamed(item, targets, scope);
    if (r === 'unsure') unsure = true;
    return r === 'unsure' ? undefined : r;
  };
  const common = commonItems(group, (item) => named(item)?.key ?? `#${unique++}`);
  const every: unknown[] = [];
  allItems(group, every);
  const sets = JSON.stringify(group).includes('"GroupingSet"');
  // with grouping sets: the names of every column that may be a grouping item of some set
  const inSomeSet = new Set<string>();
  for (const item of every) for (const n of named(item)?.names ?? []) inSomeSet.add(n);
  if (unsure) return;
  for (const item of items) {
    const site = ctx.byNode.get(item);
    // a masked key column no longer tells rows apart (redact, partial … map many keys to one value)
    if (site === undefined || site.primaryKey.length === 0 || site.primaryKey.some((pk) => site.rm.masks.has(pk))) continue;
    const visible = visibleColumns(site);
    const grouped = (col: string): boolean => common.has(`${site.alias}\u0000${col}`);
    const byName = new Map(site.rm.columns.map((c, i) => [c.name, visible[i] ?? c.name]));
    if (!site.primaryKey.every((pk) => grouped(byName.get(pk) ?? `\u0000${pk}`))) continue;
    let complete = true;
    site.rm.columns.forEach((c, i) => {
      const name = visible[i] ?? c.name;
      if (grouped(name)) return;
      const type = site.rm.masks.has(c.name) && site.rm.masks.get(c.name)?.spec.mask !== 'null' ? 'text' : c.type;
      if (name.startsWith('\u0000') || !groupable(type) || (sets && inSomeSet.has(name))) {
        complete = false;
        return;
      }
      group.push({ ColumnRef: { fields: [{ String: { sval: site.alias } }, { String: { sval: name } }] } });
    });
    if (!complete) continue;
    const set = ctx.full.get(select) ?? new Set<Body>();
    set.add(site.node);
    ctx.full.set(select, set);
  }
}
