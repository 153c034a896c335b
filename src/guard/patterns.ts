/**
 * Policy name patterns: `schema.name` where `*` matches any run of characters within one part
 * (never across the dot). A pattern without a dot matches the name in any schema.
 *
 * Guarantees: matching is exact and case-sensitive against names as stored in the catalog
 * (PostgreSQL folds unquoted identifiers to lower case before the guard sees them); compiled
 * patterns are cached. Deny lists (`firstDenyMatch`, `matchesAnyDeny`) fail closed on names that
 * contain a dot: there `*` also matches the dot inside a quoted name (`app.secret*` denies
 * `app."secret.v2"`), while allow lists keep `*` within the part.
 * Does not: interpret any other wildcard or regex syntax.
 */

interface Compiled {
  schema: RegExp | undefined;
  name: RegExp;
}

const cache = new Map<string, Compiled>();

function part(p: string, star: string): RegExp {
  const src = p
    .split('*')
    .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join(star);
  return new RegExp(`^${src}$`);
}

function compile(pattern: string, deny: boolean): Compiled {
  const key = deny ? `d\u0000${pattern}` : pattern;
  let c = cache.get(key);
  if (c) return c;
  const star = deny ? '.*' : '[^.]*';
  const dot = pattern.indexOf('.');
  c = dot === -1 ? { schema: undefined, name: part(pattern, star) } : { schema: part(pattern.slice(0, dot), star), name: part(pattern.slice(dot + 1), star) };
  if (cache.size > 10_000) cache.clear();
  cache.set(key, c);
  return c;
}

export function matches(pattern: string, schema: string, name: string, deny = false): boolean {
  const c = compile(pattern, deny);
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

/** The first deny pattern that matches (a `*` here also matches a dot inside a quoted name). */
export function firstDenyMatch(patterns: readonly string[], schema: string, name: string): string | undefined {
  for (const p of patterns) if (matches(p, schema, name, true)) return p;
  return undefined;
}

export function matchesAnyDeny(patterns: readonly string[], schema: string, name: string): boolean {
  return firstDenyMatch(patterns, schema, name) !== undefined;
}
