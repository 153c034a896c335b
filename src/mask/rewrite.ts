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
 * - relation names given as text (string literals cast to regclass, or passed to any function)
 *   that resolve to a masked relation are reported;
 * - the walk visits every node (wrapped, inline-typed and plain arrays) iteratively.
 * Does not: decide whether to refuse (index.ts does), or resolve column references (column names
 * are collected for the optional predicate check and for writes, by name only).
 */
// The mask walk is not yet a visitor of the traversal core (issue #15): it still reads INLINE_FIELDS.
// eslint-disable-next-line no-restricted-imports
import { INLINE_FIELDS } from '../guard/ast/fields.js';
import { splitQualifiedName } from '../guard/names.js';
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
}

interface Scope {
  readonly names: readonly string[];
  readonly parent: Scope | undefined;
}

interface Frame {
  v: unknown;
  /** Type of an inline body, '' for a wrapped node / array / plain value. */
  t: string;
  s: Scope | undefined;
}

function inScope(scope: Scope | undefined, name: string): boolean {
  for (let s = scope; s; s = s.parent) if (s.names.includes(name)) return true;
  return false;
}

function wrapped(v: unknown): [string, Body] | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const keys = Object.keys(v);
  if (keys.length !== 1) return undefined;
  const t = keys[0] as string;
  const c = t.charCodeAt(0);
  if (!(c >= 65 && c <= 90)) return undefined;
  const body = (v as Body)[t];
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined;
  return [t, body as Body];
}

const DML = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

export interface WalkContext {
  catalog: CatalogSnapshot;
  searchPath: readonly string[];
  /** Whether schema.name has masks under the policy. */
  isMasked: (key: string) => boolean;
}

/** Walk one statement (a wrapped node). Never mutates it. */
export function walkForMasks(root: unknown, ctx: WalkContext): WalkResult {
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
  };
  const bareOutputs = new Set<unknown>();
  /** schema.name of a RangeVar (undefined: a CTE, or not in the catalog). */
  const anyKey = (rv: Body, scope: Scope | undefined): string | undefined => {
    const schema = rv.schemaname as string | undefined;
    const name = (rv.relname as string | undefined) ?? '';
    const catalog = rv.catalogname as string | undefined;
    if (schema === undefined && catalog === undefined && inScope(scope, name)) return undefined; // a CTE
    const parts = schema !== undefined ? [schema, name] : [name];
    const r = resolveRelation(parts, ctx.catalog, ctx.searchPath);
    return r.schema === undefined ? undefined : `${r.schema}.${r.name}`;
  };
  const resolveKey = (rv: Body, scope: Scope | undefined): string | undefined => {
    const key = anyKey(rv, scope);
    return key !== undefined && ctx.isMasked(key) ? key : undefined;
  };
  const textName = (text: string): void => {
    const parts = splitQualifiedName(text);
    if (parts === undefined) return;
    const r = resolveRelation(parts.slice(-2), ctx.catalog, ctx.searchPath);
    if (r.schema !== undefined && ctx.isMasked(`${r.schema}.${r.name}`)) out.textual.push(`${r.schema}.${r.name}`);
  };

  const stack: Frame[] = [{ v: root, t: '', s: undefined }];
  /** A FROM-list slot: a RangeVar or a sampled RangeVar is a site, anything else is walked. */
  const rangeSlot = (container: unknown[] | Body, slot: number | string, scope: Scope | undefined): void => {
    const node = (container as Record<string | number, unknown>)[slot];
    const w = wrapped(node);
    if (w !== undefined && w[0] === 'RangeVar') {
      const key = resolveKey(w[1], scope);
      if (key !== undefined) out.sites.push({ container, slot, rangeVar: w[1], key });
      return;
    }
    if (w !== undefined && w[0] === 'RangeTableSample') {
      const rel = wrapped(w[1].relation);
      if (rel !== undefined && rel[0] === 'RangeVar') {
        const key = resolveKey(rel[1], scope);
        if (key !== undefined) out.sites.push({ container, slot, rangeVar: rel[1], sample: w[1], key });
        // the method arguments and REPEATABLE seed are expressions: walk them
        for (const k of ['args', 'repeatable']) if (w[1][k] !== undefined) stack.push({ v: w[1][k], t: '', s: scope });
        return;
      }
    }
    stack.push({ v: node, t: '', s: scope });
  };
  const rangeList = (list: unknown, scope: Scope | undefined): void => {
    if (!Array.isArray(list)) return;
    for (let i = 0; i < list.length; i++) rangeSlot(list, i, scope);
  };

  while (stack.length > 0) {
    const fr = stack.pop() as Frame;
    let v = fr.v;
    let t = fr.t;
    if (t === '') {
      if (Array.isArray(v)) {
        for (const item of v) stack.push({ v: item, t: '', s: fr.s });
        continue;
      }
      const w = wrapped(v);
      if (w === undefined) continue;
      [t, v] = w;
    }
    const b = v as Body;
    let scope = fr.s;
    const skip = new Set<string>();

    // WITH: CTE scoping as PostgreSQL does it
    if (t === 'SelectStmt' || DML.has(t)) {
      const wc = b.withClause as { ctes?: unknown[]; recursive?: boolean } | undefined;
      if (wc && typeof wc === 'object') {
        const ctes = Array.isArray(wc.ctes) ? wc.ctes : [];
        const names = ctes.map((c) => ((c as { CommonTableExpr?: { ctename?: string } }).CommonTableExpr?.ctename ?? ''));
        const bodyScope: Scope = { names, parent: scope };
        for (let i = 0; i < ctes.length; i++) {
          const cteScope: Scope | undefined = wc.recursive ? bodyScope : i === 0 ? scope : { names: names.slice(0, i), parent: scope };
          stack.push({ v: ctes[i], t: '', s: cteScope });
        }
        scope = bodyScope;
        skip.add('withClause');
      }
    }

    switch (t) {
      case 'SelectStmt': {
        rangeList(b.fromClause, scope);
        skip.add('fromClause');
        for (const target of Array.isArray(b.targetList) ? b.targetList : []) {
          const rt = wrapped(target);
          if (rt !== undefined && rt[0] === 'ResTarget' && wrapped(rt[1].val)?.[0] === 'ColumnRef') bareOutputs.add(wrapped(rt[1].val)?.[1]);
        }
        break;
      }
      case 'JoinExpr': {
        rangeSlot(b, 'larg', scope);
        rangeSlot(b, 'rarg', scope);
        skip.add('larg');
        skip.add('rarg');
        if (b.isNatural === true) out.natural = true;
        for (const u of Array.isArray(b.usingClause) ? b.usingClause : []) {
          const s = (u as { String?: { sval?: string } }).String?.sval;
          if (s !== undefined) out.usingColumns.add(s);
        }
        break;
      }
      case 'InsertStmt':
      case 'UpdateStmt':
      case 'DeleteStmt':
      case 'MergeStmt': {
        const rel = b.relation as Body | undefined;
        if (rel && typeof rel === 'object') {
          // every target (masked or not): its constraints can compare masked columns of other tables
          const key = anyKey(rel, undefined);
          if (key !== undefined) {
            const relname = (rel.relname as string | undefined) ?? '';
            const alias = (rel.alias as { aliasname?: string } | undefined)?.aliasname ?? relname;
            const kind = t === 'InsertStmt' ? 'insert' : t === 'UpdateStmt' ? 'update' : t === 'DeleteStmt' ? 'delete' : 'merge';
            out.targets.push({ key, alias, relname, kind, onConflictUpdate: (b.onConflictClause as { OnConflictClause?: Body } | Body | undefined) !== undefined && onConflictAction(b) === 'ONCONFLICT_UPDATE' });
          }
          skip.add('relation');
        }
        if (t === 'UpdateStmt') {
          rangeList(b.fromClause, scope);
          skip.add('fromClause');
        } else if (t === 'DeleteStmt') {
          rangeList(b.usingClause, scope);
          skip.add('usingClause');
        } else if (t === 'MergeStmt') {
          rangeSlot(b, 'sourceRelation', scope);
          skip.add('sourceRelation');
        }
        assigned(t, b, out);
        const ret = b.returningClause as { exprs?: unknown[] } | undefined;
        const exprs = Array.isArray(ret?.exprs) ? ret.exprs : Array.isArray(b.returningList) ? (b.returningList as unknown[]) : [];
        for (const target of exprs) {
          const rt = wrapped(target);
          const val = rt !== undefined && rt[0] === 'ResTarget' ? wrapped(rt[1].val) : undefined;
          if (val?.[0] === 'ColumnRef') {
            bareOutputs.add(val[1]);
            const fields = Array.isArray(val[1].fields) ? val[1].fields : [];
            if (fields.some((f) => wrapped(f)?.[0] === 'A_Star')) out.returningStar = true;
          }
        }
        break;
      }
      case 'RangeVar': {
        // a RangeVar outside a range position (locking clause, DDL, INTO)
        const key = resolveKey(b, scope);
        if (key !== undefined) out.strays.push(key);
        break;
      }
      case 'ColumnRef': {
        const fields = Array.isArray(b.fields) ? b.fields : [];
        const last = wrapped(fields[fields.length - 1]);
        const name = last?.[0] === 'String' ? (last[1].sval as string | undefined) : undefined;
        if (fields.length >= 3) out.qualifiedColumns.push(b);
        if (fields.length >= 2 && last?.[0] === 'A_Star') {
          const q = wrapped(fields[fields.length - 2]);
          if (q?.[0] === 'String' && typeof q[1].sval === 'string') out.starQualifiers.add(q[1].sval);
        }
        if (name !== undefined) {
          out.allColumns.add(name);
          if (!bareOutputs.has(b)) out.nonProjectedColumns.add(name);
          if (fields.length === 1) out.singleNames.add(name);
        }
        break;
      }
      case 'TypeCast': {
        const tn = (b.typeName as { names?: unknown[] } | undefined)?.names;
        const last = Array.isArray(tn) ? (wrapped(tn[tn.length - 1])?.[1].sval as string | undefined) : undefined;
        if (last !== undefined && REG_TYPES.has(last)) {
          const text = literalString(b.arg);
          if (text !== undefined) textName(text);
        }
        break;
      }
      case 'FuncCall': {
        for (const arg of Array.isArray(b.args) ? b.args : []) {
          const text = literalString(arg);
          if (text !== undefined) textName(text);
        }
        break;
      }
      case 'ExplainStmt': {
        for (const o of Array.isArray(b.options) ? b.options : []) {
          const d = wrapped(o);
          const name = d?.[0] === 'DefElem' ? (d[1].defname as string | undefined) : undefined;
          if (name !== undefined) out.explainOptions.push(name.toLowerCase());
        }
        break;
      }
      default:
    }

    const inline = INLINE_FIELDS[t];
    for (const k in b) {
      if (skip.has(k)) continue;
      const val = b[k];
      if (val === null || typeof val !== 'object') continue;
      const it = inline?.[k];
      if (it !== undefined && !Array.isArray(val)) stack.push({ v: val, t: it, s: scope });
      else stack.push({ v: val, t: '', s: scope });
    }
  }
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
function assigned(t: string, b: Body, out: WalkResult): void {
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
