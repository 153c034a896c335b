/**
 * Names of objects the policy hides, judged by their names only (issue #9: nothing an agent
 * observes may depend on what its policy hides — reason codes, messages and fixes included).
 *
 * Guarantees:
 * - a relation, row type, type, function or operator named in a schema the policy does not expose
 *   (qualified, or — for relations and types — an unqualified name that PostgreSQL would look up
 *   in an exposed schema whose name rules refuse it) gives the same refusal whether or not the
 *   object exists, whatever its kind, columns, column types, owner or SECURITY DEFINER flag: the
 *   refusal is built from the name as written and the policy alone (relations.ts nameRules; fixes
 *   only suggest relations the principal may read);
 * - a name taken from a string literal ('vault.t'::regclass, to_regclass('…'), to_regproc('…'))
 *   is judged the same way but never echoed (it may be any text);
 * - when a statement names anything hidden, the guard stops there (policy.ts): it reports these
 *   visibility refusals and the statement-level reasons that look at no catalog object, and does
 *   not go on to resolve functions, operators or types by argument types, judge write shapes, or
 *   look up the other relations — every later lookup could consult the hidden object (its column
 *   types pick an operator, its existence picks an error), so none is made.
 * Does not: hide what the pinned search_path shows: schemas on the search_path are treated as
 *   visible to unqualified name resolution (put hidden objects in schemas off the path), and
 *   pg_catalog / information_schema are the server's own (identical on every server of a version).
 */
import { effectiveSearchPath, REGCLASS_ARGS, REGPROC_ARGS, TYPENAME_ARGS, type FunctionRules } from './functions.js';
import { displayIdent, displayQualified, splitQualifiedName } from './names.js';
import { matchesAny } from './patterns.js';
import { reason, type Reason } from './reasons.js';
import { allowedSchemas, DEFAULT_RESERVED_SCHEMAS, isSystemSchema, nameRefusals, type RelationContext } from './relations.js';
import type { Facts, FunctionRef, RelationRef } from './walk.js';

export interface HiddenNames {
  /** The visibility refusals, in statement order (empty: the statement names nothing hidden). */
  reasons: Reason[];
  /** The hidden relations as named (for Decision.relations), `schema.name`. */
  relations: string[];
  /** The relation references judged hidden (the others resolve among visible schemas only). */
  refs: Set<RelationRef>;
}

/** A schema whose objects the principal may not see: not a catalog schema, not on the pinned search_path, not exposed (or reserved). */
export function schemaHidden(schema: string, ctx: RelationContext): boolean {
  if (schema === 'pg_catalog' || schema === 'information_schema') return false;
  if ((ctx.reservedSchemas ?? DEFAULT_RESERVED_SCHEMAS).includes(schema)) return true;
  if (ctx.searchPath.includes(schema)) return false;
  return !allowedSchemas(ctx).includes(schema);
}

function exposed(schema: string, ctx: RelationContext): boolean {
  return !isSystemSchema(schema) && allowedSchemas(ctx).includes(schema) && !(ctx.reservedSchemas ?? DEFAULT_RESERVED_SCHEMAS).includes(schema);
}

/** Whether a type (not a relation's row type) named `name` exists in `schema` (needs the snapshot's type information). */
function plainTypeIn(schema: string, name: string, ctx: RelationContext): boolean {
  const types = ctx.catalog.typeInfo?.typesByName.get(name);
  return types !== undefined && types.some((t) => t.schema === schema) && !ctx.catalog.relations.has(`${schema}.${name}`);
}

/** A literal's name is never echoed: the same refusal, worded without it. */
function literalReason(r: Reason, ctx: RelationContext): Reason {
  const what = r.code === 'DENIED_SCHEMA' ? 'is in a schema that' : 'is a relation that';
  return { code: r.code, message: `a relation named in a string literal ${what} policy '${ctx.policyName}' hides`, fix: 'Name only relations this principal may read; call describe to list them.' };
}

/**
 * The schema an unqualified relation or type name is judged in: the first schema of the search
 * path where PostgreSQL would find it, or where the name rules of an exposed schema refuse the
 * name (a hidden table there is refused as if it existed, so that a missing one is too).
 */
function unqualifiedHidden(name: string, type: boolean, ctx: RelationContext): string | undefined {
  const path = effectiveSearchPath(ctx.searchPath);
  if (type) {
    // types: only with type information, and a name that is a plain type somewhere on the path
    // goes on to it unless the refused relation is really there (the rare case it says so)
    if (ctx.catalog.typeInfo === undefined) return undefined;
    const typeOnPath = path.some((s) => plainTypeIn(s, name, ctx));
    for (const s of path) {
      if (plainTypeIn(s, name, ctx)) return undefined;
      const rel = ctx.catalog.relations.has(`${s}.${name}`);
      if (exposed(s, ctx) && (rel || !typeOnPath) && nameRefusals(s, name, ctx).length > 0) return s;
      if (rel) return undefined;
    }
    return undefined;
  }
  for (const s of path) {
    if (exposed(s, ctx) && nameRefusals(s, name, ctx).length > 0) return s;
    if (ctx.catalog.relations.has(`${s}.${name}`)) return undefined;
  }
  return undefined;
}

function relationHidden(ref: RelationRef, ctx: RelationContext): { schema: string; name: string; reasons: Reason[] } | undefined {
  if (ref.role === 'create') return undefined;
  const name = ref.parts[ref.parts.length - 1] ?? '';
  let schema: string | undefined;
  if (ref.parts.length >= 2) {
    schema = ref.parts[ref.parts.length - 2] as string;
    if (isSystemSchema(schema)) return undefined;
    if (ref.role === 'type') {
      // a type of an exposed (or search_path) schema that is not a relation's row type is visible
      if (!schemaHidden(schema, ctx) && (plainTypeIn(schema, name, ctx) || !exposed(schema, ctx))) return undefined;
      if (!schemaHidden(schema, ctx) && ctx.catalog.typeInfo === undefined && !ctx.catalog.relations.has(`${schema}.${name}`)) return undefined;
    }
  } else {
    schema = unqualifiedHidden(name, ref.role === 'type', ctx);
    if (schema === undefined) return undefined;
  }
  const reasons = nameRefusals(schema, name, ctx);
  if (reasons.length === 0) return undefined;
  return { schema, name, reasons: ref.literal === true ? reasons.map((r) => literalReason(r, ctx)) : reasons };
}

export function functionHidden(f: FunctionRef, rules: FunctionRules, ctx: RelationContext): Reason | undefined {
  if (f.kind === 'tablesample' || f.parts.length < 2) return undefined;
  const name = f.parts[f.parts.length - 1] ?? '';
  const schema = f.parts[f.parts.length - 2] as string;
  if (!schemaHidden(schema, ctx) || (rules.allow.length > 0 && matchesAny(rules.allow, schema, name))) return undefined;
  const shown = f.kind === 'regproc' ? 'a function named in a string literal' : `function ${displayQualified(schema, name)}`;
  return reason(
    'FUNCTION_NOT_ALLOWED',
    `${shown} is in a schema that policy '${ctx.policyName}' does not expose`,
    'Use built-in functions, or functions of the exposed schemas that the policy allows.',
  );
}

function operatorHidden(parts: readonly string[], rules: FunctionRules, ctx: RelationContext): Reason | undefined {
  if (parts.length < 2) return undefined;
  const op = parts[parts.length - 1] ?? '';
  const schema = parts[parts.length - 2] as string;
  if (!schemaHidden(schema, ctx) || rules.allow.includes(op) || rules.allow.includes(parts.join('.'))) return undefined;
  return reason(
    'FUNCTION_NOT_ALLOWED',
    `operator ${displayIdent(schema)}.${op} is in a schema that policy '${ctx.policyName}' does not expose`,
    'Use built-in operators, or ask an operator to add it to functions.allow.',
  );
}

/** The statement's names of hidden objects (see the module header). */
export function hiddenNames(facts: Facts, ctx: RelationContext, rules: FunctionRules): HiddenNames {
  const out: HiddenNames = { reasons: [], relations: [], refs: new Set() };
  for (const ref of facts.relations) {
    const h = relationHidden(ref, ctx);
    if (h === undefined) continue;
    out.reasons.push(...h.reasons);
    out.refs.add(ref);
    if (ref.literal !== true) out.relations.push(`${h.schema}.${h.name}`);
  }
  for (const f of facts.functions) {
    const r = functionHidden(f, rules, ctx);
    if (r !== undefined) out.reasons.push(r);
    for (const ref of nameArgumentRefs(f)) {
      if ('kind' in ref) {
        const x = functionHidden(ref, rules, ctx);
        if (x !== undefined) out.reasons.push(x);
        continue;
      }
      const h = relationHidden(ref, ctx);
      if (h !== undefined) out.reasons.push(...h.reasons);
    }
  }
  for (const op of facts.operators) {
    const r = operatorHidden(op, rules, ctx);
    if (r !== undefined) out.reasons.push(r);
  }
  return out;
}

/**
 * Names given as string literals to built-in name parameters (pg_relation_size('s.t'),
 * to_regclass('s.t'), to_regtype('s.t'), to_regproc('s.f')): judged like the names they are
 * (policy.ts nameArguments resolves them for the rest of the rules).
 */
function nameArgumentRefs(f: FunctionRef): (RelationRef | FunctionRef)[] {
  if (f.kind !== 'call' || !(f.parts.length === 1 || f.parts[f.parts.length - 2] === 'pg_catalog')) return [];
  const fname = f.parts[f.parts.length - 1] ?? '';
  // most calls take no names (checked before building anything: this runs for every call)
  if (REGCLASS_ARGS[fname] === undefined && TYPENAME_ARGS[fname] === undefined && REGPROC_ARGS[fname] === undefined) return [];
  const out: (RelationRef | FunctionRef)[] = [];
  const texts = (idx: readonly number[] | undefined): string[] =>
    (idx ?? []).map((i) => f.literalArgs[i]).filter((t): t is string => t !== undefined && !/^\s*[0-9]+\s*$/.test(t));
  for (const t of texts(REGCLASS_ARGS[fname])) out.push({ parts: splitQualifiedName(t) ?? [t], role: 'regclass', literal: true, optional: fname === 'to_regclass' });
  for (const t of texts(TYPENAME_ARGS[fname])) {
    const parts = splitQualifiedName(t);
    if (parts) out.push({ parts, role: 'type', optional: true, literal: true });
  }
  for (const t of texts(REGPROC_ARGS[fname])) out.push({ parts: splitQualifiedName(t) ?? [t], kind: 'regproc', literalArgs: [] });
  return out;
}
