/**
 * Keep GROUP BY meaning across the masked projection (issue #9 item 6).
 *
 * PostgreSQL lets `SELECT c.full_name … GROUP BY c.id` through because c.id is the primary key of
 * the base table c (functional dependency). Once c is the masked projection (a sub-select), that
 * dependency is gone and the statement fails with 42803. Grouping by the primary key puts exactly
 * one row of c in each group, so grouping additionally by c's other columns forms the same groups:
 * this module appends them (qualified by the sub-select's alias) to such GROUP BY lists.
 *
 * Guarantees: only plain GROUP BY lists (no GROUPING SETS / ROLLUP / CUBE, no GROUP BY DISTINCT)
 * that name every primary-key column of a masked projection — as `alias.col`, or as `col` when the
 * projection is the query's only FROM item — are extended, and only with columns whose type has a
 * built-in equality (others stay out: referencing them ungrouped still fails, as before).
 * The pass is a visitor of the traversal core (one budget with the rest of the rewrite).
 * Does not: change anything else; run anything.
 */
import type { Budget } from '../guard/ast/budget.js';
import { unwrapNode } from '../guard/ast/node.js';
import { descendRaw, THROW_ON_REFUSE, traverse, visitorTable, type Visitor } from '../guard/ast/traverse.js';
import type { RelationMasks } from './masks.js';

type Body = Record<string, unknown>;

export interface ProjectionSite {
  /** The RangeSubselect body the rewrite created. */
  node: Body;
  alias: string;
  rm: RelationMasks;
  primaryKey: readonly string[];
}

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

/** The GROUP BY pass: every SELECT of the rewritten tree (projections included) is looked at. */
const GROUPING_VISITOR: Visitor<ReadonlyMap<Body, ProjectionSite>> = {
  table: visitorTable<ReadonlyMap<Body, ProjectionSite>>(descendRaw(), {
    SelectStmt: (n) => extend(n.body, n.state),
  }),
  inherit: 0,
  listInherit: 0,
  ...THROW_ON_REFUSE,
};

/**
 * Extend GROUP BY lists over masked projections (see the module header). Mutates `tree` (appends
 * to GROUP BY lists only). Spends `budget`.
 */
export function keepGroupingDependencies(tree: unknown, sites: readonly ProjectionSite[], budget: Budget): void {
  if (sites.length === 0) return;
  traverse(tree, GROUPING_VISITOR, new Map<Body, ProjectionSite>(sites.map((s) => [s.node, s])), budget);
}

function extend(select: Body, byNode: ReadonlyMap<Body, ProjectionSite>): void {
  const group = select.groupClause;
  if (!Array.isArray(group) || group.length === 0 || select.groupDistinct === true) return;
  const refs: string[][] = [];
  for (const g of group) {
    const w = wrapped(g);
    if (w === undefined || w[0] === 'GroupingSet') return;
    if (w[0] === 'ColumnRef') {
      const n = names(w[1]);
      if (n !== undefined) refs.push(n);
    }
  }
  const items: Body[] = [];
  rangeItems(select.fromClause, items);
  for (const item of items) {
    const site = byNode.get(item);
    if (site === undefined || site.primaryKey.length === 0) continue;
    const only = items.length === 1;
    const grouped = (col: string): boolean => refs.some((r) => (r.length === 2 && r[0] === site.alias && r[1] === col) || (only && r.length === 1 && r[0] === col));
    if (!site.primaryKey.every(grouped)) continue;
    for (const c of site.rm.columns) {
      if (grouped(c.name) || !groupable(site.rm.masks.has(c.name) && site.rm.masks.get(c.name)?.spec.mask !== 'null' ? 'text' : c.type)) continue;
      group.push({ ColumnRef: { fields: [{ String: { sval: site.alias } }, { String: { sval: c.name } }] } });
    }
  }
}
