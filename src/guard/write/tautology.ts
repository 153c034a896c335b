/**
 * Always-true WHERE detection for UPDATE / DELETE (TAUTOLOGICAL_WHERE).
 *
 * Each boolean expression is evaluated to the SET of truth values it can take on any row, in
 * SQL's three-valued logic ({true, false, null}); a predicate is a tautology when the set is
 * exactly {true}. One deliberate simplification: a comparison of an expression with itself
 * (`x = x`, `p OR NOT p`, `x LIKE '%'`) counts as true even where x is NULL — such a predicate
 * still selects every row that has a value, which is never what a scoped write means.
 *
 * Guarantees (what is detected, at any nesting under AND / OR / NOT / CASE / COALESCE / casts):
 * - constants and constant-foldable comparisons: `true`, `'t'::bool`, `1=1`, `'a'='a'`, `1 < 2`,
 *   `2 > 1.5`, `1+1 = 2`, `1 IN (1, 2)`, `NOT false`, `NULL IS NULL`, `true IS TRUE`,
 *   `coalesce(NULL, true)`, `CASE WHEN … THEN true ELSE true END`, `EXISTS (SELECT 1)`;
 * - reflexive comparisons of one expression with itself (no volatile function, no subquery),
 *   looking through COLLATE and unary plus: `x = x`, `x >= x`, `lower(a) = lower(a)`,
 *   `x = x COLLATE "C"`, `x = +x`, `x IS NOT DISTINCT FROM x`, `x IN (x, …)`, `x = ANY (ARRAY[x, …])`,
 *   `x BETWEEN x AND x`, `x LIKE '%'`, `x ~ ''` and `x SIMILAR TO '%'`;
 * - a scalar sub-select of one constant and nothing else: `(SELECT true)`, `(SELECT 1) = 1`;
 * - `col IS NOT NULL` (and `NOT col IS NULL`) on a column the catalog declares NOT NULL;
 * - complementary disjuncts: `p OR NOT p`, `a < b OR a >= b` (also with sides swapped),
 *   `x IS NULL OR x IS NOT NULL`, `p IS TRUE OR p IS NOT TRUE`;
 * - boolean combinations: AND of tautologies, OR with a tautology.
 * Does not: prove range coverage (`id > 0` on a serial key, `status <> 'x'` when no row has 'x'),
 * reason about the data, or evaluate functions other than coalesce: those predicates pass the
 * static rules and are caught by the blast-radius thresholds at execution.
 *
 * Size (#15 item 5): evalBool and evalScalar (~72 lines each) stay whole: each is one switch over
 * NodeTag, a few lines per kind and a written default (ANY / unknown), read as the table of what
 * each kind evaluates to; split, a kind's case and the default would live apart.
 */
import type { A_Expr_Kind, BoolExprType, BoolTestType, NullTestType, SetOperation, SubLinkType } from '@pgsql/types';
import { writeAnalysisBudget, type Budget } from '../ast/budget.js';
import { descendRaw, SKIP, STOP, THROW_ON_REFUSE, traverse, visitorTable, type NodeVisit, type Visitor } from '../ast/traverse.js';
import { asArray, isObj, lastName, names, sameExpr, unwrap, type Obj } from './ast.js';

const T = 1;
const F = 2;
const N = 4;
const ANY = T | F | N;

/** What the evaluator needs to know about columns and functions. */
export interface PredicateContext {
  /** Whether a column reference (ColumnRef.fields as names) is a NOT NULL column of the target. */
  isNotNullColumn(fields: readonly string[]): boolean;
  /** Whether a function call may return different values for the same arguments (volatile). */
  isVolatileFunction(nameParts: readonly string[]): boolean;
  /** The write analysis' shared budget (ast/budget.ts); deterministic() and sameExpr() spend it. */
  budget?: Budget;
}

type Scalar = { c: true; v: string | number | boolean | null } | { c: false; notNull: boolean };
const UNKNOWN_SCALAR: Scalar = { c: false, notNull: false };

const MIRROR: Readonly<Record<string, string>> = { '=': '=', '<>': '<>', '!=': '!=', '<': '>', '>': '<', '<=': '>=', '>=': '<=' };
const NEGATE: Readonly<Record<string, string>> = { '=': '<>', '<>': '=', '!=': '=', '<': '>=', '>=': '<', '>': '<=', '<=': '>' };
const BOOL_TYPES = new Set(['bool', 'boolean']);
const NUMBER_TYPES = new Set(['int2', 'int4', 'int8', 'smallint', 'integer', 'int', 'bigint', 'numeric', 'decimal', 'float4', 'float8', 'real', 'double precision']);
const TEXT_TYPES = new Set(['text', 'varchar', 'bpchar', 'char', 'name']);

/** Whether a WHERE / ON expression is always true (see the module header for what is detected). */
export function isTautology(expr: unknown, ctx: PredicateContext): boolean {
  return evalBool(expr, ctx, 0) === T;
}

/** The set of truth values (bit mask T|F|N) a boolean expression can take. Exported for tests. */
export function truthSet(expr: unknown, ctx: PredicateContext): { true: boolean; false: boolean; null: boolean } {
  const s = evalBool(expr, ctx, 0);
  return { true: (s & T) !== 0, false: (s & F) !== 0, null: (s & N) !== 0 };
}

const MAX_DEPTH = 200;

function not3(s: number): number {
  let r = 0;
  if (s & T) r |= F;
  if (s & F) r |= T;
  if (s & N) r |= N;
  return r;
}

function and3(a: number, b: number): number {
  let r = 0;
  for (const x of [T, F, N]) {
    if (!(a & x)) continue;
    for (const y of [T, F, N]) {
      if (!(b & y)) continue;
      r |= x === F || y === F ? F : x === N || y === N ? N : T;
    }
  }
  return r;
}

function or3(a: number, b: number): number {
  return not3(and3(not3(a), not3(b)));
}

function fromBool(v: boolean | null): number {
  return v === null ? N : v ? T : F;
}

function boolFromText(s: string): boolean | undefined {
  const v = s.trim().toLowerCase();
  if (v === '') return undefined;
  if ('true'.startsWith(v) || 'yes'.startsWith(v) || v === 'on' || v === '1') return v === 'o' ? undefined : true;
  if ('false'.startsWith(v) || 'no'.startsWith(v) || v === 'off' || v === 'of' || v === '0') return false;
  return undefined;
}

function typeNameOf(typeName: unknown): string | undefined {
  if (!isObj(typeName)) return undefined;
  if (asArray(typeName.arrayBounds).length > 0) return undefined;
  return lastName(typeName.names);
}

function evalBool(node: unknown, ctx: PredicateContext, depth: number): number {
  if (depth > MAX_DEPTH) return ANY;
  const [t, b] = unwrap(node);
  switch (t) {
    case 'A_Const': {
      if (b.isnull === true) return N;
      if (isObj(b.boolval)) return fromBool(b.boolval.boolval === true);
      if (isObj(b.sval)) {
        const v = boolFromText(String(b.sval.sval ?? ''));
        return v === undefined ? ANY : fromBool(v);
      }
      return ANY;
    }
    case 'TypeCast': {
      const ty = typeNameOf(b.typeName);
      if (ty === undefined || !BOOL_TYPES.has(ty)) return ANY;
      const inner = evalBool(b.arg, ctx, depth + 1);
      if (inner !== ANY) return inner;
      const sc = evalScalar(b.arg, ctx, depth + 1);
      if (sc.c) {
        if (sc.v === null) return N;
        if (typeof sc.v === 'boolean') return fromBool(sc.v);
        if (typeof sc.v === 'number') return Number.isInteger(sc.v) ? fromBool(sc.v !== 0) : ANY;
        const v = boolFromText(sc.v);
        return v === undefined ? ANY : fromBool(v);
      }
      return ANY;
    }
    case 'BoolExpr':
      return evalBoolExpr(b, ctx, depth);
    case 'A_Expr':
      return evalAExpr(b, ctx, depth);
    case 'NullTest': {
      const test = NULL_TEST[b.nulltesttype as NullTestType] as NullTestEntry | undefined;
      if (test === undefined) return ANY; // a member this parser does not have
      const notNull = argNeverNull(b.arg, ctx, depth) || (evalBool(b.arg, ctx, depth + 1) & N) === 0;
      const alwaysNull = argAlwaysNull(b.arg, ctx, depth);
      const r = notNull ? F : alwaysNull ? T : T | F; // as IS NULL
      return test.isNull ? r : not3(r);
    }
    case 'BooleanTest': {
      const test = BOOL_TEST[b.booltesttype as BoolTestType] as BoolTestEntry | undefined;
      if (test === undefined) return ANY; // a member this parser does not have
      const s = evalBool(b.arg, ctx, depth + 1);
      let r = 0;
      for (const x of [T, F, N]) if (s & x) r |= test.holds & x ? T : F;
      return r;
    }
    case 'CoalesceExpr': {
      let r = 0;
      for (const a of asArray(b.args)) {
        const s = evalBool(a, ctx, depth + 1);
        r |= s & (T | F);
        if (!(s & N)) return r;
      }
      return r | N;
    }
    case 'CaseExpr':
      return evalCase(b, ctx, depth);
    case 'SubLink': {
      const form = SUBLINK_FORM[b.subLinkType as SubLinkType] as SubLinkForm | undefined;
      if (form === 'exists') return trivialOneRowSelect(b.subselect) ? T : ANY;
      const only = soleConstant(b);
      return only === undefined ? ANY : evalBool(only, ctx, depth + 1);
    }
    default:
      // Every other kind, and '' (not a node of the installed parser): truth set unknown. ANY is
      // the evaluator's sound answer (it never claims fewer truth values than an expression can
      // take), so an unlisted kind can never make a predicate read as a tautology; such writes are
      // bounded by the blast-radius thresholds instead (module header: Does not).
      return ANY;
  }
}

type Eval<B = Obj> = (b: B, ctx: PredicateContext, depth: number) => number;

/** BoolExpr: one evaluator per BoolExprType (total: a new member is a compile error here). */
const BOOL_EXPR: Readonly<Record<BoolExprType, Eval<unknown[]>>> = {
  NOT_EXPR: (args, ctx, depth) => not3(evalBool(args[0], ctx, depth + 1)),
  AND_EXPR: (args, ctx, depth) => {
    let r = T;
    for (const a of args) r = and3(r, evalBool(a, ctx, depth + 1));
    return r;
  },
  OR_EXPR: (args, ctx, depth) => {
    const flat = flattenOr(args);
    const sets = flat.map((a) => evalBool(a, ctx, depth + 1));
    let r = F;
    for (const s of sets) r = or3(r, s);
    if ((r & F) === 0 || flat.length > 64) return r;
    // complementary pairs are true (or null) together even though each alone can be false
    for (let i = 0; i < flat.length; i++) {
      for (let j = i + 1; j < flat.length; j++) {
        const pair = complement(flat[i], flat[j], ctx);
        if (pair === undefined) continue;
        let rest = pair;
        for (let k = 0; k < flat.length; k++) if (k !== i && k !== j) rest = or3(rest, sets[k] as number);
        return rest;
      }
    }
    return r;
  },
};

interface NullTestEntry {
  /** The test is IS NULL (else IS NOT NULL). */
  isNull: boolean;
  complement: NullTestType;
}
const NULL_TEST: Readonly<Record<NullTestType, NullTestEntry>> = {
  IS_NULL: { isNull: true, complement: 'IS_NOT_NULL' },
  IS_NOT_NULL: { isNull: false, complement: 'IS_NULL' },
};

interface BoolTestEntry {
  /** The truth values (T|F|N) of the operand for which the test is true. */
  holds: number;
  complement: BoolTestType;
}
const BOOL_TEST: Readonly<Record<BoolTestType, BoolTestEntry>> = {
  IS_TRUE: { holds: T, complement: 'IS_NOT_TRUE' },
  IS_NOT_TRUE: { holds: F | N, complement: 'IS_TRUE' },
  IS_FALSE: { holds: F, complement: 'IS_NOT_FALSE' },
  IS_NOT_FALSE: { holds: T | N, complement: 'IS_FALSE' },
  IS_UNKNOWN: { holds: N, complement: 'IS_NOT_UNKNOWN' },
  IS_NOT_UNKNOWN: { holds: T | F, complement: 'IS_UNKNOWN' },
};

/**
 * What the evaluator reads of each sub-select form: 'exists' (EXISTS (SELECT <constants>) is
 * true), 'scalar' ((SELECT <constant>) is that constant), 'opaque' (nothing: any value).
 */
type SubLinkForm = 'exists' | 'scalar' | 'opaque';
const SUBLINK_FORM: Readonly<Record<SubLinkType, SubLinkForm>> = {
  EXISTS_SUBLINK: 'exists',
  EXPR_SUBLINK: 'scalar',
  ALL_SUBLINK: 'opaque',
  ANY_SUBLINK: 'opaque',
  ROWCOMPARE_SUBLINK: 'opaque',
  MULTIEXPR_SUBLINK: 'opaque',
  ARRAY_SUBLINK: 'opaque',
  CTE_SUBLINK: 'opaque',
};

/** Whether a SelectStmt with this set operation yields at most the one row of its target list. */
const SINGLE_ROW_SETOP: Readonly<Record<SetOperation, boolean>> = {
  SETOP_NONE: true,
  SETOP_UNION: false,
  SETOP_INTERSECT: false,
  SETOP_EXCEPT: false,
};

function evalBoolExpr(b: Obj, ctx: PredicateContext, depth: number): number {
  const ev = BOOL_EXPR[b.boolop as BoolExprType] as Eval<unknown[]> | undefined;
  return ev === undefined ? ANY : ev(asArray(b.args), ctx, depth);
}

function flattenOr(args: unknown[]): unknown[] {
  const out: unknown[] = [];
  const stack = [...args].reverse();
  while (stack.length > 0 && out.length <= 64) {
    const a = stack.pop();
    const [t, b] = unwrap(a);
    if (t === 'BoolExpr' && isOr(b)) for (const x of [...asArray(b.args)].reverse()) stack.push(x);
    else out.push(a);
  }
  return out;
}

/** If a and b are complements (p / NOT p, a<b / a>=b, …): the truth set of `a OR b`; else undefined. */
function complement(a: unknown, b: unknown, ctx: PredicateContext): number | undefined {
  const [ta, ba] = unwrap(a);
  const [tb, bb] = unwrap(b);
  if (ta === 'BoolExpr' && isNot(ba) && same(ctx, asArray(ba.args)[0], b) && deterministic(b, ctx)) return T;
  if (tb === 'BoolExpr' && isNot(bb) && same(ctx, asArray(bb.args)[0], a) && deterministic(a, ctx)) return T;
  if (ta === 'NullTest' && tb === 'NullTest' && NULL_TEST[ba.nulltesttype as NullTestType]?.complement === bb.nulltesttype && same(ctx, ba.arg, bb.arg) && deterministic(ba.arg, ctx)) return T;
  if (ta === 'BooleanTest' && tb === 'BooleanTest' && same(ctx, ba.arg, bb.arg) && deterministic(ba.arg, ctx)) {
    if (BOOL_TEST[ba.booltesttype as BoolTestType]?.complement === bb.booltesttype) return T;
  }
  if (ta === 'A_Expr' && tb === 'A_Expr' && isPlainOperator(ba) && isPlainOperator(bb) && asArray(ba.name).length === 1 && asArray(bb.name).length === 1) {
    const oa = lastName(ba.name) ?? '';
    const ob = lastName(bb.name) ?? '';
    if (NEGATE[oa] === undefined || NEGATE[ob] === undefined) return undefined;
    if (!deterministic(ba.lexpr, ctx) || !deterministic(ba.rexpr, ctx)) return undefined;
    const sameSides = same(ctx, ba.lexpr, bb.lexpr) && same(ctx, ba.rexpr, bb.rexpr);
    const swapped = same(ctx, ba.lexpr, bb.rexpr) && same(ctx, ba.rexpr, bb.lexpr);
    const ok = (sameSides && canon(NEGATE[oa]) === canon(ob)) || (swapped && canon(NEGATE[oa]) === canon(MIRROR[ob] ?? ''));
    if (ok) return T;
  }
  return undefined;
}

function canon(op: string | undefined): string {
  return op === '!=' ? '<>' : (op ?? '');
}

function evalCase(b: Obj, ctx: PredicateContext, depth: number): number {
  let r = 0;
  const simple = b.arg !== undefined;
  for (const w of asArray(b.args)) {
    const [, wb] = unwrap(w);
    const res = evalBool(wb.result, ctx, depth + 1);
    if (!simple) {
      const cond = evalBool(wb.expr, ctx, depth + 1);
      if (cond === F || cond === N || cond === (F | N)) continue; // never taken
      r |= res;
      if (cond === T) return r; // always taken: later branches unreachable
    } else {
      r |= res;
    }
  }
  return r | (b.defresult === undefined ? N : evalBool(b.defresult, ctx, depth + 1));
}

/** `~` / `~*` match every value with an empty pattern; `!~` / `!~*` none. */
const REGEX_MATCH: Readonly<Record<string, boolean>> = { '~': true, '~*': true, '!~': false, '!~*': false };

/**
 * The expression a comparison really compares: COLLATE changes neither equality nor the order of
 * a value with itself, unary plus changes nothing.
 */
function identityOf(node: unknown): unknown {
  let cur = node;
  for (let i = 0; i < 16; i++) {
    const [t, b] = unwrap(cur);
    if (t === 'CollateClause') cur = b.arg;
    else if (t === 'A_Expr' && isPlainOperator(b) && b.lexpr === undefined && lastName(b.name) === '+' && asArray(b.name).length === 1) cur = b.rexpr;
    else return cur;
  }
  return cur;
}

/** The one constant of a scalar sub-select `(SELECT <constant>)` with nothing else, or undefined. */
function soleConstant(b: Obj): unknown {
  if (SUBLINK_FORM[b.subLinkType as SubLinkType] !== 'scalar' || !trivialOneRowSelect(b.subselect)) return undefined;
  const targets = asArray(unwrap(b.subselect)[1].targetList);
  return targets.length === 1 ? unwrap(targets[0])[1].val : undefined;
}

/** EXISTS (SELECT <constants>) with no FROM, WHERE, GROUP, HAVING, LIMIT/OFFSET, set operation. */
function trivialOneRowSelect(node: unknown): boolean {
  const [t, b] = unwrap(node);
  if (t !== 'SelectStmt') return false;
  if (b.op !== undefined && SINGLE_ROW_SETOP[b.op as SetOperation] !== true) return false;
  for (const k of ['fromClause', 'whereClause', 'groupClause', 'havingClause', 'limitCount', 'limitOffset', 'valuesLists', 'withClause', 'windowClause']) {
    if (b[k] !== undefined) return false;
  }
  return asArray(b.targetList).every((rt) => unwrap(unwrap(rt)[1].val)[0] === 'A_Const');
}

/** An A_Expr evaluator: the body, its (canonical) operator name, the context and depth. */
type AExprEval = (b: Obj, op: string, ctx: PredicateContext, depth: number) => number;

/** A kind the evaluator does not reason about: any truth value. */
const opaqueAExpr: AExprEval = () => ANY;

function evalPlainOperator(b: Obj, op: string, ctx: PredicateContext, depth: number): number {
  if (b.lexpr === undefined || b.rexpr === undefined) return ANY;
  if (REGEX_MATCH[op] !== undefined) {
    // x ~ '' matches every value (like x LIKE '%'; see the header on NULLs)
    const pattern = evalScalar(b.rexpr, ctx, depth + 1);
    return pattern.c && pattern.v === '' ? (REGEX_MATCH[op] ? T : F) : ANY;
  }
  if (NEGATE[op] === undefined) return ANY;
  if (same(ctx, identityOf(b.lexpr), identityOf(b.rexpr)) && deterministic(b.lexpr, ctx)) {
    return op === '=' || op === '<=' || op === '>=' ? T : F; // reflexive: see the header on NULLs
  }
  const l = evalScalar(b.lexpr, ctx, depth + 1);
  const r = evalScalar(b.rexpr, ctx, depth + 1);
  if (l.c && r.c) return compareConst(op, l.v, r.v);
  // boolean = boolean (e.g. (1=1) = true)
  const lb = evalBool(b.lexpr, ctx, depth + 1);
  const rb = evalBool(b.rexpr, ctx, depth + 1);
  if ((op === '=' || op === '<>') && lb !== ANY && rb !== ANY) {
    let out = 0;
    for (const x of [T, F, N]) {
      if (!(lb & x)) continue;
      for (const y of [T, F, N]) {
        if (!(rb & y)) continue;
        out |= x === N || y === N ? N : (x === y) === (op === '=') ? T : F;
      }
    }
    return out;
  }
  // a comparison of two never-null operands is never null
  return argNeverNull(b.lexpr, ctx, depth) && argNeverNull(b.rexpr, ctx, depth) ? T | F : ANY;
}

/** IS [NOT] DISTINCT FROM (`distinct`: the IS DISTINCT FROM form). */
function evalDistinct(distinct: boolean): AExprEval {
  return (b, _op, ctx, depth) => {
    if (same(ctx, b.lexpr, b.rexpr) && deterministic(b.lexpr, ctx)) return distinct ? F : T;
    const l = evalScalar(b.lexpr, ctx, depth + 1);
    const r = evalScalar(b.rexpr, ctx, depth + 1);
    if (l.c && r.c) {
      const eq = l.v === null || r.v === null ? l.v === r.v : compareConst('=', l.v, r.v);
      if (typeof eq === 'boolean') return fromBool(distinct ? !eq : eq);
      if (eq === T || eq === F) return distinct ? not3(eq) : eq;
    }
    return ANY;
  };
}

/** x = ANY (ARRAY[…, x, …]): like x IN (…, x, …). */
function evalOpAny(b: Obj, op: string, ctx: PredicateContext): number {
  const [at, ab] = unwrap(b.rexpr);
  if (op !== '=' || at !== 'A_ArrayExpr' || !deterministic(b.lexpr, ctx)) return ANY;
  const x = identityOf(b.lexpr);
  return asArray(ab.elements).some((e) => same(ctx, identityOf(e), x)) ? T : ANY;
}

function evalIn(b: Obj, op: string, ctx: PredicateContext, depth: number): number {
  const items = asArray(unwrap(b.rexpr)[1].items);
  const negated = op === '<>';
  if (items.length === 0) return ANY;
  if (deterministic(b.lexpr, ctx) && items.some((it) => same(ctx, it, b.lexpr))) {
    return negated ? F : T;
  }
  const l = evalScalar(b.lexpr, ctx, depth + 1);
  if (!l.c) return ANY;
  let r = F;
  for (const it of items) {
    const v = evalScalar(it, ctx, depth + 1);
    if (!v.c) return ANY;
    r = or3(r, compareConst('=', l.v, v.v));
  }
  return negated ? not3(r) : r;
}

/** x [NOT] BETWEEN [SYMMETRIC] x AND x: reflexive on both bounds (`negated`: the NOT forms). */
function evalBetween(negated: boolean): AExprEval {
  return (b, _op, ctx) => {
    const bounds = asArray(unwrap(b.rexpr)[1].items);
    if (bounds.length !== 2 || !deterministic(b.lexpr, ctx)) return ANY;
    const x = identityOf(b.lexpr);
    if (!bounds.every((e) => same(ctx, identityOf(e), x))) return ANY;
    return negated ? F : T;
  };
}

/** x SIMILAR TO '%' (the pattern arrives as similar_to_escape('%')). */
function evalSimilar(b: Obj, op: string, ctx: PredicateContext, depth: number): number {
  const [ft, fb] = unwrap(b.rexpr);
  if (ft !== 'FuncCall' || lastName(fb.funcname) !== 'similar_to_escape') return ANY;
  const args = asArray(fb.args);
  const pattern = args.length === 1 ? evalScalar(args[0], ctx, depth + 1) : UNKNOWN_SCALAR;
  if (!pattern.c || typeof pattern.v !== 'string' || !/^%+$/.test(pattern.v)) return ANY;
  return op === '!~' ? F : T;
}

/** x [I]LIKE '%'. */
function evalLike(b: Obj, op: string, ctx: PredicateContext, depth: number): number {
  const pattern = evalScalar(b.rexpr, ctx, depth + 1);
  if (!pattern.c || typeof pattern.v !== 'string' || !/^%+$/.test(pattern.v)) return ANY;
  return op === '!~~' || op === '!~~*' ? F : T;
}

/** One evaluator per A_Expr_Kind (total: a new member is a compile error here). */
const A_EXPR_TRUTH: Readonly<Record<A_Expr_Kind, AExprEval>> = {
  AEXPR_OP: evalPlainOperator,
  AEXPR_OP_ANY: evalOpAny,
  AEXPR_OP_ALL: opaqueAExpr, // x op ALL (array): not reasoned about
  AEXPR_DISTINCT: evalDistinct(true),
  AEXPR_NOT_DISTINCT: evalDistinct(false),
  AEXPR_NULLIF: opaqueAExpr, // a value, not a predicate
  AEXPR_IN: evalIn,
  AEXPR_LIKE: evalLike,
  AEXPR_ILIKE: evalLike,
  AEXPR_SIMILAR: evalSimilar,
  AEXPR_BETWEEN: evalBetween(false),
  AEXPR_NOT_BETWEEN: evalBetween(true),
  AEXPR_BETWEEN_SYM: evalBetween(false),
  AEXPR_NOT_BETWEEN_SYM: evalBetween(true),
};

/**
 * Single-shape tests over an enum field: the one member with the shape, every other member (or
 * a member a newer parser adds) is "not this shape", which the evaluator treats as opaque (ANY).
 */
function isPlainOperator(b: Obj): boolean {
  return (b.kind as A_Expr_Kind | undefined) === 'AEXPR_OP';
}
function isNot(b: Obj): boolean {
  return (b.boolop as BoolExprType | undefined) === 'NOT_EXPR';
}
function isOr(b: Obj): boolean {
  return (b.boolop as BoolExprType | undefined) === 'OR_EXPR';
}

function evalAExpr(b: Obj, ctx: PredicateContext, depth: number): number {
  const ev = A_EXPR_TRUTH[b.kind as A_Expr_Kind] as AExprEval | undefined;
  if (ev === undefined) return ANY; // a kind this parser does not have
  const qualifiedOp = asArray(b.name).length > 1;
  if (qualifiedOp && names(b.name)?.[0] !== 'pg_catalog') return ANY;
  return ev(b, canon(lastName(b.name)), ctx, depth);
}

function compareConst(op: string, a: string | number | boolean | null, b: string | number | boolean | null): number {
  if (a === null || b === null) return N;
  let x = a;
  let y = b;
  // an untyped string literal next to a number is read as a number ('1' = 1)
  if (typeof x === 'number' && typeof y === 'string') y = numeric(y) ?? y;
  if (typeof y === 'number' && typeof x === 'string') x = numeric(x) ?? x;
  if (typeof x === 'boolean' && typeof y === 'string') y = boolFromText(y) ?? y;
  if (typeof y === 'boolean' && typeof x === 'string') x = boolFromText(x) ?? x;
  if (typeof x !== typeof y) return ANY;
  if (typeof x === 'string' && op !== '=' && op !== '<>') return ANY; // ordering depends on the collation
  switch (op) {
    case '=':
      return fromBool(x === y);
    case '<>':
      return fromBool(x !== y);
    case '<':
      return fromBool(x < y);
    case '<=':
      return fromBool(x <= y);
    case '>':
      return fromBool(x > y);
    case '>=':
      return fromBool(x >= y);
    default:
      return ANY; // any other operator: not folded (its result is unknown)
  }
}

function numeric(s: string): number | undefined {
  const v = s.trim();
  if (!/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(v)) return undefined;
  const n = Number(v);
  return Number.isFinite(n) ? n : undefined;
}

function evalScalar(node: unknown, ctx: PredicateContext, depth: number): Scalar {
  if (depth > MAX_DEPTH) return UNKNOWN_SCALAR;
  const [t, b] = unwrap(node);
  switch (t) {
    case 'A_Const': {
      if (b.isnull === true) return { c: true, v: null };
      if (isObj(b.ival)) return { c: true, v: Number(b.ival.ival ?? 0) };
      if (isObj(b.fval)) {
        const n = numeric(String(b.fval.fval ?? ''));
        return n === undefined ? UNKNOWN_SCALAR : { c: true, v: n };
      }
      if (isObj(b.sval)) return { c: true, v: String(b.sval.sval ?? '') };
      if (isObj(b.boolval)) return { c: true, v: b.boolval.boolval === true };
      return { c: false, notNull: true };
    }
    case 'TypeCast': {
      const ty = typeNameOf(b.typeName);
      const inner = evalScalar(b.arg, ctx, depth + 1);
      if (!inner.c || ty === undefined) return inner.c ? { c: false, notNull: inner.v !== null } : { c: false, notNull: inner.notNull };
      if (inner.v === null) return inner;
      if (NUMBER_TYPES.has(ty)) {
        const n = typeof inner.v === 'number' ? inner.v : typeof inner.v === 'string' ? numeric(inner.v) : undefined;
        return n === undefined ? { c: false, notNull: true } : { c: true, v: n };
      }
      if (TEXT_TYPES.has(ty) && ty !== 'bpchar' && ty !== 'char') return { c: true, v: String(inner.v) };
      if (BOOL_TYPES.has(ty)) {
        const s = evalBool(node, ctx, depth + 1);
        return s === T ? { c: true, v: true } : s === F ? { c: true, v: false } : { c: false, notNull: true };
      }
      return { c: false, notNull: true };
    }
    case 'A_Expr': {
      if (!isPlainOperator(b) || asArray(b.name).length !== 1) break;
      const op = lastName(b.name);
      const r = evalScalar(b.rexpr, ctx, depth + 1);
      if (b.lexpr === undefined) {
        if (r.c && typeof r.v === 'number' && (op === '-' || op === '+')) return { c: true, v: op === '-' ? -r.v : r.v };
        break;
      }
      const l = evalScalar(b.lexpr, ctx, depth + 1);
      if (l.c && r.c && typeof l.v === 'number' && typeof r.v === 'number') {
        switch (op) {
          case '+':
            return { c: true, v: l.v + r.v };
          case '-':
            return { c: true, v: l.v - r.v };
          case '*':
            return { c: true, v: l.v * r.v };
          default:
          // any other operator: not folded; read as a boolean below
        }
      }
      break;
    }
    case 'ColumnRef': {
      const f = names(b.fields);
      return { c: false, notNull: f !== undefined && ctx.isNotNullColumn(f) };
    }
    case 'SubLink': {
      const only = soleConstant(b);
      if (only !== undefined) return evalScalar(only, ctx, depth + 1);
      break;
    }
    default:
    // every other kind, and '' (not a node): no constant of its own; read as a boolean below,
    // else unknown (UNKNOWN_SCALAR: may be NULL, so never taken for NOT NULL)
  }
  const s = evalBool(node, ctx, depth + 1);
  if (s === T || s === F) return { c: true, v: s === T };
  if (s === N) return { c: true, v: null };
  return UNKNOWN_SCALAR;
}

/** sameExpr over the evaluation's shared budget. */
function same(ctx: PredicateContext, a: unknown, b: unknown): boolean {
  return sameExpr(a, b, (ctx.budget ??= writeAnalysisBudget()));
}

function argNeverNull(node: unknown, ctx: PredicateContext, depth: number): boolean {
  const s = evalScalar(node, ctx, depth + 1);
  return s.c ? s.v !== null : s.notNull;
}

function argAlwaysNull(node: unknown, ctx: PredicateContext, depth: number): boolean {
  const s = evalScalar(node, ctx, depth + 1);
  return s.c && s.v === null;
}

interface DeterministicWalk {
  ctx: PredicateContext;
  deterministic: boolean;
}

function notDeterministic(n: NodeVisit<DeterministicWalk>): typeof STOP {
  n.state.deterministic = false;
  return STOP;
}

/** deterministic() as a visitor: stops at the first subquery, parameter or volatile call. */
const DETERMINISTIC: Visitor<DeterministicWalk> = {
  table: visitorTable<DeterministicWalk>(descendRaw(), {
    SubLink: notDeterministic,
    ParamRef: notDeterministic,
    MultiAssignRef: notDeterministic,
    FuncCall: (n) => {
      const parts = names(n.body.funcname);
      if (parts === undefined || n.state.ctx.isVolatileFunction(parts)) return notDeterministic(n);
      return undefined;
    },
    SQLValueFunction: () => SKIP, // CURRENT_DATE, CURRENT_USER…: stable within a statement
  }),
  inherit: 0,
  listInherit: 0,
  ...THROW_ON_REFUSE,
};

/**
 * Whether an expression gives the same value each time it is evaluated on one row: no volatile
 * function call, no subquery, no parameter. One pass of the traversal core over the subtree,
 * spending the evaluation's shared budget (TooComplexError when it runs out).
 */
export function deterministic(node: unknown, ctx: PredicateContext): boolean {
  return traverse(node, DETERMINISTIC, { ctx, deterministic: true }, (ctx.budget ??= writeAnalysisBudget())).deterministic;
}

/** Convenience for tests and messages: a column reference's field names. */
export function columnRefNames(node: unknown): string[] | undefined {
  const [t, b] = unwrap(node);
  if (t !== 'ColumnRef') return undefined;
  return names(b.fields);
}

/** The total enum tables of this module, for the exhaustiveness test (test/unit/guard/ast/enums.test.ts). */
export const TAUTOLOGY_ENUM_TABLES = {
  BoolExprType: BOOL_EXPR,
  NullTestType: NULL_TEST,
  BoolTestType: BOOL_TEST,
  SubLinkType: SUBLINK_FORM,
  SetOperation: SINGLE_ROW_SETOP,
  A_Expr_Kind: A_EXPR_TRUTH,
} as const;
