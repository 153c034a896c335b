/**
 * Type-based resolution of operator and function candidates: which candidates outside
 * pg_catalog PostgreSQL could pick for a call, given what the statement can say about the
 * argument types (issue #9 item 5).
 *
 * PostgreSQL picks among candidates on the search_path by argument types: an exact match first
 * (in search_path order), else only candidates every argument can be implicitly coerced to. So an
 * extension's `=`(citext, citext) or `strpos(citext, citext)` is never picked for text arguments,
 * while a user-defined `=`(text, text) or `lower(text)` on the path can shadow the built-in.
 *
 * Guarantees (over-approximation: "could be picked" is never answered no when PostgreSQL might
 * pick the candidate):
 * - an argument's possible types are derived syntactically: literals (a string literal or NULL is
 *   `unknown`, which coerces to anything), casts, columns of the relations the statement reads
 *   (a column name that any derived source — sub-select, CTE, function in FROM, alias list,
 *   VALUES — may also produce counts as any type), SQL value functions, and the result types of
 *   the function and operator candidates of a nested call; anything else is "any type the
 *   statement can produce";
 * - "any type the statement can produce" is the closure, over implicit casts, domain bases,
 *   array/element, range/subtype and composite fields, of every pg_catalog type, the column types
 *   of the relations it reads, the types it names, and the result types of the non-pg_catalog
 *   functions and operators whose names it uses;
 * - pseudo-type (polymorphic, `any`, `internal` …) and composite parameters accept anything;
 *   a type the snapshot does not know accepts anything; named arguments disable the arity check;
 * - the exact-match shortcut is taken only when every argument has exactly one possible type
 *   (an unknown operand of a binary operator takes the other operand's type, as PostgreSQL does).
 * - among several coercible candidates, PostgreSQL's tie-breaks (func_select_candidate: exact
 *   matches, preferred types, the categories of unknown literals, unknown literals taking the one
 *   known type) are replayed when every known argument's type is exactly known.
 * Does not: replay the tie-breaks when an argument's type is only known as a set (a candidate it
 * keeps may then lose in PostgreSQL — that errs on refusing).
 *
 * Size (#15 item 5): hintOf, scanNode and figureName (~65–72 lines) and selectCandidate (~74) stay
 * whole: the first three are one switch over NodeTag with a few lines per kind and a written
 * default, read as the table of what each kind means; split, a kind's case and the default would
 * live apart. selectCandidate is PostgreSQL's func_select_candidate, step by step in its order.
 * The file (~1100 lines) is one resolver; splitting it is left to #15 item 5.
 */
import type { A_Expr_Kind, SQLValueFunctionOp, SubLinkType } from '@pgsql/types';
import { newBudget } from './ast/budget.js';
import { unwrapNode } from './ast/node.js';
import type { NodeTag } from './ast/tags.js';
import { descendRaw, traverse, visitorTable, type NodeVisit, type Visitor } from './ast/traverse.js';
import { effectiveSearchPath } from './functions.js';
import { nameList } from './names.js';
import type { CatalogFunction, CatalogOperator, CatalogRelation, CatalogSnapshot, CatalogType, CatalogTypeInfo } from './types.js';

/** What an expression's type can be: `unknown` (an untyped literal), `any`, or a set of type OIDs. */
export type TypeHint = 'unknown' | 'any' | ReadonlySet<number>;

const MAX_HINT_DEPTH = 24;
const MAX_SCAN_NODES = 200_000;

/** Names PostgreSQL gives outputs that carry no column name of their own (FigureColname). */
const KEYWORD_OUTPUTS = ['?column?', 'case', 'array', 'row', 'coalesce', 'greatest', 'least', 'nullif', 'exists', 'ordinality', 'xmlconcat', 'xmlelement', 'xmlforest', 'xmlparse', 'xmlpi', 'xmlroot', 'xmlserialize', 'xmlexists', 'json_object', 'json_array', 'json', 'json_scalar', 'json_serialize', 'json_query', 'json_value', 'json_exists', 'current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp', 'current_role', 'current_user', 'session_user', 'user', 'current_catalog', 'current_schema', 'system_user'];

/**
 * The name PostgreSQL gives an unnamed output of these kinds whatever their arguments
 * (FigureColnameInternal, checked against PostgreSQL 18); several names: one of them.
 */
const KEYWORD_NAMES: Readonly<Partial<Record<NodeTag, readonly string[]>>> = {
  GroupingFunc: ['grouping'],
  MergeSupportFunc: ['merge_action'],
  A_ArrayExpr: ['array'],
  RowExpr: ['row'],
  CoalesceExpr: ['coalesce'],
  MinMaxExpr: ['greatest', 'least'],
  SQLValueFunction: ['current_date', 'current_time', 'current_timestamp', 'localtime', 'localtimestamp', 'current_role', 'current_user', 'session_user', 'user', 'current_catalog', 'current_schema'],
  XmlExpr: ['xmlconcat', 'xmlelement', 'xmlforest', 'xmlparse', 'xmlpi', 'xmlroot', '?column?'],
  XmlSerialize: ['xmlserialize'],
  JsonParseExpr: ['json'],
  JsonScalarExpr: ['json_scalar'],
  JsonSerializeExpr: ['json_serialize'],
  JsonObjectConstructor: ['json_object'],
  JsonArrayConstructor: ['json_array'],
  JsonArrayQueryConstructor: ['json_array'],
  JsonObjectAgg: ['json_objectagg'],
  JsonArrayAgg: ['json_arrayagg'],
  JsonFuncExpr: ['json_query', 'json_value', 'json_exists'],
};

/** The result type of each SQLValueFunction (the session/catalog names are of type name). */
export const SVF_TYPES: Readonly<Record<SQLValueFunctionOp, string>> = {
  SVFOP_CURRENT_ROLE: 'name',
  SVFOP_CURRENT_USER: 'name',
  SVFOP_USER: 'name',
  SVFOP_SESSION_USER: 'name',
  SVFOP_CURRENT_CATALOG: 'name',
  SVFOP_CURRENT_SCHEMA: 'name',
  SVFOP_CURRENT_DATE: 'date',
  SVFOP_CURRENT_TIME: 'timetz',
  SVFOP_CURRENT_TIME_N: 'timetz',
  SVFOP_CURRENT_TIMESTAMP: 'timestamptz',
  SVFOP_CURRENT_TIMESTAMP_N: 'timestamptz',
  SVFOP_LOCALTIME: 'time',
  SVFOP_LOCALTIME_N: 'time',
  SVFOP_LOCALTIMESTAMP: 'timestamp',
  SVFOP_LOCALTIMESTAMP_N: 'timestamp',
};

/** An operand node of unknown shape: its type is anything the statement can produce. */
const ANY_NODE: unknown = Object.freeze({ '?': {} });

/**
 * The type of each A_Expr kind's result: 'operator' (the operator's result type), 'nullif' (its
 * first operand's type) or 'bool' (every other form is a predicate).
 */
export const A_EXPR_RESULT: Readonly<Record<A_Expr_Kind, 'operator' | 'nullif' | 'bool'>> = {
  AEXPR_OP: 'operator',
  AEXPR_NULLIF: 'nullif',
  AEXPR_OP_ANY: 'bool',
  AEXPR_OP_ALL: 'bool',
  AEXPR_DISTINCT: 'bool',
  AEXPR_NOT_DISTINCT: 'bool',
  AEXPR_IN: 'bool',
  AEXPR_LIKE: 'bool',
  AEXPR_ILIKE: 'bool',
  AEXPR_SIMILAR: 'bool',
  AEXPR_BETWEEN: 'bool',
  AEXPR_NOT_BETWEEN: 'bool',
  AEXPR_BETWEEN_SYM: 'bool',
  AEXPR_NOT_BETWEEN_SYM: 'bool',
};

/** The type of each sub-select form: 'value' (the sub-select's column, an array of it, a row) or 'bool'. */
export const SUBLINK_RESULT: Readonly<Record<SubLinkType, 'value' | 'bool'>> = {
  EXPR_SUBLINK: 'value',
  ARRAY_SUBLINK: 'value',
  MULTIEXPR_SUBLINK: 'value',
  EXISTS_SUBLINK: 'bool',
  ALL_SUBLINK: 'bool',
  ANY_SUBLINK: 'bool',
  ROWCOMPARE_SUBLINK: 'bool',
  CTE_SUBLINK: 'bool',
};

/** The name PostgreSQL gives an unnamed sub-select output of each form (EXPR: its own output's name, figured apart). */
export const SUBLINK_NAME: Readonly<Record<SubLinkType, string>> = {
  EXISTS_SUBLINK: 'exists',
  ARRAY_SUBLINK: 'array',
  EXPR_SUBLINK: '?column?',
  MULTIEXPR_SUBLINK: '?column?',
  ALL_SUBLINK: '?column?',
  ANY_SUBLINK: '?column?',
  ROWCOMPARE_SUBLINK: '?column?',
  CTE_SUBLINK: '?column?',
};

const unwrap = unwrapNode;

function sval(node: unknown): string | undefined {
  const u = unwrap(node);
  return u?.[0] === 'String' ? (u[1].sval as string | undefined) : undefined;
}

interface ScanWalk {
  resolver: Resolver;
  names: Set<string>;
}

/** The kinds the scan reads (Resolver.scanNode has one case for each: its switch is exhaustive). */
const SCANNED_KINDS = [
  'ResTarget',
  'RangeSubselect',
  'CommonTableExpr',
  'JoinExpr',
  'ColumnDef',
  'RangeTableFuncCol',
  'JsonTableColumn',
  'RangeTableFunc',
  'JsonTable',
  'RangeFunction',
  'SelectStmt',
  'TypeName',
] as const satisfies readonly NodeTag[];
type ScannedKind = (typeof SCANNED_KINDS)[number];

function scanHandler(n: NodeVisit<ScanWalk>): void {
  n.state.resolver.scanNode(n.tag as ScannedKind, n.body, n.state.names); // the table below calls it for SCANNED_KINDS only
}

/** Resolver.scan as a visitor: the kinds that name outputs or types are read, every raw kind descended into. */
export const RESOLVER_SCAN: Visitor<ScanWalk> = {
  table: visitorTable<ScanWalk>(descendRaw(), Object.fromEntries(SCANNED_KINDS.map((t) => [t, scanHandler]))),
  inherit: 0,
  listInherit: 0,
  refuse: (state) => state.resolver.scanRefused(),
  malformed: (state) => state.resolver.scanRefused(),
};

/** Closure of every pg_catalog type, computed once per snapshot's type information. */
const builtinUniverses = new WeakMap<CatalogTypeInfo, ReadonlySet<number>>();

/** The statement-level context the resolver needs; built once per decision, lazily. */
export class Resolver {
  private readonly info: CatalogTypeInfo;
  private readonly path: readonly string[];
  private derivedAll = false;
  private derivedNames: Set<string> | undefined;
  /** Output names of derived sources → the value nodes that produce them (ANY_NODE: unknown). */
  private readonly producers = new Map<string, unknown[]>();
  private readonly derivedHints = new Map<string, TypeHint>();
  private readonly inProgress = new Map<string, TypeHint>();
  private readonly memo = new Map<unknown, TypeHint>();
  private namedTypes: number[] = [];
  private universeCache: ReadonlySet<number> | undefined;
  private columnTypes: Map<string, Set<number>> | undefined;
  private readonly reachCache = new Map<number, ReadonlySet<number>>();

  constructor(
    private readonly catalog: CatalogSnapshot & { typeInfo: CatalogTypeInfo },
    searchPath: readonly string[],
    private readonly relations: readonly CatalogRelation[],
    private readonly stmts: readonly unknown[],
    /**
     * Names of functions and operators the statement uses, and which non-pg_catalog ones the
     * policy allows: the results of those join the universe (a refused one refuses the statement).
     */
    private readonly usedNames: { functions: readonly string[]; operators: readonly string[]; allowed: (schema: string, name: string) => boolean },
  ) {
    this.info = catalog.typeInfo;
    this.path = effectiveSearchPath(searchPath);
  }

  /** A resolver when the snapshot carries type information, else undefined (every candidate counts). */
  static for(
    catalog: CatalogSnapshot,
    searchPath: readonly string[],
    relations: readonly CatalogRelation[],
    stmts: readonly unknown[],
    usedNames: { functions: readonly string[]; operators: readonly string[]; allowed: (schema: string, name: string) => boolean },
  ): Resolver | undefined {
    if (catalog.typeInfo === undefined) return undefined;
    return new Resolver(catalog as CatalogSnapshot & { typeInfo: CatalogTypeInfo }, searchPath, relations, stmts, usedNames);
  }

  // ---------------------------------------------------------------- functions

  /**
   * Of the candidates of an unqualified function call (every schema of the path), those outside
   * pg_catalog that PostgreSQL could pick for these arguments. `args` undefined: unknown call
   * site (regproc literal …): every candidate counts.
   */
  userFunctionsThatMatter(candidates: readonly CatalogFunction[], args: readonly unknown[] | undefined): Set<CatalogFunction> {
    const user = candidates.filter((c) => c.schema !== 'pg_catalog');
    if (args === undefined || user.length === 0) return new Set(user);
    return new Set(this.pickFunctions(candidates, args, 0).filter((c) => c.schema !== 'pg_catalog'));
  }

  /** The candidates PostgreSQL could pick among `candidates` for these argument nodes (over-approximated). */
  picks(candidates: readonly CatalogFunction[], args: readonly unknown[]): CatalogFunction[] {
    return this.pickFunctions(candidates, args, 0);
  }

  /** Whether a type OID is the pg_catalog type `name`. */
  isType(oid: number, name: string): boolean {
    const t = this.info.types.get(oid);
    return t !== undefined && t.schema === 'pg_catalog' && t.name === name;
  }

  /** The candidates PostgreSQL could pick for a call with these argument nodes (over-approximated). */
  private pickFunctions(candidates: readonly CatalogFunction[], args: readonly unknown[], depth: number): CatalogFunction[] {
    const named = args.some((a) => unwrap(a)?.[0] === 'NamedArgExpr');
    const hints = args.map((a) => this.hint(a, depth + 1));
    const fits = this.visible(candidates, (c) => (c.args === undefined ? undefined : c.args.join(','))).filter((c) => c.args === undefined || named || arityFits(c, args.length));
    if (named) return fits;
    const exact = this.exactFunction(fits, hints);
    if (exact !== undefined) return [exact];
    const coercible = fits.filter((c) => c.args === undefined || hints.every((h, i) => this.fitsAt(c, i, h)));
    if (coercible.some((c) => c.args === undefined)) return coercible;
    return this.selectEach(coercible, hints, (c, i) => this.expandedParam(c, i), (c, i, h) => this.fitsAt(c, i, h), (combo) => this.exactFunction(fits, combo));
  }

  /**
   * selectCandidate for every combination of the arguments' possible types (a column name two
   * relations give different types: `t.id` int4 or int8): the union of PostgreSQL's picks over
   * the combinations contains the real one. More than 64 combinations, or an argument of any
   * type: every coercible candidate is kept.
   */
  private selectEach<T>(
    cands: T[],
    hints: readonly TypeHint[],
    param: (c: T, i: number) => number,
    fits: (c: T, i: number, h: TypeHint) => boolean,
    exact?: (combo: readonly TypeHint[], fitting: readonly T[]) => T | undefined,
  ): T[] {
    if (cands.length <= 1) return cands;
    let combos: TypeHint[][] = [[]];
    for (const h of hints) {
      if (h === 'any') return cands;
      const options: TypeHint[] = h === 'unknown' ? ['unknown'] : [...h].map((t) => new Set([t]));
      combos = combos.flatMap((c) => options.map((o) => [...c, o]));
      if (combos.length > 64) return cands;
    }
    if (combos.length === 1) return this.selectCandidate(cands, hints, param);
    const out = new Set<T>();
    for (const combo of combos) {
      const fitting = cands.filter((c) => combo.every((h, i) => fits(c, i, h)));
      const hit = exact?.(combo, fitting);
      if (hit !== undefined) out.add(hit);
      else for (const c of this.selectCandidate(fitting, combo, param)) out.add(c);
    }
    return cands.filter((c) => out.has(c));
  }

  /**
   * PostgreSQL's choice among several candidates every argument can be coerced to
   * (func_select_candidate, "Type Conversion: Functions" steps 4.c–4.f, also used for operators):
   * (c) most exact matches at the known positions; (d) most known positions where the candidate
   * takes the input's type or a preferred type of the input's category; (e) at the unknown-literal
   * positions, the string category if any candidate takes it (else the one category all take, else
   * no choice), and within it the preferred type if any candidate takes one; (f) with unknown and
   * known arguments whose known types are all one type, the only candidate that takes that type
   * everywhere. Applied only when every known argument's type is exactly known (otherwise the
   * steps cannot be replayed and every coercible candidate is kept); when PostgreSQL could not
   * choose (the call fails as ambiguous) every remaining candidate is kept (over-approximation).
   */
  private selectCandidate<T>(cands: T[], hints: readonly TypeHint[], param: (c: T, i: number) => number): T[] {
    if (cands.length <= 1 || hints.length === 0) return cands;
    const inputs: (number | 'unknown')[] = [];
    for (const h of hints) {
      if (h === 'unknown') inputs.push('unknown');
      else if (h !== 'any' && h.size === 1) inputs.push(this.baseOf([...h][0] as number));
      else return cands;
    }
    const type = (oid: number): CatalogType | undefined => this.info.types.get(oid);
    const keepBest = (list: T[], score: (c: T) => number): T[] => {
      const scores = list.map(score);
      const best = Math.max(...scores);
      return list.filter((_, i) => scores[i] === best);
    };
    // (c) exact matches at known positions
    let out = keepBest(cands, (c) => inputs.reduce<number>((n, t, i) => (t !== 'unknown' && param(c, i) === t ? n + 1 : n), 0));
    if (out.length === 1) return out;
    // (d) exact or preferred-of-the-input's-category at known positions
    out = keepBest(out, (c) =>
      inputs.reduce<number>((n, t, i) => {
        if (t === 'unknown') return n;
        const p = type(param(c, i));
        return param(c, i) === t || (p?.preferred === true && p.category === type(t)?.category) ? n + 1 : n;
      }, 0),
    );
    if (out.length === 1) return out;
    // (e) unknown positions: string category first, then a preferred type
    const unknownAt = inputs.flatMap((t, i) => (t === 'unknown' ? [i] : []));
    if (unknownAt.length > 0) {
      let resolved = true;
      const slot: { category: string; preferred: boolean }[] = [];
      for (const i of unknownAt) {
        let category: string | undefined;
        let preferred = false;
        let conflict = false;
        for (const c of out) {
          const p = type(param(c, i));
          if (p === undefined) return out;
          if (category === undefined) {
            category = p.category;
            preferred = p.preferred;
          } else if (p.category === category) preferred ||= p.preferred;
          else if (p.category === 'S') {
            category = 'S';
            preferred = p.preferred;
          } else conflict = true;
        }
        if (category === undefined || (conflict && category !== 'S')) {
          resolved = false;
          break;
        }
        slot[i] = { category, preferred };
      }
      if (resolved) {
        const kept = out.filter((c) =>
          unknownAt.every((i) => {
            const p = type(param(c, i));
            const want = slot[i] as { category: string; preferred: boolean };
            return p !== undefined && p.category === want.category && (!want.preferred || p.preferred);
          }),
        );
        if (kept.length > 0) out = kept;
        if (out.length === 1) return out;
      }
      // (f) unknown and known arguments, the known ones all of one type
      const known = inputs.filter((t): t is number => t !== 'unknown');
      if (known.length > 0 && known.every((t) => t === known[0])) {
        const k = new Set([known[0] as number]);
        const takes = out.filter((c) => inputs.every((_, i) => this.coercible(k, param(c, i))));
        if (takes.length === 1) return takes;
      }
    }
    return out;
  }

  /** A domain's base type (PostgreSQL resolves a domain argument as its base type). */
  private baseOf(oid: number): number {
    let t = this.info.types.get(oid);
    for (let i = 0; t !== undefined && t.kind === 'd' && t.base !== 0 && i < 16; i++) {
      oid = t.base;
      t = this.info.types.get(oid);
    }
    return oid;
  }

  /**
   * Candidates not hidden by one with the same signature earlier in the search path (PostgreSQL's
   * FuncnameGetCandidates / OpernameGetCandidates keep only the first): a user-defined lower(text)
   * after pg_catalog is never picked. Without a signature (undefined) a candidate is kept.
   */
  private visible<T extends { schema: string }>(cands: readonly T[], signature: (c: T) => string | undefined): T[] {
    const order = (s: string): number => {
      const i = this.path.indexOf(s);
      return i < 0 ? this.path.length : i;
    };
    const sorted = [...cands].sort((a, b) => order(a.schema) - order(b.schema));
    const seen = new Set<string>();
    const out: T[] = [];
    for (const c of sorted) {
      const sig = signature(c);
      if (sig !== undefined) {
        if (seen.has(sig)) continue;
        seen.add(sig);
      }
      out.push(c);
    }
    return out;
  }

  /** The parameter type at position i after VARIADIC expansion (the tail's element type). */
  private expandedParam(c: CatalogFunction, i: number): number {
    const args = c.args ?? [];
    if (c.variadic === true && i >= args.length - 1) return this.info.types.get(args[args.length - 1] ?? 0)?.base ?? 0;
    return args[i] ?? 0;
  }

  /** Whether argument i (possible types h) can go to candidate c's parameter i (a VARIADIC tail: the element or the array). */
  private fitsAt(c: CatalogFunction, i: number, h: TypeHint): boolean {
    const args = c.args ?? [];
    if (c.variadic === true && i >= args.length - 1) {
      const arr = args[args.length - 1] ?? 0;
      const elem = this.info.types.get(arr)?.base ?? 0;
      return this.coercible(h, arr) || elem === 0 || this.coercible(h, elem);
    }
    return this.coercible(h, paramType(c, i));
  }

  private exactFunction(cands: readonly CatalogFunction[], hints: readonly TypeHint[]): CatalogFunction | undefined {
    const types = singletons(hints);
    if (types === undefined) return undefined;
    // a candidate matches exactly also through its defaults or a VARIADIC tail (PostgreSQL expands
    // both before looking for an exact match, and the earlier schema on the path wins)
    for (const schema of this.path) {
      for (const c of cands) {
        if (c.schema !== schema || c.args === undefined || !arityFits(c, types.length)) continue;
        if (types.every((t, i) => t === this.expandedParam(c, i))) return c;
      }
    }
    return undefined;
  }

  // ---------------------------------------------------------------- operators

  /**
   * Candidates outside pg_catalog PostgreSQL could pick for operator `name` (unqualified: every
   * schema of the path; qualified: that schema). `operands` undefined: the operands are unknown
   * (any type the statement can produce).
   */
  userOperatorsThatMatter(name: string, schema: string | undefined, operands: { left: unknown; right: unknown } | undefined): CatalogOperator[] {
    const schemas = schema !== undefined ? [schema] : this.path;
    const all = (this.info.operators.get(name) ?? []).filter((o) => schemas.includes(o.schema));
    if (!all.some((o) => o.schema !== 'pg_catalog')) return [];
    const ops = operands ?? { left: ANY_NODE, right: ANY_NODE };
    return this.pickOperators(all, ops.left, ops.right, 0).filter((o) => o.schema !== 'pg_catalog');
  }

  /** The operators PostgreSQL could pick among `all` for these operand nodes (left undefined: prefix). */
  private pickOperators(all: readonly CatalogOperator[], leftNode: unknown, rightNode: unknown, depth: number): CatalogOperator[] {
    const prefix = leftNode === undefined;
    const fits = this.visible(all, (o) => `${o.left},${o.right}`).filter((o) => (prefix ? o.left === 0 : o.left !== 0));
    const l0: TypeHint = prefix ? 'any' : this.hint(leftNode, depth + 1);
    const r0: TypeHint = this.hint(rightNode, depth + 1);
    // an unknown literal on one side is taken to be of the other side's type for the exact match
    let left = l0;
    let right = r0;
    if (!prefix && left === 'unknown' && right !== 'unknown') left = right;
    else if (!prefix && right === 'unknown' && left !== 'unknown') right = left;
    const exactTypes = singletons(prefix ? [right] : [left, right]);
    if (exactTypes !== undefined) {
      for (const s of this.path) {
        const hit = fits.find((o) => o.schema === s && (prefix ? o.right === exactTypes[0] : o.left === exactTypes[0] && o.right === exactTypes[1]));
        if (hit !== undefined) return [hit];
      }
    }
    const coercible = fits.filter((o) => (prefix || this.coercible(l0, o.left)) && this.coercible(r0, o.right));
    const param = (o: CatalogOperator, i: number): number => (prefix || i === 1 ? o.right : o.left);
    // per combination of operand types, PostgreSQL's exact match first (an unknown side takes the other's type)
    const exactIn = (combo: readonly TypeHint[], list: readonly CatalogOperator[]): CatalogOperator | undefined => {
      let c = combo;
      if (!prefix && c[0] === 'unknown' && c[1] !== 'unknown') c = [c[1] as TypeHint, c[1] as TypeHint];
      else if (!prefix && c[1] === 'unknown' && c[0] !== 'unknown') c = [c[0] as TypeHint, c[0] as TypeHint];
      const types = singletons(c);
      if (types === undefined) return undefined;
      for (const s of this.path) {
        const hit = list.find((o) => o.schema === s && (prefix ? o.right === types[0] : o.left === types[0] && o.right === types[1]));
        if (hit !== undefined) return hit;
      }
      return undefined;
    };
    return this.selectEach(coercible, prefix ? [r0] : [l0, r0], param, (o, i, h) => this.coercible(h, param(o, i)), (combo) => exactIn(combo, fits));
  }

  // ---------------------------------------------------------------- coercion

  /** Whether a value with possible types `hint` can be implicitly coerced to type `target`. */
  coercible(hint: TypeHint, target: number): boolean {
    if (hint === 'unknown') return true;
    const t = this.info.types.get(target);
    if (t === undefined || t.kind === 'p' || t.kind === 'c') return true;
    const targets = new Set<number>([target]);
    for (let b = t, i = 0; b.kind === 'd' && b.base !== 0 && i < 16; i++) {
      targets.add(b.base);
      const next = this.info.types.get(b.base);
      if (next === undefined) return true;
      b = next;
    }
    const sources = hint === 'any' ? this.universe() : this.coercionReachOf(hint);
    for (const x of targets) if (sources.has(x)) return true;
    return false;
  }

  /** Types a value of one of `types` can be implicitly coerced to (casts, domain bases, arrays elementwise). */
  private coercionReachOf(types: ReadonlySet<number>): ReadonlySet<number> {
    if (types.size === 1) return this.coercionReach([...types][0] as number);
    const out = new Set<number>();
    for (const t of types) for (const x of this.coercionReach(t)) out.add(x);
    return out;
  }

  private coercionReach(type: number): ReadonlySet<number> {
    const memo = this.reachCache.get(type);
    if (memo !== undefined) return memo;
    const out = new Set<number>();
    const todo = [type];
    while (todo.length > 0) {
      const t = todo.pop() as number;
      if (out.has(t)) continue;
      out.add(t);
      for (const c of this.info.implicitCasts.get(t) ?? []) todo.push(c);
      const ty = this.info.types.get(t);
      if (ty === undefined) continue;
      if (ty.kind === 'd' && ty.base !== 0) todo.push(ty.base);
      if (ty.category === 'A' && ty.base !== 0 && t === type) {
        // an array coerces elementwise: the arrays of whatever its element coerces to
        for (const e of this.coercionReach(ty.base)) {
          const arr = this.info.types.get(e)?.array ?? 0;
          if (arr !== 0) todo.push(arr);
        }
      }
    }
    this.reachCache.set(type, out);
    return out;
  }

  /** Every type a value in the statement could have (see the module header). */
  universe(): ReadonlySet<number> {
    if (this.universeCache !== undefined) return this.universeCache;
    let builtin = builtinUniverses.get(this.info);
    if (builtin === undefined) {
      builtin = closeUniverse(this.info, [...this.info.types.values()].filter((t) => t.schema === 'pg_catalog').map((t) => t.oid), new Set());
      builtinUniverses.set(this.info, builtin);
    }
    this.scan();
    const extra: number[] = [...this.namedTypes];
    for (const r of this.relations) for (const c of r.columns ?? []) if (c.typeOid !== undefined) extra.push(c.typeOid);
    const allowed = this.usedNames.allowed;
    for (const f of this.usedNames.functions) for (const fn of this.catalog.functions.get(f) ?? []) if (fn.schema !== 'pg_catalog' && fn.ret !== undefined && allowed(fn.schema, fn.name)) extra.push(fn.ret);
    for (const o of this.usedNames.operators) for (const op of this.info.operators.get(o) ?? []) if (op.schema !== 'pg_catalog' && allowed(op.schema, op.name)) extra.push(op.result);
    this.universeCache = closeUniverse(this.info, extra.filter((t) => !builtin.has(t)), builtin);
    return this.universeCache;
  }

  // ---------------------------------------------------------------- hints

  /** What the type of an expression node can be. */
  hint(node: unknown, depth: number): TypeHint {
    if (node === undefined || node === null) return 'unknown';
    const memo = this.memo.get(node);
    if (memo !== undefined) return memo;
    const h = this.hintOf(node, depth);
    // results that depend on a derived name still being computed are not final
    if (this.inProgress.size === 0 && typeof node === 'object') this.memo.set(node, h);
    return h;
  }

  private hintOf(node: unknown, depth: number): TypeHint {
    const u = unwrap(node);
    if (u === undefined || depth > MAX_HINT_DEPTH) return 'any';
    const [t, b] = u;
    switch (t) {
      case 'A_Const':
        return this.constHint(b);
      case 'ParamRef':
        return 'unknown';
      case 'TypeCast': {
        const oid = this.typeOfTypeName(b.typeName);
        return oid === undefined ? 'any' : new Set([oid]);
      }
      case 'CollateClause':
        return this.hint(b.arg, depth + 1);
      case 'ColumnRef':
        return this.columnHint(b, depth);
      case 'FuncCall':
        return this.callHint(b, depth);
      case 'A_Expr': {
        // no kind: judged as an operator; a kind this parser does not have: a predicate (as before the tables)
        const result = b.kind === undefined ? 'operator' : ((A_EXPR_RESULT[b.kind as A_Expr_Kind] as string | undefined) ?? 'bool');
        if (result === 'bool') return this.builtinType('bool');
        if (result === 'nullif') return this.hint(b.lexpr, depth + 1);
        const op = nameList(b.name);
        return op === undefined ? 'any' : this.operatorResultHint(op, b, depth);
      }
      case 'BoolExpr':
      case 'NullTest':
      case 'BooleanTest':
        return this.builtinType('bool');
      case 'SubLink':
        return SUBLINK_RESULT[b.subLinkType as SubLinkType] === 'value' ? 'any' : this.builtinType('bool');
      case 'SQLValueFunction': {
        const name = (SVF_TYPES[b.op as SQLValueFunctionOp] as string | undefined) ?? 'name';
        return this.builtinType(name);
      }
      case 'CoalesceExpr':
      case 'MinMaxExpr':
        return this.union((Array.isArray(b.args) ? b.args : []).map((a) => this.hint(a, depth + 1)));
      case 'CaseExpr': {
        const results = (Array.isArray(b.args) ? b.args : []).map((w) => (unwrap(w)?.[1].result as unknown) ?? null);
        results.push(b.defresult ?? null);
        return this.union(results.map((r) => (r === null ? 'unknown' : this.hint(r, depth + 1))));
      }
      default:
        // every other kind: any type the statement can produce (the over-approximation keeps
        // every candidate PostgreSQL might pick, so an unlisted kind errs on refusing)
        return 'any';
    }
  }

  /** Union of hints; all unknown: `allUnknown` (text for COALESCE/CASE, as PostgreSQL resolves them). */
  private union(hints: readonly TypeHint[], allUnknown: TypeHint = this.builtinType('text')): TypeHint {
    const out = new Set<number>();
    let sawType = false;
    for (const h of hints) {
      if (h === 'any') return 'any';
      if (h === 'unknown') continue;
      sawType = true;
      for (const x of h) out.add(x);
    }
    return sawType ? out : allUnknown;
  }

  private constHint(b: Record<string, unknown>): TypeHint {
    if (b.isnull === true || b.sval !== undefined) return 'unknown';
    if (b.ival !== undefined) return this.builtinType('int4');
    if (b.boolval !== undefined) return this.builtinType('bool');
    if (b.bsval !== undefined) return this.builtinType('bit');
    const f = (b.fval as { fval?: string } | undefined)?.fval;
    if (f !== undefined) return /^[0-9]+$/.test(f) ? this.union([this.builtinType('int8'), this.builtinType('numeric')]) : this.builtinType('numeric');
    return 'any';
  }

  private builtinType(name: string): TypeHint {
    const t = (this.info.typesByName.get(name) ?? []).find((x) => x.schema === 'pg_catalog');
    return t === undefined ? 'any' : new Set([t.oid]);
  }

  private columnHint(b: Record<string, unknown>, depth: number): TypeHint {
    const fields = Array.isArray(b.fields) ? b.fields : [];
    const name = sval(fields[fields.length - 1]);
    if (name === undefined) return 'any';
    this.scan();
    if (this.derivedAll) return 'any';
    const base = this.columnsByName().get(name);
    if (this.derivedAll || (base !== undefined && base.size === 0)) return 'any';
    const derived = this.producers.has(name) ? this.derivedHint(name, depth) : undefined;
    if (derived === 'any' || derived === 'unknown') return 'any';
    if (base === undefined && derived === undefined) return 'any';
    const out = new Set<number>(base ?? []);
    for (const x of derived ?? []) out.add(x);
    return out;
  }

  /**
   * The possible types of a derived source's output column: the union over its producers, to a
   * fixpoint (a recursive CTE's column is produced by its own recursive term; while being
   * computed, its current approximation is used, starting from no type).
   */
  private derivedHint(name: string, depth: number): TypeHint {
    const done = this.derivedHints.get(name);
    if (done !== undefined) return done;
    const current = this.inProgress.get(name);
    if (current !== undefined) return current;
    const nodes = this.producers.get(name) ?? [];
    let approx = new Set<number>() as TypeHint;
    for (let pass = 0; pass < 4; pass++) {
      this.inProgress.set(name, approx);
      const next = this.union(nodes.map((n) => (n === ANY_NODE ? 'any' : this.hint(n, depth + 1))), new Set<number>());
      this.inProgress.delete(name);
      if (next === 'any' || next === 'unknown') {
        approx = 'any';
        break;
      }
      if (approx !== 'any' && approx !== 'unknown' && next.size === approx.size) {
        approx = next;
        break;
      }
      approx = next;
      if (pass === 3) approx = 'any';
    }
    if (approx !== 'any' && approx !== 'unknown' && approx.size === 0) approx = 'any';
    if (this.inProgress.size === 0) this.derivedHints.set(name, approx);
    return approx;
  }

  private columnsByName(): Map<string, Set<number>> {
    if (this.columnTypes !== undefined) return this.columnTypes;
    const m = new Map<string, Set<number>>();
    for (const r of this.relations) {
      for (const c of r.columns ?? []) {
        if (c.typeOid === undefined) {
          // a relation without type facts: its columns can be anything
          m.set(c.name, new Set());
          continue;
        }
        const set = m.get(c.name) ?? new Set<number>();
        set.add(c.typeOid);
        m.set(c.name, set);
      }
    }
    // a relation read without a column list (no columns loaded): any name can be any type
    if (this.relations.some((r) => r.columns === undefined)) this.derivedAll = true;
    this.columnTypes = m;
    return m;
  }

  private callHint(b: Record<string, unknown>, depth: number): TypeHint {
    const parts = nameList(b.funcname);
    if (parts === undefined || parts.length === 0) return 'any';
    const name = parts[parts.length - 1] as string;
    const schemas = parts.length >= 2 ? [parts[parts.length - 2] as string] : this.path;
    const args = Array.isArray(b.args) ? b.args : [];
    if (args.some((a) => isEmpty(this.hint(a, depth + 1)))) return new Set();
    const all = (this.catalog.functions.get(name) ?? []).filter((f) => schemas.includes(f.schema));
    const picked = b.agg_star === true ? all.filter((f) => (f.args?.length ?? 0) === 0) : this.pickFunctions(all, args, depth);
    if (picked.length === 0) return 'any';
    const out = new Set<number>();
    for (const c of picked) {
      if (c.ret === undefined) return 'any';
      const h = this.resultHint(c.ret, (c.args ?? []).map((p, i) => [p, args[i]] as const), depth);
      if (h === 'any') return 'any';
      if (h !== 'unknown') for (const x of h) out.add(x);
    }
    return out;
  }

  /**
   * The result type of a picked candidate: its declared type, or for a polymorphic result the
   * types of the arguments at the matching polymorphic parameters (anyelement → those values,
   * anyarray → those arrays); anything else pseudo is "any".
   */
  private resultHint(ret: number, params: readonly (readonly [number, unknown])[], depth: number): TypeHint {
    const rt = this.info.types.get(ret);
    if (rt === undefined) return 'any';
    if (rt.kind !== 'p') return new Set([ret]);
    const same = params.filter(([p]) => p === ret && params.length > 0);
    if (same.length === 0 || !['anyelement', 'anycompatible', 'anynonarray', 'anyenum', 'anyarray', 'anycompatiblearray', 'anyrange', 'anymultirange'].includes(rt.name)) return 'any';
    return this.union(same.map(([, node]) => (node === undefined ? 'any' : this.hint(node, depth + 1))), 'any');
  }

  private operatorResultHint(op: string[], b: Record<string, unknown>, depth: number): TypeHint {
    const name = op[op.length - 1] as string;
    const schemas = op.length >= 2 ? [op[op.length - 2] as string] : this.path;
    const prefix = b.lexpr === undefined || b.lexpr === null;
    if (isEmpty(this.hint(b.rexpr, depth + 1)) || (!prefix && isEmpty(this.hint(b.lexpr, depth + 1)))) return new Set();
    const all = (this.info.operators.get(name) ?? []).filter((o) => schemas.includes(o.schema));
    const picked = this.pickOperators(all, prefix ? undefined : b.lexpr, b.rexpr, depth);
    if (picked.length === 0) return 'any';
    const out = new Set<number>();
    for (const o of picked) {
      const h = this.resultHint(o.result, prefix ? [[o.right, b.rexpr]] : [[o.left, b.lexpr], [o.right, b.rexpr]], depth);
      if (h === 'any') return 'any';
      if (h !== 'unknown') for (const x of h) out.add(x);
    }
    return out;
  }

  /** The OID a TypeName names (search_path for unqualified names; `[]` → the array type). */
  typeOfTypeName(typeName: unknown): number | undefined {
    const tn = typeName as { names?: unknown; arrayBounds?: unknown[]; pct_type?: boolean } | undefined;
    if (tn === undefined || tn.pct_type === true) return undefined;
    const parts = nameList(tn.names);
    if (parts === undefined || parts.length === 0) return undefined;
    const name = parts[parts.length - 1] as string;
    const schemas = parts.length >= 2 ? [parts[parts.length - 2] as string] : this.path;
    const all = this.info.typesByName.get(name) ?? [];
    let found: CatalogType | undefined;
    for (const s of schemas) {
      found = all.find((t) => t.schema === s);
      if (found !== undefined) break;
    }
    if (found === undefined) return undefined;
    if (Array.isArray(tn.arrayBounds) && tn.arrayBounds.length > 0) return found.array !== 0 ? found.array : undefined;
    return found.oid;
  }

  // ---------------------------------------------------------------- statement scan

  /**
   * One pass of the traversal core over the statement: names that derived sources may produce
   * (their columns may have any type) and every type the statement names (inline TypeNames
   * included: `x::public.citext`). It spends its own budget of MAX_SCAN_NODES typed nodes, which
   * equals the guard walk's cap, so a statement the walk accepted never runs it out; if it does,
   * TooComplexError ends the decision (STATEMENT_TOO_COMPLEX), never a partial universe.
   */
  private scan(): void {
    if (this.derivedNames !== undefined) return;
    const state: ScanWalk = { resolver: this, names: new Set<string>(KEYWORD_OUTPUTS) };
    traverse(this.stmts, RESOLVER_SCAN, state, newBudget(MAX_SCAN_NODES));
    this.derivedNames = state.names;
  }

  /**
   * @internal A kind the raw parser cannot produce, or a malformed node (the guard walk refuses
   * such a statement anyway): any column may have any type.
   */
  scanRefused(): void {
    this.derivedAll = true;
  }

  private produce(name: string, node: unknown, names: Set<string>): void {
    names.add(name);
    const list = this.producers.get(name);
    if (list === undefined) this.producers.set(name, [node]);
    else list.push(node);
  }

  /** Per output position of a SELECT (set operations merged, VALUES by column), the value nodes; undefined: unknown shape. */
  private outputsOf(node: unknown, depth = 0): unknown[][] | undefined {
    const u = unwrap(node);
    if (u?.[0] !== 'SelectStmt' || depth > 32) return undefined;
    const b = u[1];
    if (Array.isArray(b.valuesLists)) {
      const cols: unknown[][] = [];
      for (const row of b.valuesLists) {
        const items = (unwrap(row)?.[1].items as unknown[] | undefined) ?? [];
        items.forEach((v, i) => (cols[i] ??= []).push(v));
      }
      return cols;
    }
    if (b.larg !== undefined && b.rarg !== undefined) {
      const l = this.outputsOf({ SelectStmt: b.larg }, depth + 1);
      const r = this.outputsOf({ SelectStmt: b.rarg }, depth + 1);
      if (l === undefined || r === undefined || l.length !== r.length) return undefined;
      return l.map((x, i) => [...x, ...(r[i] ?? [])]);
    }
    if (!Array.isArray(b.targetList)) return undefined;
    const out: unknown[][] = [];
    for (const rt of b.targetList) {
      const val = unwrap(rt)?.[1].val;
      const fields = unwrap(val)?.[0] === 'ColumnRef' ? (unwrap(val)?.[1].fields as unknown[] | undefined) : undefined;
      if (fields !== undefined && unwrap(fields[fields.length - 1])?.[0] === 'A_Star') return undefined; // positions unknown
      out.push([val]);
    }
    return out;
  }

  /** Column aliases (`AS t(a, b)`, `WITH c(a, b)`) over a SELECT: each alias is produced by that position's values. */
  private aliasColumns(colnames: unknown, query: unknown, names: Set<string>): void {
    if (!Array.isArray(colnames) || colnames.length === 0) return;
    const outs = this.outputsOf(query);
    colnames.forEach((c, i) => {
      const n = sval(c);
      if (n === undefined) return;
      const vals = outs?.[i];
      if (vals === undefined) this.produce(n, ANY_NODE, names);
      else for (const v of vals) this.produce(n, v, names);
    });
  }

  /** @internal (the RESOLVER_SCAN visitor's handler) */
  scanNode(t: ScannedKind, b: Record<string, unknown>, names: Set<string>): void {
    switch (t) {
      case 'ResTarget': {
        const explicit = b.name as string | undefined;
        const bare = unwrap(b.val);
        if (bare?.[0] === 'ColumnRef') {
          const fields = Array.isArray(bare[1].fields) ? bare[1].fields : [];
          const last = fields[fields.length - 1];
          // `*` and `x` / `t.x` output as x: the columns keep their names and types
          if (unwrap(last)?.[0] === 'A_Star') return;
          if (explicit === undefined || explicit === sval(last)) return;
        }
        if (b.val === undefined) return; // an INSERT/UPDATE target column, not an output
        const figured = new Set<string>();
        if (explicit !== undefined) figured.add(explicit);
        else this.figureName(b.val, figured);
        for (const n of figured) this.produce(n, b.val, names);
        return;
      }
      case 'RangeSubselect': {
        const alias = unwrap({ Alias: b.alias })?.[1];
        if (typeof alias?.aliasname === 'string') this.produce(alias.aliasname, ANY_NODE, names);
        this.aliasColumns(alias?.colnames, b.subquery, names);
        return;
      }
      case 'CommonTableExpr':
        if (typeof b.ctename === 'string') this.produce(b.ctename, ANY_NODE, names);
        this.aliasColumns(b.aliascolnames, b.ctequery, names);
        return;
      case 'JoinExpr': {
        const alias = b.alias as { aliasname?: string; colnames?: unknown[] } | undefined;
        if (typeof alias?.aliasname === 'string') this.produce(alias.aliasname, ANY_NODE, names);
        for (const c of alias?.colnames ?? []) {
          const n = sval(c);
          if (n !== undefined) this.produce(n, ANY_NODE, names);
        }
        return;
      }
      case 'ColumnDef':
        if (typeof b.colname === 'string') this.produce(b.colname, b.typeName === undefined ? ANY_NODE : { TypeCast: { typeName: b.typeName } }, names);
        return;
      case 'RangeTableFuncCol':
        if (typeof b.colname === 'string') this.produce(b.colname, b.typeName === undefined ? ANY_NODE : { TypeCast: { typeName: b.typeName } }, names);
        return;
      case 'JsonTableColumn':
        if (typeof b.name === 'string') this.produce(b.name, b.typeName === undefined ? ANY_NODE : { TypeCast: { typeName: b.typeName } }, names);
        return;
      case 'RangeTableFunc':
      case 'JsonTable': {
        const alias = b.alias as { aliasname?: string } | undefined;
        if (typeof alias?.aliasname === 'string') this.produce(alias.aliasname, ANY_NODE, names);
        return;
      }
      case 'RangeFunction':
        this.rangeFunction(b, names);
        return;
      case 'SelectStmt':
        // VALUES names its columns column1, column2 …
        if (Array.isArray(b.valuesLists)) (this.outputsOf({ SelectStmt: b }) ?? []).forEach((vals, i) => vals.forEach((v) => this.produce(`column${i + 1}`, v, names)));
        return;
      case 'TypeName': {
        const oid = this.typeOfTypeName(b);
        if (oid !== undefined) this.namedTypes.push(oid);
        return;
      }
      default:
        // exhaustive over SCANNED_KINDS (a kind added there without a case does not compile);
        // reached only by a call outside the scan: any column may then have any type (fail closed)
        t satisfies never;
        this.scanRefused();
    }
  }

  /**
   * A function in FROM: with a column alias list or a column definition list, those names; a
   * single function returning a scalar names its column after the alias (or the function); a
   * function that may return a row (record, composite, polymorphic) has column names the guard
   * does not know: every column name may then have any type.
   */
  private rangeFunction(b: Record<string, unknown>, names: Set<string>): void {
    const alias = b.alias as { aliasname?: string; colnames?: unknown[] } | undefined;
    const calls = (Array.isArray(b.functions) ? b.functions : []).map((f) => (unwrap(f)?.[1].items as unknown[] | undefined)?.[0]);
    if (typeof alias?.aliasname === 'string') this.produce(alias.aliasname, ANY_NODE, names);
    if (b.ordinality === true) this.produce('ordinality', ANY_NODE, names);
    const colnames = alias?.colnames ?? [];
    if (Array.isArray(b.coldeflist) && b.coldeflist.length > 0) return; // ColumnDef entries name them
    if (colnames.length > 0) {
      if (calls.length === 1 && colnames.length === 1) {
        const n = sval(colnames[0]);
        if (n !== undefined) this.produce(n, calls[0], names);
      } else {
        for (const c of colnames) {
          const n = sval(c);
          if (n !== undefined) this.produce(n, ANY_NODE, names);
        }
      }
      return;
    }
    for (const call of calls) {
      const u = unwrap(call);
      if (u?.[0] !== 'FuncCall') {
        this.derivedAll = true;
        continue;
      }
      const parts = nameList(u[1].funcname);
      const fname = parts?.[parts.length - 1];
      const rows = (this.catalog.functions.get(fname ?? '') ?? []).some((f) => {
        const rt = f.ret === undefined ? undefined : this.info.types.get(f.ret);
        return rt === undefined || rt.kind === 'p' || rt.kind === 'c';
      });
      if (rows || fname === undefined) {
        this.derivedAll = true;
        continue;
      }
      this.produce(calls.length === 1 && typeof alias?.aliasname === 'string' ? alias.aliasname : fname, call, names);
    }
  }

  /**
   * PostgreSQL's FigureColname, over-approximated: names an unnamed output may get. Every kind
   * gets at least one name (`?column?` by default), so an output's name is never missed; past
   * the depth bound any column may have any type (fail closed).
   */
  private figureName(node: unknown, names: Set<string>, depth = 0): void {
    if (depth > 8) {
      this.derivedAll = true;
      return;
    }
    const u = unwrap(node);
    if (u === undefined) {
      names.add('?column?');
      return;
    }
    const [t, b] = u;
    switch (t) {
      case 'ColumnRef': {
        const fields = Array.isArray(b.fields) ? b.fields : [];
        const n = sval(fields[fields.length - 1]);
        if (n !== undefined) names.add(n);
        return;
      }
      case 'FuncCall': {
        const parts = nameList(b.funcname);
        const n = parts?.[parts.length - 1];
        if (n !== undefined) names.add(n);
        return;
      }
      case 'TypeCast': {
        this.figureName(b.arg, names, depth + 1);
        const parts = nameList((b.typeName as { names?: unknown } | undefined)?.names);
        const n = parts?.[parts.length - 1];
        if (n !== undefined) names.add(n);
        return;
      }
      case 'CollateClause':
        this.figureName(b.arg, names, depth + 1);
        return;
      case 'CaseExpr':
        // a CASE takes the name of its ELSE result when that has one (`ELSE status` → status), else `case`
        names.add('case');
        if (b.defresult !== undefined) this.figureName(b.defresult, names, depth + 1);
        return;
      case 'A_Expr':
        names.add(A_EXPR_RESULT[b.kind as A_Expr_Kind] === 'nullif' ? 'nullif' : '?column?');
        return;
      case 'A_Indirection': {
        const ind = Array.isArray(b.indirection) ? b.indirection : [];
        const n = sval(ind[ind.length - 1]);
        if (n !== undefined) names.add(n);
        this.figureName(b.arg, names, depth + 1);
        return;
      }
      case 'SubLink': {
        names.add((SUBLINK_NAME[b.subLinkType as SubLinkType] as string | undefined) ?? '?column?');
        const sel = unwrap(b.subselect)?.[1];
        const first = (sel?.targetList as unknown[] | undefined)?.[0];
        const rt = unwrap(first)?.[1];
        if (rt !== undefined) {
          if (typeof rt.name === 'string') names.add(rt.name);
          else this.figureName(rt.val, names, depth + 1);
        }
        return;
      }
      default:
        // every other kind: its keyword name (KEYWORD_NAMES), else `?column?`
        for (const n of KEYWORD_NAMES[t] ?? ['?column?']) names.add(n);
    }
  }
}

/** Whether a function with these declared arguments can take `n` positional arguments. */
function arityFits(f: CatalogFunction, n: number): boolean {
  const len = f.args?.length ?? 0;
  const min = len - (f.defaults ?? 0);
  if (f.variadic === true) return n >= Math.min(min, len - 1);
  return n >= min && n <= len;
}

/** The declared type at argument position i (a VARIADIC tail: its element type's array). */
function paramType(f: CatalogFunction, i: number): number {
  const args = f.args ?? [];
  if (i < args.length) return args[i] as number;
  return args[args.length - 1] ?? 0;
}

/** A hint with no type yet (a recursive column's first approximation). */
function isEmpty(h: TypeHint): boolean {
  return h !== 'any' && h !== 'unknown' && h.size === 0;
}

function singletons(hints: readonly TypeHint[]): number[] | undefined {
  const out: number[] = [];
  for (const h of hints) {
    if (h === 'any' || h === 'unknown' || h.size !== 1) return undefined;
    out.push([...h][0] as number);
  }
  return out;
}

/** Closure over implicit casts, domain/array/range bases, array types and composite fields. */
function closeUniverse(info: CatalogTypeInfo, start: readonly number[], known: ReadonlySet<number>): ReadonlySet<number> {
  const out = new Set<number>(known);
  const todo = [...start];
  while (todo.length > 0) {
    const t = todo.pop() as number;
    if (out.has(t)) continue;
    out.add(t);
    for (const c of info.implicitCasts.get(t) ?? []) todo.push(c);
    const ty = info.types.get(t);
    if (ty === undefined) continue;
    if (ty.base !== 0) todo.push(ty.base);
    if (ty.array !== 0) todo.push(ty.array);
    for (const f of ty.fields ?? []) todo.push(f);
  }
  return out;
}
