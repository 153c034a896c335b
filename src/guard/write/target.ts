/**
 * The target of one write: its RangeVar, the catalog relation it resolves to (exactly as the guard
 * resolves relations, pinned search_path), the name the statement refers to it by, and the
 * predicate context (NOT NULL columns, function volatility) the tautology check needs.
 *
 * Guarantees: unqualified column references count as the target's only when the statement has
 * no other FROM/USING item (otherwise they might name another table's column); an unknown function
 * counts as volatile (fail closed).
 * Does not: judge anything.
 */
import { effectiveSearchPath } from '../functions.js';
import { displayQualified } from '../names.js';
import { resolveRelation } from '../relations.js';
import type { CatalogRelation, CatalogSnapshot } from '../types.js';
import { asArray, isObj, type FoundWrite, type Obj } from './ast.js';
import type { PredicateContext } from './tautology.js';

export interface WriteTargetInfo {
  /** The RangeVar body of the target (never mutate). */
  rangeVar: Obj;
  schema: string | undefined;
  name: string;
  alias: string | undefined;
  /** The name the statement refers to the target by: its alias, else its relation name. */
  refName: string;
  rel: CatalogRelation | undefined;
  /** schema.name for messages (identifiers only). */
  display: string;
  /** ONLY was not written: the write also reaches inheritance children. */
  inh: boolean;
}

export function writeTarget(w: FoundWrite, catalog: CatalogSnapshot, searchPath: readonly string[]): WriteTargetInfo | undefined {
  const rv = w.body.relation;
  if (!isObj(rv) || typeof rv.relname !== 'string') return undefined;
  const parts = [rv.catalogname, rv.schemaname, rv.relname].filter((x): x is string => typeof x === 'string');
  const r = resolveRelation(parts, catalog, searchPath);
  const alias = isObj(rv.alias) && typeof rv.alias.aliasname === 'string' ? rv.alias.aliasname : undefined;
  return {
    rangeVar: rv,
    schema: r.schema,
    name: r.name,
    alias,
    refName: alias ?? rv.relname,
    rel: r.rel,
    display: r.schema === undefined ? r.display : displayQualified(r.schema, r.name),
    inh: rv.inh === true,
  };
}

/** Whether the write joins other relations (UPDATE … FROM, DELETE … USING, MERGE … USING). */
export function hasOtherRelations(w: FoundWrite): boolean {
  return asArray(w.body.fromClause).length > 0 || asArray(w.body.usingClause).length > 0 || w.body.sourceRelation !== undefined;
}

export function isVolatile(parts: readonly string[], catalog: CatalogSnapshot, searchPath: readonly string[]): boolean {
  const name = parts[parts.length - 1] ?? '';
  const overloads = catalog.functions.get(name) ?? [];
  const schemas = parts.length >= 2 ? [parts[parts.length - 2] as string] : effectiveSearchPath(searchPath);
  for (const s of schemas) {
    const inSchema = overloads.filter((f) => f.schema === s);
    if (inSchema.length > 0) return inSchema.some((f) => f.volatility === 'volatile');
  }
  return true; // unknown: fail closed
}

export function predicateContext(w: FoundWrite, t: WriteTargetInfo | undefined, catalog: CatalogSnapshot, searchPath: readonly string[]): PredicateContext {
  const notNull = new Set(t?.rel?.write?.notNull ?? []);
  const alone = !hasOtherRelations(w);
  return {
    isNotNullColumn(fields: readonly string[]): boolean {
      if (t === undefined || notNull.size === 0) return false;
      const col = fields[fields.length - 1] ?? '';
      if (!notNull.has(col)) return false;
      if (fields.length === 1) return alone;
      if (fields.length === 2) return fields[0] === t.refName;
      if (fields.length === 3) return t.alias === undefined && fields[0] === t.schema && fields[1] === t.name;
      return false;
    },
    isVolatileFunction(parts: readonly string[]): boolean {
      return isVolatile(parts, catalog, searchPath);
    },
  };
}
