/**
 * The AST walk: one iterative pass (explicit stack, no recursion) over a raw parse tree that
 * collects every fact the policy needs.
 *
 * Guarantees:
 * - every node is visited: wrapped nodes (`{ Type: {...} }`), inline typed fields (from the
 *   generated INLINE_FIELDS table: InsertStmt.relation, SelectStmt.larg, …) and plain arrays;
 * - node count and depth are bounded (`maxNodes`, `maxDepth`): past either the walk stops and
 *   reports `tooComplex` (the caller fails closed);
 * - a node type the guard does not know (nodes.ts), or a malformed node, is reported in
 *   `unknownTypes` (deny by default);
 * - CTE names shadow relation names only within their scope (the WITH's statement, later CTEs
 *   of the same WITH, and every CTE of a WITH RECURSIVE); schema-qualified names never match a CTE;
 * - relations are collected from FROM/JOIN/subqueries/CTE bodies/LATERAL/set operations/TABLE,
 *   DML targets, regclass-typed literals (`'x'::regclass`), each with whether it says ONLY;
 *   functions from FuncCall anywhere, regproc/regprocedure literals and TABLESAMPLE methods;
 *   operators from A_Expr (BETWEEN as `>=`/`<=`), SubLink (IN (SELECT …) as `=`), ORDER BY … USING, CASE x WHEN (`=`)
 *   and JOIN … USING / NATURAL JOIN (`=`).
 * Does not: resolve names against the catalog or apply policy (relations.ts, functions.ts,
 * policy.ts); literal values are recorded only where they are names (regclass/regproc text).
 */
import { INLINE_FIELDS } from './ast/fields.js';
import { aExprOperators, subLinkOperators } from './facts/operators.js';
import { NAME_LOOKUP_FUNCTIONS, REGCLASS_ARGS, REGPROC_ARGS, TYPENAME_ARGS } from './functions.js';
import { nameList, splitOperatorName, splitQualifiedName } from './names.js';
import { KNOWN_NODES, STATEMENT_CLASS } from './nodes.js';
import type { WriteKind } from './types.js';

/** How a relation is referenced. */
export type RelationRole =
  | 'read' // FROM / JOIN / subquery / TABLE …
  | 'write' // target of INSERT / UPDATE / DELETE / MERGE
  | 'create' // new relation (SELECT INTO, CREATE TABLE AS): not looked up
  | 'regclass' // a literal cast to regclass, or a regclass argument
  | 'type' // a type name that may be a relation's row type (NULL::internal.api_keys): judged only if it is a relation
  | 'other'; // named by a utility/DDL/DCL statement

export interface RelationRef {
  /** [name] or [schema, name] or [catalog, schema, name], as the parser produced them. */
  parts: string[];
  role: RelationRole;
  /** to_regclass: a missing relation is not an error. */
  optional?: boolean;
  /** The name came from a string literal ('x'::regclass): never echo it unless it resolves. */
  literal?: boolean;
  /** FROM ONLY / UPDATE ONLY …: the scan excludes inheritance children and partitions. */
  only?: boolean;
}

export interface FunctionRef {
  parts: string[];
  kind: 'call' | 'regproc' | 'tablesample';
  /** Positional arguments: the text of a string literal (through casts), else undefined. */
  literalArgs: (string | undefined)[];
}

export interface Facts {
  nodeCount: number;
  maxDepth: number;
  tooComplex: 'nodes' | 'depth' | undefined;
  unknownTypes: string[];
  relations: RelationRef[];
  functions: FunctionRef[];
  /** Operator names ([op] or [schema, op]). */
  operators: string[][];
  params: number;
  locking: boolean;
  /** DML statements found below the root (data-modifying CTEs, at any depth). */
  nestedWrites: WriteKind[];
  /** Non-SELECT, non-DML statement types found below the root. */
  nestedStatements: string[];
  /** COPY … TO/FROM PROGRAM or a server file. */
  copyProgram: boolean;
  /**
   * Casts to an object-identifier type (regclass, regproc, regrole, …) of a value computed at run
   * time or given as a numeric OID: they resolve names from the system catalogs and cannot be
   * checked statically.
   */
  dynamicRegCasts: string[];
  /**
   * Object-identifier values (a literal cast such as 'app.orders'::regclass, or a call such as
   * to_regclass(…) / pg_typeof(…)) placed where PostgreSQL resolves one type for several values:
   * UNION/VALUES branches, sub-select outputs, CASE, COALESCE, GREATEST/LEAST, NULLIF, ARRAY[…],
   * function arguments. The other values are then converted to that type, i.e. looked up in the
   * system catalogs (`SELECT 'app.orders'::regclass UNION ALL SELECT 16390` prints a name).
   */
  regValueMixes: string[];
  /**
   * String literals cast to an object-identifier type that names no relation, function, type or
   * operator (regnamespace, regrole, regconfig, regdictionary, regcollation, aclitem): their input
   * looks the name up in the system catalogs (an existence oracle); judged by policy.ts.
   */
  regNames: { type: string; text: string }[];
  /**
   * SQL value functions that name the session or server (CURRENT_USER, SESSION_USER, USER,
   * CURRENT_ROLE, SYSTEM_USER, CURRENT_CATALOG, CURRENT_SCHEMA), upper case.
   */
  sessionValues: string[];
  /** EXPLAIN (SETTINGS [true]) somewhere in the text: the plan lists modified server settings. */
  explainSettings: boolean;
}

/** Object-identifier types: a cast to one resolves a name or an OID through the system catalogs. */
export const REG_TYPES: ReadonlySet<string> = new Set([
  'regclass', 'regproc', 'regprocedure', 'regoper', 'regoperator', 'regtype', 'regrole', 'regnamespace', 'regconfig',
  'regdictionary', 'regcollation', 'aclitem',
]);

/** SQLValueFunction operations that name the session or the server (not the date/time ones). */
const SESSION_VALUE_OPS: Readonly<Record<string, string>> = {
  SVFOP_CURRENT_USER: 'CURRENT_USER',
  SVFOP_CURRENT_ROLE: 'CURRENT_ROLE',
  SVFOP_SESSION_USER: 'SESSION_USER',
  SVFOP_USER: 'USER',
  SVFOP_CURRENT_CATALOG: 'CURRENT_CATALOG',
  SVFOP_CURRENT_SCHEMA: 'CURRENT_SCHEMA',
  SVFOP_SYSTEM_USER: 'SYSTEM_USER',
};

export interface WalkLimits {
  maxNodes: number;
  maxDepth: number;
}

interface Scope {
  readonly names: readonly string[];
  readonly parent: Scope | undefined;
}

// Frame flags
const F_WRITE_TARGET = 1;
const F_CREATE_TARGET = 2;
/** The statement at this frame is a root (top level or the statement EXPLAIN wraps). */
const F_ROOT = 4;
/** RangeVars below are named by a utility/DDL/DCL statement. */
const F_OTHER = 8;

interface Frame {
  /** The node body (wrapped node's inner object, or the inline object) — or an array of wrapped nodes. */
  v: unknown;
  /** Node type when v is a typed body; '' when v is a wrapped node or an array. */
  t: string;
  d: number;
  s: Scope | undefined;
  f: number;
}

const DML_KIND: Readonly<Record<string, WriteKind>> = {
  InsertStmt: 'insert',
  UpdateStmt: 'update',
  DeleteStmt: 'delete',
  MergeStmt: 'merge',
};

function inScope(scope: Scope | undefined, name: string): boolean {
  for (let s = scope; s; s = s.parent) if (s.names.includes(name)) return true;
  return false;
}

/** The string value of a literal, looking through casts and COLLATE: 'x', 'x'::text, ('x' COLLATE "C"). */
export function literalString(node: unknown): string | undefined {
  let cur = node as Record<string, Record<string, unknown>> | undefined;
  for (let i = 0; i < 8 && cur; i++) {
    if (cur.A_Const) {
      const sv = cur.A_Const.sval as { sval?: string } | undefined;
      return sv ? (sv.sval ?? '') : undefined;
    }
    if (cur.TypeCast) cur = cur.TypeCast.arg as typeof cur;
    else if (cur.CollateClause) cur = cur.CollateClause.arg as typeof cur;
    else return undefined;
  }
  return undefined;
}

function typeNameParts(typeName: unknown): string[] | undefined {
  return nameList((typeName as { names?: unknown } | undefined)?.names);
}

export function newFacts(): Facts {
  return {
    nodeCount: 0,
    maxDepth: 0,
    tooComplex: undefined,
    unknownTypes: [],
    relations: [],
    functions: [],
    operators: [],
    params: 0,
    locking: false,
    nestedWrites: [],
    nestedStatements: [],
    copyProgram: false,
    dynamicRegCasts: [],
    regValueMixes: [],
    regNames: [],
    sessionValues: [],
    explainSettings: false,
  };
}

/**
 * Walk one statement (a wrapped node such as `{ SelectStmt: {...} }`) and add its facts to
 * `facts` (several statements may share one Facts).
 */
export function walkStatement(root: unknown, limits: WalkLimits, facts: Facts): Facts {
  const stack: Frame[] = [{ v: root, t: '', d: 0, s: undefined, f: F_ROOT }];
  while (stack.length > 0) {
    const fr = stack.pop() as Frame;
    let v = fr.v;
    let t = fr.t;
    if (t === '') {
      if (Array.isArray(v)) {
        for (let i = v.length - 1; i >= 0; i--) stack.push({ v: v[i], t: '', d: fr.d, s: fr.s, f: fr.f & ~F_ROOT });
        continue;
      }
      if (v === null || typeof v !== 'object') continue;
      // a wrapped node: exactly one key, the type name
      let key: string | undefined;
      let count = 0;
      for (const k in v) {
        key = k;
        if (++count > 1) break;
      }
      if (count === 0) continue; // {} stands for a NULL list element
      const c0 = key === undefined ? 0 : key.charCodeAt(0);
      if (count !== 1 || !(c0 >= 65 && c0 <= 90)) {
        facts.unknownTypes.push('<malformed node>');
        continue;
      }
      t = key as string;
      v = (v as Record<string, unknown>)[t];
      if (v === null || typeof v !== 'object') {
        facts.unknownTypes.push('<malformed node>');
        continue;
      }
    }
    // a typed node body
    const depth = fr.d + 1;
    facts.nodeCount++;
    if (depth > facts.maxDepth) facts.maxDepth = depth;
    if (facts.nodeCount > limits.maxNodes) {
      facts.tooComplex = 'nodes';
      return facts;
    }
    if (depth > limits.maxDepth) {
      facts.tooComplex = 'depth';
      return facts;
    }
    visit(t, v as Record<string, unknown>, fr, depth, stack, facts);
  }
  return facts;
}

function pushChildren(
  t: string,
  body: Record<string, unknown>,
  depth: number,
  scope: Scope | undefined,
  flags: number,
  stack: Frame[],
  skip?: string,
  skip2?: string,
): void {
  const inline = INLINE_FIELDS[t];
  for (const k in body) {
    if (k === skip || k === skip2) continue;
    const val = body[k];
    if (val === null || typeof val !== 'object') continue;
    const it = inline?.[k];
    if (it !== undefined && !Array.isArray(val)) stack.push({ v: val, t: it, d: depth, s: scope, f: flags });
    else stack.push({ v: val, t: '', d: depth, s: scope, f: flags });
  }
}

function visit(t: string, b: Record<string, unknown>, fr: Frame, depth: number, stack: Frame[], facts: Facts): void {
  const cls = STATEMENT_CLASS[t];
  let flags = fr.f & ~(F_ROOT | F_WRITE_TARGET | F_CREATE_TARGET);
  let scope = fr.s;
  if (cls !== undefined) {
    // statements
    const isRoot = (fr.f & F_ROOT) !== 0;
    if (!isRoot) {
      const dml = DML_KIND[t];
      if (dml) facts.nestedWrites.push(dml);
      else if (t !== 'SelectStmt') facts.nestedStatements.push(t);
    }
    if (cls !== 'read' && cls !== 'write' && cls !== 'explain') flags |= F_OTHER;
    if (t === 'CreateTableAsStmt' && (b.objtype as string | undefined) === 'OBJECT_MATVIEW') flags |= F_OTHER;
  } else if (!KNOWN_NODES.has(t)) {
    facts.unknownTypes.push(t);
    return;
  }

  switch (t) {
    case 'SelectStmt':
    case 'InsertStmt':
    case 'UpdateStmt':
    case 'DeleteStmt':
    case 'MergeStmt': {
      const w = b.withClause as { ctes?: unknown[]; recursive?: boolean } | undefined;
      let skip: string | undefined;
      if (w) {
        facts.nodeCount++; // the WithClause itself
        const ctes = Array.isArray(w.ctes) ? w.ctes : [];
        const names = ctes.map((c) => ((c as { CommonTableExpr?: { ctename?: string } }).CommonTableExpr?.ctename ?? ''));
        const bodyScope: Scope = { names, parent: scope };
        for (let i = ctes.length - 1; i >= 0; i--) {
          const cteScope: Scope | undefined = w.recursive ? bodyScope : i === 0 ? scope : { names: names.slice(0, i), parent: scope };
          stack.push({ v: ctes[i], t: '', d: depth, s: cteScope, f: flags });
        }
        scope = bodyScope;
        skip = 'withClause';
      }
      if (t === 'SelectStmt') {
        if (b.lockingClause) facts.locking = true;
        // outputs of a sub-select, CTE or set-operation branch meet other values in the outer query
        if ((fr.f & F_ROOT) === 0 && Array.isArray(b.targetList)) {
          for (const rt of b.targetList) regMix((rt as { ResTarget?: { val?: unknown } }).ResTarget?.val, facts);
        }
        if (Array.isArray(b.valuesLists)) {
          for (const row of b.valuesLists) regMixAll((row as { List?: { items?: unknown } }).List?.items, facts);
        }
      } else {
        // the DML target: a real relation, never a CTE
        const rel = b.relation;
        if (rel && typeof rel === 'object') {
          stack.push({ v: rel, t: 'RangeVar', d: depth, s: undefined, f: flags | F_WRITE_TARGET });
          pushChildren(t, b, depth, scope, flags, stack, skip, 'relation');
          return;
        }
      }
      pushChildren(t, b, depth, scope, flags, stack, skip);
      return;
    }
    case 'ExplainStmt': {
      if (explainOption(b.options, 'settings')) facts.explainSettings = true;
      if (b.query) stack.push({ v: b.query, t: '', d: depth, s: scope, f: flags | F_ROOT });
      pushChildren(t, b, depth, scope, flags, stack, 'query');
      return;
    }
    case 'IntoClause': {
      if (b.rel) stack.push({ v: b.rel, t: 'RangeVar', d: depth, s: undefined, f: flags | F_CREATE_TARGET });
      pushChildren(t, b, depth, scope, flags, stack, 'rel');
      return;
    }
    case 'RangeVar': {
      const schema = b.schemaname as string | undefined;
      const name = (b.relname as string | undefined) ?? '';
      const catalog = b.catalogname as string | undefined;
      const parts = catalog !== undefined ? [catalog, schema ?? '', name] : schema !== undefined ? [schema, name] : [name];
      if (fr.f & F_CREATE_TARGET) facts.relations.push({ parts, role: 'create' });
      else if (fr.f & F_WRITE_TARGET) facts.relations.push(b.inh === true ? { parts, role: 'write' } : { parts, role: 'write', only: true });
      else if (fr.f & F_OTHER) facts.relations.push({ parts, role: 'other' });
      else if (!(schema === undefined && catalog === undefined && inScope(scope, name))) {
        facts.relations.push(b.inh === true ? { parts, role: 'read' } : { parts, role: 'read', only: true });
      }
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    }
    case 'FuncCall': {
      const parts = nameList(b.funcname);
      const args = Array.isArray(b.args) ? b.args : [];
      if (parts) facts.functions.push({ parts, kind: 'call', literalArgs: args.map(literalString) });
      else facts.unknownTypes.push('<unnamed function>');
      if (!takesObjectNames(parts)) regMixAll(args, facts);
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    }
    case 'TypeCast': {
      const last = regTypeOf(b.typeName);
      if (last !== undefined) {
        const text = literalString(b.arg);
        // an array of an object-identifier type converts every element (ARRAY[x::oid]::_regclass)
        if (text === undefined || last.endsWith('[]') || /^\s*[0-9]+\s*$/.test(text)) facts.dynamicRegCasts.push(last);
        else regLiteral(last, text, facts);
        // the type name itself is judged here, not again as a TypeName below
        pushChildren(t, b, depth, scope, flags, stack, 'typeName');
        return;
      }
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    }
    case 'A_Expr': {
      aExprOperators(b, facts.operators);
      if (b.kind === 'AEXPR_NULLIF') regMixAll([b.lexpr, b.rexpr], facts);
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    }
    case 'SubLink': {
      subLinkOperators(b, facts.operators);
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    }
    case 'SortBy': {
      const op = nameList(b.useOp);
      if (op && op.length > 0) facts.operators.push(op);
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    }
    case 'CaseExpr': {
      // CASE x WHEN y …: each WHEN compares with the `=` operator found through the search_path
      if (b.arg !== undefined && b.arg !== null) facts.operators.push(['=']);
      for (const w of Array.isArray(b.args) ? b.args : []) regMix((w as { CaseWhen?: { result?: unknown } }).CaseWhen?.result, facts);
      regMix(b.defresult, facts);
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    }
    case 'JoinExpr': {
      // JOIN … USING (c) and NATURAL JOIN compare the columns with the `=` operator found by name
      if (b.isNatural === true || (Array.isArray(b.usingClause) && b.usingClause.length > 0)) facts.operators.push(['=']);
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    }
    case 'RangeFunction':
      // FROM to_regclass('x') AS r: its output column may meet other values like a sub-select's
      for (const f of Array.isArray(b.functions) ? b.functions : []) regMix((f as { List?: { items?: unknown[] } }).List?.items?.[0], facts);
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    case 'A_ArrayExpr':
      regMixAll(b.elements, facts);
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    case 'CoalesceExpr':
    case 'MinMaxExpr':
      regMixAll(b.args, facts);
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    case 'RangeTableSample': {
      const m = nameList(b.method);
      if (m) facts.functions.push({ parts: m, kind: 'tablesample', literalArgs: [] });
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    }
    case 'TypeName': {
      // an object-identifier type outside a literal cast: a column definition list
      // (AS t(a regclass)), JSON_TABLE / XMLTABLE columns, RETURNING regclass … converts values
      // computed at run time (OIDs or names) through the system catalogs
      const reg = regTypeOf(b);
      if (reg !== undefined) facts.dynamicRegCasts.push(reg);
      // a type may be a relation's row type: NULL::internal.api_keys, CAST(ROW(…) AS t), t%TYPE
      const parts = nameList(b.names);
      if (parts && parts.length > 0) {
        const rel = b.pct_type ? parts.slice(0, -1) : parts;
        if (rel.length > 0 && !(rel.length === 2 && rel[0] === 'pg_catalog' && !rel[1]?.startsWith('pg_'))) {
          facts.relations.push({ parts: rel, role: 'type', optional: true });
        }
      }
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    }
    case 'ParamRef':
      facts.params++;
      return;
    case 'SQLValueFunction': {
      const op = SESSION_VALUE_OPS[b.op as string];
      if (op !== undefined) facts.sessionValues.push(op);
      return;
    }
    case 'CopyStmt':
      if (b.is_program || typeof b.filename === 'string') facts.copyProgram = true;
      pushChildren(t, b, depth, scope, flags, stack);
      return;
    default:
      pushChildren(t, b, depth, scope, flags, stack);
  }
}

/** Built-in functions that return an object-identifier type (printed as a name). */
const REG_RETURNING_FUNCTIONS: ReadonlySet<string> = new Set([
  'to_regclass', 'to_regproc', 'to_regprocedure', 'to_regoper', 'to_regoperator', 'to_regtype', 'to_regrole',
  'to_regnamespace', 'to_regcollation', 'regclass', 'pg_typeof', 'pg_basetype', 'pg_partition_root',
  'pg_get_replica_identity_index',
]);

/** Functions whose arguments name relations, functions or types (pg_relation_size('x'::regclass)): no type mixing. */
function takesObjectNames(parts: string[] | undefined): boolean {
  const name = parts?.[parts.length - 1];
  if (name === undefined || (parts !== undefined && parts.length > 1 && parts[parts.length - 2] !== 'pg_catalog')) return false;
  return REGCLASS_ARGS[name] !== undefined || REGPROC_ARGS[name] !== undefined || TYPENAME_ARGS[name] !== undefined || NAME_LOOKUP_FUNCTIONS.has(name);
}

/** If `node` is an object-identifier value (literal cast or reg-returning call), record it as mixed. */
function regMix(node: unknown, facts: Facts): void {
  const n = node as { TypeCast?: { typeName?: unknown }; FuncCall?: { funcname?: unknown } } | undefined;
  if (n?.TypeCast) {
    const reg = regTypeOf(n.TypeCast.typeName);
    if (reg !== undefined) facts.regValueMixes.push(reg);
  } else if (n?.FuncCall) {
    const parts = nameList(n.FuncCall.funcname);
    const name = parts?.[parts.length - 1];
    if (name !== undefined && REG_RETURNING_FUNCTIONS.has(name) && (parts?.length === 1 || parts?.[0] === 'pg_catalog')) facts.regValueMixes.push(name);
  }
}

function regMixAll(list: unknown, facts: Facts): void {
  if (Array.isArray(list)) for (const x of list) regMix(x, facts);
}

/** The object-identifier type a TypeName names (regclass, pg_catalog.regrole …), or undefined. */
function regTypeOf(typeName: unknown): string | undefined {
  const tn = typeNameParts(typeName);
  let last = tn?.[tn.length - 1];
  if (last === undefined || !(tn?.length === 1 || tn?.[0] === 'pg_catalog')) return undefined;
  // _regclass is regclass[] spelled as the array type's own name
  const arrayName = last.startsWith('_') && REG_TYPES.has(last.slice(1));
  if (arrayName) last = last.slice(1);
  if (!REG_TYPES.has(last)) return undefined;
  const bounds = (typeName as { arrayBounds?: unknown[] } | undefined)?.arrayBounds;
  return arrayName || (Array.isArray(bounds) && bounds.length > 0) ? `${last}[]` : last;
}

/** Whether an EXPLAIN option list turns `name` on (`(SETTINGS)`, `(SETTINGS true)`, `(SETTINGS on)` …). */
function explainOption(options: unknown, name: string): boolean {
  if (!Array.isArray(options)) return false;
  for (const o of options) {
    const d = (o as { DefElem?: { defname?: string; arg?: unknown } }).DefElem;
    if (d?.defname?.toLowerCase() !== name) continue;
    const arg = d.arg as { Boolean?: { boolval?: boolean }; String?: { sval?: string }; Integer?: { ival?: number }; A_Const?: unknown } | undefined;
    if (arg === undefined) return true;
    if (arg.Boolean !== undefined) return arg.Boolean.boolval === true;
    if (arg.String !== undefined) return !['false', 'off', 'no', '0'].includes((arg.String.sval ?? '').toLowerCase());
    if (arg.Integer !== undefined) return (arg.Integer.ival ?? 0) !== 0;
    return true; // anything else: assume on (fail closed)
  }
  return false;
}

function regLiteral(type: string, text: string, facts: Facts): void {
  switch (type) {
    case 'regtype': {
      // a type name may be a relation's row type ('internal.api_keys'::regtype)
      const parts = splitQualifiedName(text);
      if (parts) facts.relations.push({ parts, role: 'type', optional: true, literal: true });
      return;
    }
    case 'regclass': {
      const parts = splitQualifiedName(text);
      facts.relations.push({ parts: parts ?? [text], role: 'regclass', literal: true });
      return;
    }
    case 'regproc':
    case 'regprocedure': {
      const parts = splitQualifiedName(text);
      facts.functions.push({ parts: parts ?? [text], kind: 'regproc', literalArgs: [] });
      return;
    }
    case 'regoper':
    case 'regoperator': {
      const parts = splitOperatorName(text);
      if (parts) facts.operators.push(parts);
      return;
    }
    default:
      facts.regNames.push({ type, text });
  }
}
