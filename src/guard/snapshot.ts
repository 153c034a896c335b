/**
 * buildCatalogSnapshot: assemble a CatalogSnapshot from plain lists (what the db layer reads from
 * pg_class / pg_proc / pg_operator, or a test fixture).
 *
 * Guarantees: keys are `schema.name` exactly as stored; functions are grouped by unqualified name;
 * schemas include every schema that has a relation or function plus the listed ones, and always
 * pg_catalog and information_schema. Does not: query anything.
 */
import type { CatalogFunction, CatalogRelation, CatalogSnapshot } from './types.js';

export interface SnapshotParts {
  relations: readonly CatalogRelation[];
  functions: readonly CatalogFunction[];
  schemas?: readonly string[];
  userOperators?: readonly string[];
  version?: number;
}

export function buildCatalogSnapshot(parts: SnapshotParts): CatalogSnapshot {
  const relations = new Map<string, CatalogRelation>();
  const functions = new Map<string, CatalogFunction[]>();
  const schemas = new Set<string>(['pg_catalog', 'information_schema', ...(parts.schemas ?? [])]);
  for (const r of parts.relations) {
    relations.set(`${r.schema}.${r.name}`, r);
    schemas.add(r.schema);
  }
  for (const f of parts.functions) {
    let list = functions.get(f.name);
    if (!list) functions.set(f.name, (list = []));
    list.push(f);
    schemas.add(f.schema);
  }
  return {
    relations,
    functions,
    schemas,
    userOperators: new Set(parts.userOperators ?? []),
    version: parts.version ?? 1,
  };
}
