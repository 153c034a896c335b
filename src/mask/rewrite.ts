/**
 * The masking rewrite over the parse tree (libpg-query 18 JSON).
 *
 * Guarantees:
 * - every reference to a relation with masked columns in a range position (FROM items, JOIN
 *   operands, TABLESAMPLE, UPDATE … FROM, DELETE … USING, MERGE … USING, in every subquery,
 *   CTE body, set-operation arm, LATERAL item, SubLink and EXPLAIN) is found, with CTE names
 *   shadowing unqualified names exactly as PostgreSQL scopes them, and reported as a site to
 *   replace by the masked projection (a sub-select with the same alias, column names and order);
 * - a reference to a masked relation anywhere else (a locking clause, a DDL position) is reported
 *   as a stray, never silently left in place; every DML target (masked or not) is reported with
 *   its alias, so that whole-row references of it (`t`, `t.*`, `schema.t.*`) and its constraints
 *   can be judged (src/mask/writes.ts);
 * - relation names given as text that resolve to a masked relation are reported: string literals
 *   cast to a reg type, or passed to a function that may look them up as names (a built-in with a
 *   name parameter, and any function off the reviewed list of built-ins that need no catalog
 *   access); a literal given to upper(), md5(), jsonb_build_object() … is data, not a name;
 * - the walk is a visitor of the traversal core (src/guard/ast/traverse.ts, issue #15): a total
 *   table over NodeTag, every node visited (wrapped, inline-typed and plain arrays) iteratively,
 *   one Budget spent per node — running out throws TooComplexError (the Masker refuses
 *   STATEMENT_TOO_COMPLEX), and a kind the raw parser cannot produce or a malformed node throws
 *   RefusedNodeError (the Masker refuses UNKNOWN_STATEMENT): never a partial answer.
 * Does not: decide whether to refuse (index.ts does), or resolve column references (column names
 * are collected for the optional predicate check and for writes, by name only).
 *
 * Size (#15 item 5): the file (~420 lines) is the mask walk's handler table over node kinds, one
 * small handler per kind; it is a table, and splitting it would scatter one visitor.
 */
import { MAX_AST_NODES_CAP, newBudget, type Budget } from '../guard/ast/budget.js';
import { unwrapNode } from '../guard/ast/node.js';
import type { NodeTag } from '../guard/ast/tags.js';
import { descendRaw, inScope, SKIP, THROW_ON_REFUSE, traverse, visitorTable, type NodeVisit, type Scope, type Visitor } from '../guard/ast/traverse.js';
import { builtinClass, NAME_LOOKUP_FUNCTIONS, REGCLASS_ARGS, REGPROC_ARGS, TYPENAME_ARGS } from '../guard/functions.js';
import { nameList, splitQualifiedName } from '../guard/names.js';
import { DML_STATEMENTS, type DmlTag } from '../guard/nodes.js';
import { resolveRelation } from '../guard/relations.js';
import type { CatalogSnapshot } from '../guard/types.js';
import { literalString, REG_TYPES } from '../guard/walk.js';

type Body = Record<string, unknown>;

export interface RangeSite {
  /** Array or object holding the wrapped node to replace. */
  container: unknown[] | Body;
  slot: number | string;
  /** The RangeVar body (the relation and its alias). */
  rangeVar: Body;
  /** The RangeTableSample body when the relation is sampled. */
  sample?: Body;
  /** Resolved schema.name. */
  key: string;
}

export interface WalkResult {
  sites: RangeSite[];
  /** Relations named as DML targets (schema.name; masked or not), with the alias used, the relation name and the write kind. */
  targets: { key: string; alias: string; relname: string; kind: 'insert' | 'update' | 'delete' | 'merge'; onConflictUpdate: boolean }[];
  /** Masked relations referenced from a position the rewrite does not handle. */
  strays: string[];
  /** Masked relations named in a string (regclass literal, function argument). */
  textual: string[];
  /** EXPLAIN options present (lower case), when the statement is an EXPLAIN. */
  explainOptions: string[];
  /** Last name part of every column reference that is not a bare output column (SELECT x / RETURNING x). */
  nonProjectedColumns: Set<string>;
  /** Last name part of every column reference (any position). */
  allColumns: Set<string>;
  /** USING (…) column names. */
  usingColumns: Set<string>;
  /** Whether a NATURAL join occurs. */
  natural: boolean;
  /** Whether `*` occurs in a RETURNING list. */
  returningStar: boolean;
  /** Single-name column references (a whole-row reference when the name is a range alias). */
  singleNames: Set<string>;
  /** The name right before `*` in qualified stars (`c.*`, `customers.*`, `app.customers.*` → c, customers). */
  starQualifiers: Set<string>;
  /** Columns a DML statement assigns (INSERT column list, UPDATE SET, MERGE actions). */
  assignedColumns: Set<string>;
  /** An INSERT (or MERGE … INSERT) without a column list: it sets every column. */
  insertAllColumns: boolean;
  /** Column references (and `schema.table.*`) qualified with a schema: [schema, table, …]. */
  qualifiedColumns: Body[];
  /** References to system columns (ctid, xmin, tableoid …): the name before it ('' unqualified) and the column. */
  systemColumns: { qualifier: string; column: string }[];
  /** Whether an unqualified `*` occurs (it expands every FROM item's columns). */
  bareStar: boolean;
}

/** PostgreSQL's system columns: a masked projection (a sub-select) has none of them. */
export const SYSTEM_COLUMNS: ReadonlySet<string> = new Set(['ctid', 'xmin', 'xmax', 'cmin', 'cmax', 'tableoid']);

/** `{ Type: body }` with Type a NodeTag → [Type, body]; anything else → undefined (guard/ast/node.ts). */
const wrapped: (v: unknown) => [NodeTag, Body] | undefined = unwrapNode;

export interface WalkContext {
  catalog: CatalogSnapshot;
  searchPath: readonly string[];
  /** Whether schema.name has masks under the policy. */
  isMasked: (key: string) => boolean;
}

/**
 * The budget of the masking rewrite's walks over one statement (the walk of the agent's tree, the
 * walk of its copy and the GROUP BY pass): each visits at most the nodes the guard accepted
 * (`guard.max_ast_nodes`, at most MAX_AST_NODES_CAP), so an accepted statement never runs it out.
 */
export function maskBudget(): Budget {
  return newBudget(4 * MAX_AST_NODES_CAP);
}

/** The walk's state: what it found, and what it needs to find it. */
interface MaskWalk {
  out: WalkResult;
  ctx: WalkContext;
  /** ColumnRef bodies that are bare output columns (SELECT x / RETURNING x). */
  bareOutputs: Set<unknown>;
}

type Visit = NodeVisit<MaskWalk>;

/** schema.name of a RangeVar (undefined: a CTE, or not in the catalog). */
function anyKey(w: MaskWalk, rv: Body, scope: Scope | undefined): string | undefined {
  const schema = rv.schemaname as string | undefined;
  const name = (rv.relname as string | undefined) ?? '';
  const catalog = rv.catalogname as string | undefined;
  if (schema === undefined && catalog === undefined && inScope(scope, name)) return undefined; // a CTE
  const parts = schema !== undefined ? [schema, name] : [name];
  const r = resolveRelation(parts, w.ctx.catalog, w.ctx.searchPath);
  return r.schema === undefined ? undefined : `${r.schema}.${r.name}`;
}

/** schema.name of a RangeVar naming a relation with masks (undefined otherwise). */
function maskedKey(w: MaskWalk, rv: Body, scope: Scope | undefined): string | undefined {
  const key = anyKey(w, rv, scope);
  return key !== undefined && w.ctx.isMasked(key) ? key : undefined;
}

/** A relation name given as text: reported when it resolves to a masked relation. */
function textName(w: MaskWalk, text: string): void {
  const parts = splitQualifiedName(text);
  if (parts === undefined) return;
  const r = resolveRelation(parts.slice(-2), w.ctx.catalog, w.ctx.searchPath);
  if (r.schema !== undefined && w.ctx.isMasked(`${r.schema}.${r.name}`)) w.out.textual.push(`${r.schema}.${r.name}`);
}

/** A FROM-list slot: a RangeVar or a sampled RangeVar is a site, anything else is walked. */
function rangeSlot(n: Visit, container: unknown[] | Body, slot: number | string): void {
  const w = n.state;
  const scope = n.scope;
  const node = (container as Record<string | number, unknown>)[slot];
  const item = wrapped(node);
  if (item !== undefined && item[0] === 'RangeVar') {
    const key = maskedKey(w, item[1], scope);
    if (key !== undefined) w.out.sites.push({ container, slot, rangeVar: item[1], key });
    return;
  }
  if (item !== undefined && item[0] === 'RangeTableSample') {
    const rel = wrapped(item[1].relation);
    if (rel !== undefined && rel[0] === 'RangeVar') {
      const key = maskedKey(w, rel[1], scope);
      if (key !== undefined) w.out.sites.push({ container, slot, rangeVar: rel[1], sample: item[1], key });
      // the method arguments and REPEATABLE seed are expressions: walk them
      for (const k of ['args', 'repeatable']) if (item[1][k] !== undefined) n.push(item[1][k], '', scope, n.flags);
      return;
    }
  }
  n.push(node, '', scope, n.flags);
}

function rangeList(n: Visit, list: unknown): void {
  if (!Array.isArray(list)) return;
  for (let i = 0; i < list.length; i++) rangeSlot(n, list, i);
}

/** A statement with a WITH clause: its body (and the WithClause handler) see the CTE names. */
function withScope(n: Visit): void {
  const wc = n.body.withClause as { ctes?: unknown[] } | undefined;
  if (!wc || typeof wc !== 'object') return;
  const ctes = Array.isArray(wc.ctes) ? wc.ctes : [];
  const names = ctes.map((c) => ((c as { CommonTableExpr?: { ctename?: string } }).CommonTableExpr?.ctename ?? ''));
  n.scope = { names, parent: n.scope };
}

/** WITH: each CTE sees the CTEs before it (all of them under RECURSIVE), as PostgreSQL scopes them. */
function withClause(n: Visit): typeof SKIP {
  // reached only as the withClause of a statement, whose handler put this WITH's names in scope
  const bodyScope = n.scope as Scope;
  const outer = bodyScope.parent;
  const ctes = Array.isArray(n.body.ctes) ? n.body.ctes : [];
  const recursive = n.body.recursive === true;
  for (let i = 0; i < ctes.length; i++) {
    const cteScope: Scope | undefined = recursive ? bodyScope : i === 0 ? outer : { names: bodyScope.names.slice(0, i), parent: outer };
    n.push(ctes[i], '', cteScope, n.flags);
  }
  return SKIP;
}

function selectStmt(n: Visit): void {
  withScope(n);
  const b = n.body;
  rangeList(n, b.fromClause);
  n.skip1 = 'fromClause';
  for (const target of Array.isArray(b.targetList) ? b.targetList : []) {
    const rt = wrapped(target);
    if (rt !== undefined && rt[0] === 'ResTarget' && wrapped(rt[1].val)?.[0] === 'ColumnRef') n.state.bareOutputs.add(wrapped(rt[1].val)?.[1]);
  }
}

function joinExpr(n: Visit): void {
  const b = n.body;
  rangeSlot(n, b, 'larg');
  rangeSlot(n, b, 'rarg');
  n.skip1 = 'larg';
  n.skip2 = 'rarg';
  if (b.isNatural === true) n.state.out.natural = true;
  for (const u of Array.isArray(b.usingClause) ? b.usingClause : []) {
    const s = (u as { String?: { sval?: string } }).String?.sval;
    if (s !== undefined) n.state.out.usingColumns.add(s);
  }
}

/** INSERT / UPDATE / DELETE / MERGE: the target (never a site), the relations it reads, what it sets and returns. */
function dmlStmt(n: Visit): void {
  withScope(n);
  const t = n.tag as DmlTag; // dmlStmt handles exactly the DML_STATEMENTS tags
  const b = n.body;
  const out = n.state.out;
  const rel = b.relation as Body | undefined;
  if (rel && typeof rel === 'object') {
    // every target (masked or not): its constraints can compare masked columns of other tables
    const key = anyKey(n.state, rel, undefined);
    if (key !== undefined) {
      const relname = (rel.relname as string | undefined) ?? '';
      const alias = (rel.alias as { aliasname?: string } | undefined)?.aliasname ?? relname;
      out.targets.push({ key, alias, relname, kind: DML_STATEMENTS[t], onConflictUpdate: (b.onConflictClause as { OnConflictClause?: Body } | Body | undefined) !== undefined && onConflictAction(b) === 'ONCONFLICT_UPDATE' });
    }
    n.skip1 = 'relation';
  }
  if (t === 'UpdateStmt') {
    rangeList(n, b.fromClause);
    n.skip2 = 'fromClause';
  } else if (t === 'DeleteStmt') {
    rangeList(n, b.usingClause);
    n.skip2 = 'usingClause';
  } else if (t === 'MergeStmt') {
    rangeSlot(n, b, 'sourceRelation');
    n.skip2 = 'sourceRelation';
  }
  assigned(t, b, out);
  const ret = b.returningClause as { exprs?: unknown[] } | undefined;
  const exprs = Array.isArray(ret?.exprs) ? ret.exprs : Array.isArray(b.returningList) ? (b.returningList as unknown[]) : [];
  for (const target of exprs) {
    const rt = wrapped(target);
    const val = rt !== undefined && rt[0] === 'ResTarget' ? wrapped(rt[1].val) : undefined;
    if (val?.[0] === 'ColumnRef') {
      n.state.bareOutputs.add(val[1]);
      const fields = Array.isArray(val[1].fields) ? val[1].fields : [];
      if (fields.some((f) => wrapped(f)?.[0] === 'A_Star')) out.returningStar = true;
    }
  }
}

/** A RangeVar outside a range position (locking clause, DDL, INTO): a masked one is a stray. */
function rangeVar(n: Visit): void {
  const key = maskedKey(n.state, n.body, n.scope);
  if (key !== undefined) n.state.out.strays.push(key);
}

function columnRef(n: Visit): void {
  const b = n.body;
  const out = n.state.out;
  const fields = Array.isArray(b.fields) ? b.fields : [];
  const last = wrapped(fields[fields.length - 1]);
  const name = last?.[0] === 'String' ? (last[1].sval as string | undefined) : undefined;
  if (fields.length >= 3) out.qualifiedColumns.push(b);
  if (fields.length === 1 && last?.[0] === 'A_Star') out.bareStar = true;
  if (fields.length >= 2 && last?.[0] === 'A_Star') {
    const q = wrapped(fields[fields.length - 2]);
    if (q?.[0] === 'String' && typeof q[1].sval === 'string') out.starQualifiers.add(q[1].sval);
  }
  if (name !== undefined && SYSTEM_COLUMNS.has(name)) {
    const q = fields.length >= 2 ? wrapped(fields[fields.length - 2]) : undefined;
    out.systemColumns.push({ qualifier: q?.[0] === 'String' ? String(q[1].sval) : '', column: name });
  }
  if (name !== undefined) {
    out.allColumns.add(name);
    if (!n.state.bareOutputs.has(b)) out.nonProjectedColumns.add(name);
    if (fields.length === 1) out.singleNames.add(name);
  }
}

/** A string cast to a reg type names a relation. */
function typeCast(n: Visit): void {
  const tn = (n.body.typeName as { names?: unknown[] } | undefined)?.names;
  const last = Array.isArray(tn) ? (wrapped(tn[tn.length - 1])?.[1].sval as string | undefined) : undefined;
  if (last !== undefined && REG_TYPES.has(last)) {
    const text = literalString(n.body.arg);
    if (text !== undefined) textName(n.state, text);
  }
}

/**
 * Whether a call may resolve a text argument as an object name: a built-in that takes names
 * (regclass / type / function name parameters, the to_reg* and has_*_privilege families), and every
 * function that is not on the reviewed list of built-ins that need no catalog access (user and
 * extension functions, catalog functions: their parameters may be regclass, or run SQL).
 */
function looksUpNames(parts: readonly string[] | undefined): boolean {
  const name = parts?.[parts.length - 1];
  if (parts === undefined || name === undefined) return true;
  if (parts.length >= 2 && parts[parts.length - 2] !== 'pg_catalog') return true;
  if (REGCLASS_ARGS[name] !== undefined || TYPENAME_ARGS[name] !== undefined || REGPROC_ARGS[name] !== undefined || NAME_LOOKUP_FUNCTIONS.has(name)) return true;
  return /privilege/.test(name) || builtinClass(name) !== 'allowed';
}

/**
 * A string passed to a function that may look it up as a name (looksUpNames) may be a relation
 * name; upper('customers'), md5('…') or a JSON key look nothing up.
 */
function funcCall(n: Visit): void {
  if (!looksUpNames(nameList(n.body.funcname))) return;
  for (const arg of Array.isArray(n.body.args) ? n.body.args : []) {
    const text = literalString(arg);
    if (text !== undefined) textName(n.state, text);
  }
}

function explainStmt(n: Visit): void {
  for (const o of Array.isArray(n.body.options) ? n.body.options : []) {
    const d = wrapped(o);
    const name = d?.[0] === 'DefElem' ? (d[1].defname as string | undefined) : undefined;
    if (name !== undefined) n.state.out.explainOptions.push(name.toLowerCase());
  }
}

/** The mask walk: a total table over NodeTag (raw kinds descend unless handled; the rest throw). */
const MASK_VISITOR: Visitor<MaskWalk> = {
  table: visitorTable<MaskWalk>(descendRaw(), {
    SelectStmt: selectStmt,
    InsertStmt: dmlStmt,
    UpdateStmt: dmlStmt,
    DeleteStmt: dmlStmt,
    MergeStmt: dmlStmt,
    WithClause: withClause,
    JoinExpr: joinExpr,
    RangeVar: rangeVar,
    ColumnRef: columnRef,
    TypeCast: typeCast,
    FuncCall: funcCall,
    ExplainStmt: explainStmt,
  }),
  inherit: 0,
  listInherit: 0,
  ...THROW_ON_REFUSE,
};

/**
 * Walk one statement (a wrapped node). Never mutates it. Spends `budget` (TooComplexError when it
 * runs out; RefusedNodeError on a kind the raw parser cannot produce).
 */
export function walkForMasks(root: unknown, ctx: WalkContext, budget: Budget = maskBudget()): WalkResult {
  const out: WalkResult = {
    sites: [],
    targets: [],
    strays: [],
    textual: [],
    explainOptions: [],
    nonProjectedColumns: new Set(),
    allColumns: new Set(),
    usingColumns: new Set(),
    natural: false,
    returningStar: false,
    singleNames: new Set(),
    starQualifiers: new Set(),
    assignedColumns: new Set(),
    insertAllColumns: false,
    qualifiedColumns: [],
    systemColumns: [],
    bareStar: false,
  };
  traverse(root, MASK_VISITOR, { out, ctx, bareOutputs: new Set() }, budget);
  return out;
}

function resTargetNames(list: unknown): string[] {
  const names: string[] = [];
  for (const item of Array.isArray(list) ? list : []) {
    const rt = wrapped(item);
    const name = rt?.[0] === 'ResTarget' ? (rt[1].name as string | undefined) : undefined;
    if (name !== undefined) names.push(name);
  }
  return names;
}

/** The ON CONFLICT action of an INSERT body ('' without ON CONFLICT). */
function onConflictAction(b: Body): string {
  const oc = b.onConflictClause as Body | undefined;
  if (oc === undefined || oc === null || typeof oc !== 'object') return '';
  const inner = (wrapped(oc)?.[0] === 'OnConflictClause' ? wrapped(oc)?.[1] : oc) as Body;
  return typeof inner.action === 'string' ? inner.action : 'ONCONFLICT_UPDATE'; // unknown shape: assume it updates
}

/** Columns a DML statement sets. */
function assigned(t: NodeTag, b: Body, out: WalkResult): void {
  if (t === 'InsertStmt') {
    const cols = resTargetNames(b.cols);
    if (cols.length === 0) out.insertAllColumns = true;
    for (const c of cols) out.assignedColumns.add(c);
    // ON CONFLICT … DO UPDATE SET: the columns it sets on the existing row
    const oc = b.onConflictClause as Body | undefined;
    if (oc !== undefined && oc !== null && typeof oc === 'object') {
      const inner = (wrapped(oc)?.[0] === 'OnConflictClause' ? wrapped(oc)?.[1] : oc) as Body;
      for (const c of resTargetNames(inner.targetList)) out.assignedColumns.add(c);
    }
  } else if (t === 'UpdateStmt') {
    for (const c of resTargetNames(b.targetList)) out.assignedColumns.add(c);
  } else if (t === 'MergeStmt') {
    for (const w of Array.isArray(b.mergeWhenClauses) ? b.mergeWhenClauses : []) {
      const clause = wrapped(w)?.[1];
      if (clause === undefined) continue;
      const cols = resTargetNames(clause.targetList);
      if (clause.commandType === 'CMD_INSERT' && cols.length === 0) out.insertAllColumns = true;
      for (const c of cols) out.assignedColumns.add(c);
    }
  }
}
