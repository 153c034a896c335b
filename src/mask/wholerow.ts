/**
 * Keep the row type of whole-row values across the masked projection (issue #9 item 6).
 *
 * A whole-row reference to a table (`SELECT o FROM app.orders o`, `array_agg(o)`, `COALESCE(o, …)`,
 * `CASE … THEN o END`, `o IS DISTINCT FROM x`) has the table's composite type; once `o` is the
 * masked projection (a sub-select) it is `record`. This pass replaces such a reference, in every
 * expression position, by `CASE WHEN o IS DISTINCT FROM NULL THEN CAST(o AS schema.table) END` (a
 * null-extended `o` of an outer join stays NULL, a row of NULLs stays a row), and names an output
 * column `o` as before. Where the SELECT that owns `o` groups by the table's primary key and every
 * other column of `o` is grouped (src/mask/grouping.ts), the reference is built from the grouped
 * columns instead — `CASE WHEN o.pk IS NOT NULL THEN CAST(ROW(o.c1, …) AS schema.table) END` —
 * since PostgreSQL accepts a whole-row value there on the base table (functional dependency) but
 * not on a sub-select; a primary-key column is never NULL in a real row, and no mask but `null`
 * makes a non-NULL value NULL (the form is used only when the key's first column is not
 * `null`-masked).
 *
 * Guarantees: only a single-name reference (`o`, and `o.*` as a function argument) that
 * PostgreSQL resolves to a masked projection is replaced, modelling its name lookup: a column of
 * that name at any visible level wins; then the nearest visible range alias. Visible: the SELECT's
 * FROM items for its target list, WHERE, GROUP BY, HAVING, ORDER BY and sub-selects; a JOIN's own
 * inputs for its ON clause; only the outer levels for a CTE body and for a non-LATERAL sub-select
 * in FROM. Every visible FROM item's columns must be known (a sub-select, function, CTE or join
 * alias in scope leaves the reference alone; a LATERAL item or a function in FROM leaves the whole
 * level alone). Not replaced: a reference that is a whole grouping item, ORDER BY / DISTINCT ON /
 * window item or GROUPING() argument (there a single name may be an output column, and grouping
 * or sorting by `record` and by the row type agree) — except a SELECT's own ORDER BY item where
 * the SELECT groups every column of the table and no target can be named like it (the built form,
 * which PostgreSQL accepts on the table but not on the sub-select), anything inside a write statement, and any
 * reference when a mask changes a column's type (a text mask on a non-text column: the cast could
 * fail; the value stays `record`, with the masked text in that field).
 * Does not: change the text or JSON form of any value (they are the same for `record` and the
 * row type), or anything but the replaced references.
 */
import { parseSync } from '../guard/pgquery.js';
import type { Budget } from '../guard/ast/budget.js';
import { unwrapNode } from '../guard/ast/node.js';
import { DESCEND, REFUSE, SKIP, THROW_ON_REFUSE, traverse, visitorTable, type HandlerResult, type NodeVisit, type Scope, type Visitor } from '../guard/ast/traverse.js';
import { resolveRelation } from '../guard/relations.js';
import type { CatalogSnapshot } from '../guard/types.js';
import { subselectColumns } from './fromcols.js';
import { visibleColumns, type FullyGrouped, type ProjectionSite } from './grouping.js';
import { quoteIdent, stringTypeCast } from './masks.js';

type Body = Record<string, unknown>;

interface Entry {
  alias: string;
  /** Column names; undefined: not known here (the reference is then left alone). */
  columns: ReadonlySet<string> | undefined;
  site?: ProjectionSite;
  /** The owning SELECT groups by the site's key with every column grouped. */
  grouped?: boolean;
}

interface WholeRowPass {
  catalog: CatalogSnapshot;
  searchPath: readonly string[];
  byNode: ReadonlyMap<Body, ProjectionSite>;
  full: FullyGrouped;
  cteNames: ReadonlySet<string>;
  /** FROM entries of each query level (the Scope objects this pass creates). */
  levels: WeakMap<Scope, readonly Entry[]>;
  /** Bodies this pass created (never visited again). */
  made: WeakSet<object>;
  /** Parsed typed expressions by their text (each use gets its own copy). */
  parsed: Map<string, string>;
  /** Bytes of statement text the replacements add so far, and the most they may add. */
  added: number;
  maxAdded: number;
}

/**
 * The replacements would add more than the rewrite's work bound of text (each is a CASE over a
 * cast, or a ROW of every column): the Masker refuses STATEMENT_TOO_COMPLEX.
 */
export class WholeRowTooLargeError extends Error {
  constructor(readonly max: number) {
    super(`typed whole-row values would add more than ${max} bytes to the statement`);
    this.name = 'WholeRowTooLargeError';
  }
}

type Visit = NodeVisit<WholeRowPass>;

/** Children of a node in a GROUP BY clause (grouping sets, implicit rows) are grouping items. */
const GROUPING = 1;

/** FROM items that may see the FROM items before them (and not themselves). */
const DIRECT_LATERAL: ReadonlySet<string> = new Set(['RangeFunction', 'RangeTableFunc', 'JsonTable', 'RangeSubselect']);

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
function entries(p: WholeRowPass, item: unknown, into: Entry[], owner: Body | undefined): void {
  const w = unwrapNode(item);
  if (w === undefined) return;
  const [t, b] = w;
  const { name } = aliasOf(b);
  if (t === 'JoinExpr') {
    if (name !== undefined) into.push({ alias: name, columns: undefined });
    else {
      entries(p, b.larg, into, owner);
      entries(p, b.rarg, into, owner);
    }
    return;
  }
  const site = t === 'RangeSubselect' ? p.byNode.get(b) : undefined;
  if (site !== undefined) {
    const grouped = owner !== undefined && p.full.get(owner)?.has(b) === true;
    into.push({ alias: site.alias, columns: new Set(visibleColumns(site)), site, grouped });
    return;
  }
  if (t === 'RangeVar') {
    const relname = (b.relname as string | undefined) ?? '';
    const schema = b.schemaname as string | undefined;
    const cte = schema === undefined && p.cteNames.has(relname);
    const r = cte ? undefined : resolveRelation(schema !== undefined ? [schema, relname] : [relname], p.catalog, p.searchPath);
    const cols = r?.schema !== undefined ? p.catalog.relations.get(`${r.schema}.${r.name}`)?.columns : undefined;
    into.push({ alias: name ?? relname, columns: cols === undefined ? undefined : renamedColumns(b, cols.map((c) => c.name)) });
    return;
  }
  if (t === 'RangeSubselect' && name !== undefined) {
    const cols = subselectColumns(b.subquery);
    into.push({ alias: name, columns: cols === undefined ? undefined : renamedColumns(b, cols) });
    return;
  }
  // a function, table function, sample, JSON_TABLE, a sub-select of unknown columns: columns not known here
  into.push({ alias: name ?? '', columns: undefined });
}

/** Column names under an alias column list (`t(a, b)` renames the first ones); undefined: unsure. */
function renamedColumns(b: Body, names: readonly string[]): ReadonlySet<string> | undefined {
  if (!aliasOf(b).renamed) return new Set(names);
  const list = ((b.alias as { colnames?: unknown[] }).colnames ?? []).map((c) => unwrapNode(c));
  if (list.some((w) => w?.[0] !== 'String' || typeof w[1].sval !== 'string')) return undefined;
  const renamed = list.map((w) => w?.[1].sval as string);
  return new Set([...renamed, ...names.slice(renamed.length)]);
}

/** The masked projection a single name refers to as a whole row, when that is certain. */
function wholeRow(p: WholeRowPass, scope: Scope | undefined, name: string): Entry | undefined {
  // PostgreSQL: a column of that name at any visible level wins over a relation of that name
  for (let s = scope; s; s = s.parent) {
    for (const e of p.levels.get(s) ?? []) if (e.columns === undefined || e.columns.has(name)) return undefined;
  }
  for (let s = scope; s; s = s.parent) {
    const hit = (p.levels.get(s) ?? []).find((e) => e.alias === name);
    if (hit !== undefined) return hit.site !== undefined && typePreserved(hit.site) ? hit : undefined;
  }
  return undefined;
}

/** The typed whole-row expression for `entry` (see the module header) as a parse node. */
function typedRow(p: WholeRowPass, entry: Entry): unknown {
  const site = entry.site as ProjectionSite;
  const a = quoteIdent(site.alias);
  const type = `${quoteIdent(site.rm.schema)}.${quoteIdent(site.rm.name)}`;
  const visible = visibleColumns(site);
  const pk = site.primaryKey[0];
  const pkIndex = site.rm.columns.findIndex((c) => c.name === pk);
  const pkName = visible[pkIndex];
  let expr = `CASE WHEN ${a} IS DISTINCT FROM NULL THEN CAST(${a} AS ${type}) END`;
  if (entry.grouped === true && pkName !== undefined && pk !== undefined && site.rm.masks.get(pk)?.spec.mask !== 'null') {
    expr = `CASE WHEN ${a}.${quoteIdent(pkName)} IS NOT NULL THEN CAST(ROW(${visible.map((c) => `${a}.${quoteIdent(c)}`).join(', ')}) AS ${type}) END`;
  }
  p.added += expr.length;
  if (p.added > p.maxAdded) throw new WholeRowTooLargeError(p.maxAdded);
  let json = p.parsed.get(expr);
  if (json === undefined) {
    const parsed = parseSync(`SELECT ${expr}`) as { stmts: { stmt: { SelectStmt: { targetList: { ResTarget: { val: unknown } }[] } } }[] };
    const node = parsed.stmts[0]?.stmt.SelectStmt.targetList[0]?.ResTarget.val;
    if (node === undefined) throw new Error('whole-row cast did not parse');
    json = JSON.stringify(node);
    p.parsed.set(expr, json);
  }
  const val = JSON.parse(json) as unknown;
  const w = unwrapNode(val);
  if (w !== undefined) p.made.add(w[1]);
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

/** `node` replaced when it is a whole-row reference of a masked projection, else itself. */
function replaced(n: Visit, node: unknown, star: boolean): unknown {
  const name = candidate(node, star);
  const entry = name === undefined ? undefined : wholeRow(n.state, n.scope, name);
  return entry === undefined ? node : typedRow(n.state, entry);
}

/** Replace whole-row references among the direct children of an expression node (any field, lists too). */
function expression(n: Visit): HandlerResult {
  if (n.state.made.has(n.body)) return SKIP;
  for (const k of Object.keys(n.body)) {
    const v = n.body[k];
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const r = replaced(n, v[i], false);
        if (r !== v[i]) v[i] = r;
      }
    } else if (v !== null && typeof v === 'object') {
      const r = replaced(n, v, false);
      if (r !== v) n.body[k] = r;
    }
  }
  return undefined;
}

function pushLevel(n: Visit, level: Entry[], parent: Scope | undefined): Scope {
  const scope: Scope = { names: level.map((e) => e.alias), parent };
  n.state.levels.set(scope, level);
  return scope;
}

function selectStmt(n: Visit): void {
  const b = n.body;
  const from = Array.isArray(b.fromClause) ? b.fromClause : [];
  const level: Entry[] = [];
  for (const item of from) entries(n.state, item, level, b);
  const outer = n.scope;
  n.scope = pushLevel(n, level, outer);
  // CTE bodies see the outer levels only
  if (b.withClause !== undefined) {
    n.push(b.withClause, 'WithClause', outer, 0);
    n.skip2 = 'withClause';
  }
  // FROM items see the outer levels only; a LATERAL item or a function also sees the items before it
  from.forEach((item, i) => {
    const text = JSON.stringify(item);
    if (!text.includes('"lateral":true') && !/"(RangeFunction|RangeTableFunc|JsonTable)"/.test(text)) n.push(item, '', outer, 0);
    else if (DIRECT_LATERAL.has(unwrapNode(item)?.[0] ?? '')) {
      const before: Entry[] = [];
      for (const prev of from.slice(0, i)) entries(n.state, prev, before, undefined);
      n.push(item, '', pushLevel(n, before, outer), 0);
    } else n.push(item, '', n.scope, 0);
  });
  n.skip1 = 'fromClause';
  sortItems(n);
  // GROUP BY items (through grouping sets and implicit rows) are grouping items: see groupingContainer
  n.flags = GROUPING;
}

/**
 * ORDER BY items of a grouped SELECT that are a whole-row value built from the grouped columns
 * (`… GROUP BY o.id ORDER BY o`): on the table PostgreSQL sorts by the row (functional dependency),
 * on the projection the bare `o` fails with 42803. A bare ORDER BY name is an output name first
 * (parse_clause.c findTargetlistEntrySQL92), so only when no target can be named `o`: every target
 * named otherwise, or an unnamed column reference or function call of another last name.
 */
function sortItems(n: Visit): void {
  const b = n.body;
  if (!Array.isArray(b.groupClause) || b.groupClause.length === 0 || !Array.isArray(b.sortClause)) return;
  const targets = Array.isArray(b.targetList) ? b.targetList : [];
  for (const item of b.sortClause) {
    const sort = unwrapNode(item);
    const name = sort?.[0] === 'SortBy' ? candidate(sort[1].node, false) : undefined;
    if (sort === undefined || name === undefined || targets.some((t) => mayBeNamed(t, name))) continue;
    const entry = wholeRow(n.state, n.scope, name);
    if (entry?.grouped === true) sort[1].node = typedRow(n.state, entry);
  }
}

/** Whether a target's output name may be `name` (PostgreSQL's FigureColname, conservatively). */
function mayBeNamed(target: unknown, name: string): boolean {
  const rt = unwrapNode(target)?.[1];
  if (typeof rt?.name === 'string') return rt.name === name;
  const v = unwrapNode(rt?.val);
  const list = v?.[0] === 'ColumnRef' ? v[1].fields : v?.[0] === 'FuncCall' ? v[1].funcname : undefined;
  if (!Array.isArray(list)) return true;
  const last = unwrapNode(list.at(-1));
  return last?.[0] !== 'String' || last[1].sval === name;
}

/** A JOIN's ON clause sees the join's own inputs (and the outer levels). */
function joinExpr(n: Visit): void {
  const level: Entry[] = [];
  entries(n.state, n.body.larg, level, undefined);
  entries(n.state, n.body.rarg, level, undefined);
  if (n.body.quals !== undefined) {
    n.push(n.body.quals, '', pushLevel(n, level, n.scope), 0);
    n.skip1 = 'quals';
  }
}

/** A write: its levels are not modelled, so nothing below it is replaced. */
function dmlStmt(n: Visit): void {
  n.scope = pushLevel(n, [{ alias: '', columns: undefined }], n.scope);
}

function resTarget(n: Visit): void {
  const name = candidate(n.body.val, false);
  if (name === undefined) return;
  const entry = wholeRow(n.state, n.scope, name);
  if (entry === undefined) return;
  n.body.val = typedRow(n.state, entry);
  if (n.body.name === undefined) n.body.name = name;
}

function funcCall(n: Visit): HandlerResult {
  const args = n.body.args;
  if (!Array.isArray(args)) return undefined;
  for (let i = 0; i < args.length; i++) {
    const r = replaced(n, args[i], true);
    if (r !== args[i]) args[i] = r;
  }
  return undefined;
}

/** Grouping sets and implicit rows inside GROUP BY: their items are grouping items too. */
function groupingContainer(n: Visit): HandlerResult {
  if ((n.frameFlags & GROUPING) !== 0 && (n.tag === 'GroupingSet' || n.body.row_format === 'COERCE_IMPLICIT_CAST')) {
    n.flags = GROUPING;
    return undefined;
  }
  return expression(n);
}

/** A node whose direct references are not replaced (sort and window items, GROUPING() arguments). */
const LEAVE_DIRECT: typeof DESCEND = DESCEND;

const WHOLE_ROW_VISITOR: Visitor<WholeRowPass> = {
  table: visitorTable<WholeRowPass>(
    { statement: DESCEND, raw: expression, 'post-analysis': REFUSE, 'result-wrapper': REFUSE },
    {
      SelectStmt: selectStmt,
      JoinExpr: joinExpr,
      RangeSubselect: (n) => (n.state.byNode.has(n.body) ? SKIP : undefined),
      InsertStmt: dmlStmt,
      UpdateStmt: dmlStmt,
      DeleteStmt: dmlStmt,
      MergeStmt: dmlStmt,
      ResTarget: resTarget,
      FuncCall: funcCall,
      GroupingSet: groupingContainer,
      RowExpr: groupingContainer,
      SortBy: LEAVE_DIRECT,
      WindowDef: LEAVE_DIRECT,
      GroupingFunc: LEAVE_DIRECT,
      ColumnRef: () => SKIP,
    },
  ),
  inherit: 0,
  listInherit: GROUPING,
  ...THROW_ON_REFUSE,
};

/**
 * Replace whole-row references of masked projections (see the module header). Mutates `tree`.
 * `full`: the projections each SELECT groups completely (keepGroupingDependencies). Throws
 * WholeRowTooLargeError when the replacements would add more than `maxAdded` bytes of text.
 */
export function keepWholeRowTypes(
  tree: unknown,
  sites: readonly ProjectionSite[],
  full: FullyGrouped,
  scope: { catalog: CatalogSnapshot; searchPath: readonly string[]; maxAdded: number },
  budget: Budget,
): void {
  const { catalog, searchPath, maxAdded } = scope;
  if (sites.length === 0) return;
  const text = JSON.stringify(tree);
  const cteNames = new Set([...text.matchAll(/"ctename":"((?:[^"\\]|\\.)*)"/g)].map((m) => JSON.parse(`"${m[1] as string}"`) as string));
  const pass: WholeRowPass = { catalog, searchPath, byNode: new Map(sites.map((s) => [s.node, s])), full, cteNames, levels: new WeakMap(), made: new WeakSet(), parsed: new Map(), added: 0, maxAdded };
  traverse(tree, WHOLE_ROW_VISITOR, pass, budget);
}
