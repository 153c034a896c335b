/**
 * Policy name patterns: `schema.name` where `*` matches any run of characters within one part
 * (never across the dot). A pattern without a dot matches the name in any schema.
 *
 * Guarantees: matching is exact and case-sensitive against names as stored in the catalog
 * (PostgreSQL folds unquoted identifiers to lower case before the guard sees them); compiled
 * patterns are cached. Does not: interpret any other wildcard or regex syntax.
 */

interface Compiled {
  schema: RegExp | undefined;
  name: RegExp;
}

const cache = new Map<string, Compiled>();

function part(p: string): RegExp {
  const src = p
    .split('*')
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^.]*');
  return new RegExp(`^${src}$`);
}

function compile(pattern: string): Compiled {
  let c = cache.get(pattern);
  if (c) return c;
  const dot = pattern.indexOf('.');
  c = dot === -1 ? { schema: undefined, name: part(pattern) } : { schema: part(pattern.slice(0, dot)), name: part(pattern.slice(dot + 1)) };
  if (cache.size > 10_000) cache.clear();
  cache.set(pattern, c);
  return c;
}

export function matches(pattern: string, schema: string, name: string): boolean {
  const c = compile(pattern);
  return (c.schema === undefined || c.schema.test(schema)) && c.name.test(name);
}

/** The first pattern that matches, or undefined. */
export function firstMatch(patterns: readonly string[], schema: string, name: string): string | undefined {
  for (const p of patterns) if (matches(p, schema, name)) return p;
  return undefined;
}

export function matchesAny(patterns: readonly string[], schema: string, name: string): boolean {
  return firstMatch(patterns, schema, name) !== undefined;
}
