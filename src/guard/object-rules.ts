/**
 * The object rules of the policy engine (policy.ts): which relations, types, functions and
 * operators a statement names or reaches, judged against the policy and the catalog snapshot —
 * casts of reg types, catalog and server facts under `catalogs: false`, every function reference
 * (resolved by argument types where the snapshot has them, names passed as text to name
 * parameters included), operators, relations and type names.
 *
 * Guarantees: a statement that names something the policy hides (visibility.ts) is judged by name
 * only after its built-in functions: no lookup by argument types, of operators or of other
 * relations consults the hidden object; a name from a string literal that does not resolve is
 * never echoed; everything unknown to the snapshot is reported (the caller refreshes it).
 * Does not: classify statements, apply tool rules or observe mode (policy.ts), parse or do I/O.
 *
 * Size: ~420 lines, one rule family per function (each < 60 lines); the rules share ObjectScope,
 * and splitting the file would export that scope across modules for no reader's gain.
 */
import type { DatabasePolicy } from '../config/schema.js';
import { effectiveSearchPath, isSafeSetting, judgeFunction, judgeOperator, judgeTablesample, NAME_LOOKUP_FUNCTIONS, REGCLASS_ARGS, REGPROC_ARGS, TYPENAME_ARGS, type FunctionRules } from './functions.js';
import { matchesAny } from './patterns.js';
import { Resolver } from './resolve.js';
import { displayIdent, displayQualified, splitQualifiedName } from './names.js';
import { reason, type Reason } from './reasons.js';
import { allowedSchemas, DEFAULT_RESERVED_SCHEMAS, relationRules, resolveRelation, type RelationContext } from './relations.js';
import type { CatalogFunction, CatalogRelation, GuardRequest } from './types.js';
import { REG_TYPES, type Facts, type FunctionRef, type RelationRef } from './walk.js';
import { columnUse, exposedRegColumns, hasRegColumn } from './regcolumns.js';
import { functionHidden, schemaHidden, type HiddenNames } from './visibility.js';
import type { Reasons } from './reason-list.js';

/** The function rules of a policy (its functions section and whether catalogs are open). */
export function functionRules(policy: DatabasePolicy): FunctionRules {
  const f = policy.functions; // written out: a spread and one more key is slow in V8 (issue #13)
  return { mode: f.mode, allow: f.allow, deny: f.deny, catalogs: policy.catalogs };
}

/** What the object rules share while judging one statement (objectRules and its parts). */
interface ObjectScope {
  facts: Facts;
  req: GuardRequest;
  policy: DatabasePolicy;
  out: Reasons;
  rules: FunctionRules;
  resolver: () => Resolver | undefined;
  ctx: RelationContext;
  /** Relations to judge: the statement's, plus those named in text arguments (appended). */
  refs: RelationRef[];
}

/**
 * Relation, function and operator rules; returns whether anything was unknown to the snapshot.
 * In order: casts of reg types, catalog facts, functions (always), then — unless the statement
 * names something the policy hides, where the guard stops at the visibility refusals —
 * operators and relations.
 */
export function objectRules(
  facts: Facts,
  req: GuardRequest,
  policy: DatabasePolicy,
  out: Reasons,
  relations: Set<string>,
  functions: Set<string>,
  stmts: readonly unknown[],
  ctx: RelationContext,
  hidden: HiddenNames,
): boolean {
  const scope: ObjectScope = { facts, req, policy, out, rules: ctx.functionRules ?? functionRules(policy), resolver: lazyResolver(facts, req, stmts), ctx, refs: facts.relations.slice() };
  if (!policy.catalogs) regValueRules(scope);
  if (!policy.catalogs) catalogFacts(facts, ctx, out);
  // the statement names something the policy hides: built-in functions are still judged (by name,
  // pg_catalog candidates only), then the guard stops at the visibility refusals, so that no
  // lookup by argument types, of operators or of other relations consults the hidden object
  const stop = hidden.reasons.length > 0;
  let unknown = functionRefRules(scope, functions, stop);
  if (stop) {
    for (const r of hidden.reasons) out.add(r);
    for (const r of hidden.relations) relations.add(r);
    // the visible relations it names are still listed (resolved among visible schemas only)
    for (const ref of facts.relations) {
      if (hidden.refs.has(ref) || ref.literal === true || ref.role === 'type' || ref.role === 'create') continue;
      const r = resolveRelation(ref.parts, req.catalog, req.searchPath);
      relations.add(r.schema === undefined ? ref.parts.join('.') : `${r.schema}.${r.name}`);
    }
    return unknown;
  }
  operatorRules(scope);
  if (relationRefRules(scope, relations, stmts)) unknown = true;
  return unknown;
}

/** Reg-type values computed at run time or mixed with other values (`catalogs: false` only). */
function regValueRules({ facts, req, out }: ObjectScope): void {
  if (facts.dynamicRegCasts.length > 0) {
    const types = [...new Set(facts.dynamicRegCasts)].join(', ');
    out.add(
      reason(
        'SYSTEM_CATALOG',
        `a cast to ${types} of a value computed at run time (or of a numeric OID) resolves names from the system catalogs, hidden by policy '${req.policyName}'`,
        'Name the object in a string literal, or use the describe tool to discover schemas, tables and columns.',
      ),
    );
  }

  if (facts.regValueMixes.length > 0) {
    const types = [...new Set(facts.regValueMixes)].join(', ');
    out.add(
      reason(
        'SYSTEM_CATALOG',
        `a ${types} value is combined with other values (UNION, VALUES, a sub-select, CASE, COALESCE, ARRAY or a function argument), which converts them through the system catalogs hidden by policy '${req.policyName}'`,
        'Use object-identifier values only in comparisons or in functions that take a relation name (pg_relation_size …), or cast them to text first.',
      ),
    );
  }
}

/**
 * Every function reference (calls, regproc literals, TABLESAMPLE methods, and functions named
 * by to_regproc('…') arguments, appended while iterating); `stop`: only built-ins by name (see
 * objectRules). Returns whether a name was unknown to the snapshot.
 */
function functionRefRules(scope: ObjectScope, functions: Set<string>, stop: boolean): boolean {
  const { facts, req, policy, out, rules, resolver, ctx } = scope;
  let unknown = false;
  const fnRefs: FunctionRef[] = facts.functions.slice();
  const options = new CallSite(scope, stop);
  for (let fi = 0; fi < fnRefs.length; fi++) {
    const f = fnRefs[fi] as FunctionRef;
    if (stop && functionHidden(f, rules, ctx) !== undefined) continue;
    options.ref = f;
    // current_setting('TimeZone'): a setting on the safe list, named in a literal
    options.catalogSafe = f.kind === 'call' && f.parts[f.parts.length - 1] === 'current_setting' && isSafeSetting(f.literalArgs[0]);
    const v = f.kind === 'tablesample' ? judgeTablesample(f.parts, rules, req.policyName) : judgeFunction(f.parts, req.catalog, req.searchPath, rules, req.policyName, options);
    if (f.kind === 'regproc' && !v.ok && v.unknown) {
      // a function name from a string literal that does not resolve: never echo it
      out.add(reason('FUNCTION_NOT_ALLOWED', 'a function named in a string literal does not exist', 'Check the function name.'));
      unknown = true;
      continue;
    }
    functions.add(v.resolved);
    if (v.ok && !policy.catalogs && v.resolved === 'pg_catalog.age' && f.kind === 'call' && xidAge(f, facts, req, resolver)) {
      out.add(
        reason(
          'SYSTEM_CATALOG',
          `function pg_catalog.age of a transaction id reveals the server's transaction counter, hidden by policy '${req.policyName}'`,
          'Use age() of timestamps or dates only; leave out xmin/xid values.',
        ),
      );
    }
    if (!v.ok) {
      if (v.unknown) unknown = true;
      out.add(functionRefusal(f, v, req.policyName));
    }
    // relation and function names passed as text to name parameters
    if (f.kind === 'call' && v.resolved.startsWith('pg_catalog.')) nameArguments(f, policy, req.policyName, scope.refs, fnRefs, out);
  }
  return unknown;
}

/** judgeFunction's options for the reference being judged (`ref`; one object per statement). */
class CallSite {
  ref: FunctionRef | undefined;
  catalogSafe = false;
  constructor(
    private readonly scope: ObjectScope,
    private readonly stop: boolean,
  ) {}

  /** The candidates outside pg_catalog PostgreSQL could pick for this reference's arguments. */
  userCandidatesThatMatter(candidates: readonly CatalogFunction[]): ReadonlySet<CatalogFunction> {
    const f = this.ref as FunctionRef;
    if (this.stop) return new Set();
    const r = this.scope.resolver();
    return r === undefined ? new Set(candidates) : r.userFunctionsThatMatter(candidates, f.kind === 'call' ? this.scope.facts.callArgs.get(f) : undefined);
  }
}

/** The refusal of a function reference the rules did not allow, with the fix for its code. */
function functionRefusal(f: FunctionRef, v: Extract<ReturnType<typeof judgeFunction>, { ok: false }>, policyName: string): Reason {
  const label = f.kind === 'regproc' ? `function ${v.resolved} (named in a regproc literal)` : f.kind === 'tablesample' ? `TABLESAMPLE method ${v.resolved}` : `function ${v.resolved}`;
  return reason(
    v.code,
    `${label} ${v.why}`,
    v.code === 'UNSAFE_FUNCTION'
      ? `Remove ${v.resolved}: it is denied wherever it appears.`
      : v.code === 'SYSTEM_CATALOG'
        ? 'Use the describe tool to discover schemas, tables and columns.'
        : v.unknown
          ? 'Check the function name; use built-in functions (qualify user functions with their schema only if the policy allows them).'
          : `Remove ${v.resolved} or ask an operator to add it to functions.allow of policy '${policyName}'.`,
  );
}

/** Every operator, resolved by argument types where the snapshot has them. */
function operatorRules({ facts, req, out, rules, resolver }: ObjectScope): void {
  for (const op of facts.operators) {
    const r = req.catalog.typeInfo !== undefined ? resolver() : undefined;
    const v = judgeOperator(op, req.catalog, rules, req.policyName, r === undefined ? undefined : (name, schema) => r.userOperatorsThatMatter(name, schema, facts.operatorArgs.get(op)));
    if (!v.ok) {
      out.add(reason(v.code, `${v.resolved} ${v.why}`, `Use built-in operators, or ask an operator to add it to functions.allow of policy '${req.policyName}'.`));
    }
  }
}

/** Every relation (and type) reference; returns whether a name was unknown to the snapshot. */
function relationRefRules(scope: ObjectScope, relations: Set<string>, stmts: readonly unknown[]): boolean {
  const { req, policy, out, ctx } = scope;
  let unknown = false;
  let use: ReturnType<typeof columnUse> | undefined;
  for (const ref of scope.refs) {
    const r = resolveRelation(ref.parts, req.catalog, req.searchPath);
    if (ref.role === 'type' && r.rel === undefined) {
      typeRefRules(scope, ref, r);
      continue;
    }
    if (ref.literal && r.rel === undefined) {
      // a name from a string literal that does not resolve: never echo it (it may be any text)
      if (!ref.optional) {
        out.add(reason('UNKNOWN_RELATION', 'a relation named in a string literal does not exist', 'Check the name with describe; qualify it with its schema.'));
        unknown = true;
      }
      continue;
    }
    relations.add(r.schema === undefined ? ref.parts.join('.') : `${r.schema}.${r.name}`);
    if (ref.role === 'create') continue;
    const res = relationRules(r, ref, ctx);
    if (res.unknown) unknown = true;
    for (const x of res.reasons) out.add(x);
    if (!policy.catalogs && r.rel !== undefined && res.reasons.length === 0 && (ref.role === 'read' || ref.role === 'write')) {
      // a stored regclass/regrole … value prints a name from the system catalogs (regcolumns.ts)
      // (the second walk over the tree, columnUse, only for a relation that has such a column)
      if (!hasRegColumn(r.rel, req.catalog)) continue;
      use ??= columnUse(stmts);
      for (const c of exposedRegColumns(r.rel, use, req.catalog)) {
        out.add(
          reason(
            'SYSTEM_CATALOG',
            `column ${displayIdent(c.column)} of ${r.display} has type ${c.type}, whose values print names from the system catalogs hidden by policy '${req.policyName}'`,
            `Leave ${displayIdent(c.column)} out (name the columns you need instead of *), or ask an operator to enable catalogs.`,
          ),
        );
      }
    }
  }
  return unknown;
}

/**
 * A type name that is not a row type: one in a schema the policy hides runs that schema's code
 * (a domain's CHECK, a type's input or cast function); a domain or array over a reg type
 * converts through the catalogs (`catalogs: false`).
 */
function typeRefRules({ req, policy, out, ctx }: ObjectScope, ref: RelationRef, r: ReturnType<typeof resolveRelation>): void {
  if (r.schema !== undefined && schemaHidden(r.schema, ctx)) {
    out.add(reason('DENIED_SCHEMA', `type ${displayQualified(r.schema, r.name)} is in schema ${displayIdent(r.schema)}, which policy '${req.policyName}' does not expose`, 'Use built-in types, or types of the exposed schemas.'));
  } else if (!policy.catalogs && !ref.literal) {
    const reg = regTypeBehind(ref.parts, req);
    if (reg !== undefined) {
      out.add(
        reason(
          'SYSTEM_CATALOG',
          `type ${displayIdent(ref.parts[ref.parts.length - 1] ?? '')} is a domain or array over ${reg}, whose values convert through the system catalogs hidden by policy '${req.policyName}'`,
          'Use built-in types; use the describe tool to discover objects.',
        ),
      );
    }
  }
}

/**
 * Catalog and server facts that are not function calls (`catalogs: false` only): SQL value
 * functions naming the session's roles, schema or database, EXPLAIN (SETTINGS), and string
 * literals cast to regnamespace/regrole/aclitem/regconfig/regdictionary/regcollation (their input
 * looks the name up: an existence oracle). A regnamespace literal naming an exposed schema, and a
 * text-search configuration, dictionary or collation named unqualified or in pg_catalog or an
 * exposed schema, stay allowed: the answer then depends on nothing the policy hides.
 */
function catalogFacts(facts: Facts, ctx: RelationContext, out: Reasons): void {
  const name = ctx.policyName;
  if (facts.sessionValues.length > 0) {
    const what = [...new Set(facts.sessionValues)].join(', ');
    out.add(reason('SYSTEM_CATALOG', `${what} names the session's database role, schema or database, hidden by policy '${name}'`, 'Remove it; the status tool says which principal and database you use.'));
  }
  if (facts.explainSettings) {
    out.add(reason('SYSTEM_CATALOG', `EXPLAIN (SETTINGS) lists the server's modified settings, hidden by policy '${name}'`, 'Remove the SETTINGS option.'));
  }
  if (facts.regNames.length === 0) return;
  const exposed = allowedSchemas(ctx);
  const reserved = ctx.reservedSchemas ?? DEFAULT_RESERVED_SCHEMAS;
  const visible = (schema: string): boolean => schema === 'pg_catalog' || (exposed.includes(schema) && !reserved.includes(schema));
  for (const { type, text } of facts.regNames) {
    const parts = splitQualifiedName(text);
    let ok: boolean;
    switch (type) {
      case 'regnamespace':
        ok = parts !== undefined && parts.length === 1 && visible(parts[0] as string);
        break;
      case 'regconfig':
      case 'regdictionary':
      case 'regcollation':
        ok = parts !== undefined && (parts.length === 1 || (parts.length === 2 && visible(parts[0] as string)));
        break;
      default: // regrole, aclitem: role names are catalog facts
        ok = false;
    }
    if (!ok) {
      out.add(
        reason(
          'SYSTEM_CATALOG',
          `a string literal cast to ${type} looks a name up in the system catalogs (whether it exists is a catalog fact), hidden by policy '${name}'`,
          type === 'regnamespace' ? 'Name only exposed schemas; use the describe tool to list them.' : 'Remove the cast; use the describe tool to discover objects.',
        ),
      );
    }
  }
}

/**
 * Whether a call of pg_catalog.age may be age(xid) (the server's transaction counter minus the
 * argument): by argument types when the snapshot has them (any picked candidate taking xid), else
 * by spelling (xmin/xmax/cmin/cmax or a cast to xid/xid8 among the arguments).
 */
function xidAge(f: FunctionRef, facts: Facts, req: GuardRequest, resolver: () => Resolver | undefined): boolean {
  const args = facts.callArgs.get(f) ?? [];
  if (args.length !== 1) return false;
  const r = req.catalog.typeInfo !== undefined ? resolver() : undefined;
  if (r !== undefined) {
    const candidates = (req.catalog.functions.get('age') ?? []).filter((c) => c.schema === 'pg_catalog');
    if (candidates.some((c) => c.args === undefined)) return true;
    return r.picks(candidates, args).some((c) => (c.args ?? []).some((a) => r.isType(a, 'xid') || r.isType(a, 'xid8')));
  }
  return /"sval":"(xmin|xmax|cmin|cmax|xid|xid8)"/.test(JSON.stringify(args));
}

/**
 * The type-based candidate resolver for this statement (resolve.ts), built on first use: most
 * statements never need it (no candidate outside pg_catalog on the path).
 */
function lazyResolver(facts: Facts, req: GuardRequest, stmts: readonly unknown[]): () => Resolver | undefined {
  let built = false;
  let resolver: Resolver | undefined;
  return () => {
    if (!built) {
      built = true;
      const rels: CatalogRelation[] = [];
      for (const ref of facts.relations) {
        if (ref.role !== 'read' && ref.role !== 'write') continue;
        const r = resolveRelation(ref.parts, req.catalog, req.searchPath).rel;
        if (r !== undefined) rels.push(r);
      }
      const last = (parts: readonly string[]): string => parts[parts.length - 1] ?? '';
      const rules = req.policy === undefined ? undefined : functionRules(req.policy);
      resolver = Resolver.for(req.catalog, req.searchPath, rels, stmts, {
        functions: [...new Set(facts.functions.map((f) => last(f.parts)))],
        operators: [...new Set(facts.operators.map(last))],
        allowed: (schema, name) => rules !== undefined && (matchesAny(rules.allow, schema, name) || rules.allow.includes(name)),
      });
    }
    return resolver;
  };
}

/**
 * The object-identifier type (regclass, regrole …, aclitem) behind a type name — a domain over
 * one, an array of one, or a chain of both (CREATE DOMAIN public.rc AS regclass; public.rc[]) —
 * or undefined. Needs the snapshot's type information; resolves like PostgreSQL (pg_catalog
 * first unless the search_path lists it).
 */
function regTypeBehind(parts: readonly string[], req: GuardRequest): string | undefined {
  const info = req.catalog.typeInfo;
  const name = parts[parts.length - 1];
  if (info === undefined || name === undefined) return undefined;
  const schemas = parts.length >= 2 ? [parts[parts.length - 2] as string] : effectiveSearchPath(req.searchPath);
  const all = info.typesByName.get(name) ?? [];
  let t = schemas.map((s) => all.find((x) => x.schema === s)).find((x) => x !== undefined);
  for (let i = 0; t !== undefined && i < 16; i++) {
    if (t.schema === 'pg_catalog' && REG_TYPES.has(t.name)) return t.name;
    if (t.base === 0 || (t.kind !== 'd' && t.category !== 'A')) return undefined;
    t = info.types.get(t.base);
  }
  return undefined;
}

function splitRegclassText(text: string): string[] {
  return splitQualifiedName(text) ?? [text];
}

/**
 * Arguments that name relations (pg_relation_size('t'), regclass('t'), to_regclass('t')) or
 * functions (to_regproc('f')): literals are resolved and judged like references; anything computed
 * at run time (or a numeric OID) is a catalog lookup that follows the catalogs switch.
 */
function nameArguments(f: FunctionRef, policy: DatabasePolicy, policyName: string, refs: RelationRef[], regprocRefs: FunctionRef[], out: Reasons): void {
  const fname = f.parts[f.parts.length - 1] ?? '';
  const relIdx = REGCLASS_ARGS[fname];
  const procIdx = REGPROC_ARGS[fname];
  const typeIdx = TYPENAME_ARGS[fname];
  const idx = relIdx ?? procIdx ?? typeIdx ?? (NAME_LOOKUP_FUNCTIONS.has(fname) ? [0] : undefined);
  if (!idx) return;
  for (const i of idx) {
    if (i >= f.literalArgs.length) continue;
    const text = f.literalArgs[i];
    if (text === undefined || /^\s*[0-9]+\s*$/.test(text)) {
      if (!policy.catalogs) {
        out.add(
          reason(
            'SYSTEM_CATALOG',
            `function pg_catalog.${fname} is given an object computed at run time (or a numeric OID), a system catalog lookup hidden by policy '${policyName}'`,
            'Name the relation in a string literal, or use the describe tool.',
          ),
        );
      }
      continue;
    }
    if (relIdx) {
      const parts = splitRegclassText(text);
      refs.push(fname === 'to_regclass' ? { parts, role: 'regclass', optional: true, literal: true } : { parts, role: 'regclass', literal: true });
    } else if (procIdx) {
      regprocRefs.push({ parts: splitQualifiedName(text) ?? [text], kind: 'regproc', literalArgs: [] });
    } else if (typeIdx) {
      const parts = splitQualifiedName(text);
      if (parts) refs.push({ parts, role: 'type', optional: true, literal: true });
    }
  }
}

