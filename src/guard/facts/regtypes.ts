/**
 * Object-identifier facts: casts to reg* types (a literal names a relation, function, operator or
 * type; a computed value resolves through the system catalogs) and reg* values mixed with other
 * values where PostgreSQL resolves one type for several (UNION, CASE, COALESCE, ARRAY[…], …).
 *
 * Guarantees: a reg* TypeName outside a literal cast is a dynamic cast; a type name that may be a
 * relation's row type is recorded as an optional relation; literal names are recorded as
 * `literal` (never echoed unless they resolve).
 * Does not: resolve anything (relations.ts, functions.ts do).
 */
import { NAME_LOOKUP_FUNCTIONS, REGCLASS_ARGS, REGPROC_ARGS, TYPENAME_ARGS } from '../functions.js';
import { nameList, splitOperatorName, splitQualifiedName } from '../names.js';
import type { NodeVisit } from '../ast/traverse.js';
import type { Facts, GuardWalk } from './state.js';

/** Object-identifier types: a cast to one resolves a name or an OID through the system catalogs. */
export const REG_TYPES: ReadonlySet<string> = new Set([
  'regclass', 'regproc', 'regprocedure', 'regoper', 'regoperator', 'regtype', 'regrole', 'regnamespace', 'regconfig',
  'regdictionary', 'regcollation', 'aclitem',
]);

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

/** Built-in functions that return an object-identifier type (printed as a name). */
const REG_RETURNING_FUNCTIONS: ReadonlySet<string> = new Set([
  'to_regclass', 'to_regproc', 'to_regprocedure', 'to_regoper', 'to_regoperator', 'to_regtype', 'to_regrole',
  'to_regnamespace', 'to_regcollation', 'regclass', 'pg_typeof', 'pg_basetype', 'pg_partition_root',
  'pg_get_replica_identity_index',
]);

/** Functions whose arguments name relations, functions or types (pg_relation_size('x'::regclass)): no type mixing. */
export function takesObjectNames(parts: string[] | undefined): boolean {
  const name = parts?.[parts.length - 1];
  if (name === undefined || (parts !== undefined && parts.length > 1 && parts[parts.length - 2] !== 'pg_catalog')) return false;
  return REGCLASS_ARGS[name] !== undefined || REGPROC_ARGS[name] !== undefined || TYPENAME_ARGS[name] !== undefined || NAME_LOOKUP_FUNCTIONS.has(name);
}

/** If `node` is an object-identifier value (literal cast or reg-returning call), record it as mixed. */
export function regMix(node: unknown, facts: Facts): void {
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

export function regMixAll(list: unknown, facts: Facts): void {
  if (Array.isArray(list)) for (const x of list) regMix(x, facts);
}

/** The object-identifier type a TypeName names (regclass, pg_catalog.regrole …), or undefined. */
export function regTypeOf(typeName: unknown): string | undefined {
  const tn = nameList((typeName as { names?: unknown } | undefined)?.names);
  let last = tn?.[tn.length - 1];
  if (last === undefined || !(tn?.length === 1 || tn?.[0] === 'pg_catalog')) return undefined;
  // _regclass is regclass[] spelled as the array type's own name
  const arrayName = last.startsWith('_') && REG_TYPES.has(last.slice(1));
  if (arrayName) last = last.slice(1);
  if (!REG_TYPES.has(last)) return undefined;
  const bounds = (typeName as { arrayBounds?: unknown[] } | undefined)?.arrayBounds;
  return arrayName || (Array.isArray(bounds) && bounds.length > 0) ? `${last}[]` : last;
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

/** `x::regclass`: a literal names an object; anything else resolves through the catalogs. */
export function typeCast(n: NodeVisit<GuardWalk>): void {
  const b = n.body;
  const last = regTypeOf(b.typeName);
  if (last === undefined) return;
  const facts = n.state.facts;
  const text = literalString(b.arg);
  // an array of an object-identifier type converts every element (ARRAY[x::oid]::_regclass)
  if (text === undefined || last.endsWith('[]') || /^\s*[0-9]+\s*$/.test(text)) facts.dynamicRegCasts.push(last);
  else regLiteral(last, text, facts);
  // the type name itself is judged here, not again as a TypeName below
  n.skip1 = 'typeName';
}

/**
 * A type name: a reg* type outside a literal cast (a column definition list AS t(a regclass),
 * JSON_TABLE / XMLTABLE columns, RETURNING regclass …) converts values computed at run time
 * through the system catalogs; any type may be a relation's row type (NULL::internal.api_keys,
 * CAST(ROW(…) AS t), t%TYPE).
 */
export function typeName(n: NodeVisit<GuardWalk>): void {
  const b = n.body;
  const facts = n.state.facts;
  const reg = regTypeOf(b);
  if (reg !== undefined) facts.dynamicRegCasts.push(reg);
  const parts = nameList(b.names);
  if (parts && parts.length > 0) {
    const rel = b.pct_type ? parts.slice(0, -1) : parts;
    if (rel.length > 0 && !(rel.length === 2 && rel[0] === 'pg_catalog' && !rel[1]?.startsWith('pg_'))) {
      facts.relations.push({ parts: rel, role: 'type', optional: true });
    }
  }
}
