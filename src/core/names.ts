/**
 * SQL identifier helpers of the core: quote an identifier, split a possibly quoted qualified name
 * with PostgreSQL's folding, and resolve a table name against a catalog and search path.
 * Pure. Does not: decide visibility (describe asks the guard).
 */
import type { CatalogSnapshot } from '../guard/types.js';

/** Resolve "schema.table" or "table" (first match on the search path); quotes allowed. */
export function resolveTableName(input: string, catalog: CatalogSnapshot, searchPath: readonly string[]): { schema: string; name: string } | undefined {
  const parts = splitQualified(input.trim());
  if (!parts) return undefined;
  if (parts.length === 2) {
    const [schema, name] = parts as [string, string];
    return catalog.relations.has(`${schema}.${name}`) ? { schema, name } : undefined;
  }
  const [name] = parts as [string];
  for (const schema of searchPath) if (catalog.relations.has(`${schema}.${name}`)) return { schema, name };
  return undefined;
}

/** Split `a.b`, `"A"."b"`, `a` into identifier parts with Postgres folding (unquoted → lower case). */
export function splitQualified(input: string): string[] | undefined {
  const parts: string[] = [];
  let i = 0;
  while (i < input.length) {
    if (input[i] === '"') {
      const quoted = readQuoted(input, i);
      if (!quoted) return undefined;
      parts.push(quoted.text);
      i = quoted.end;
    } else {
      const m = /^[A-Za-z_][A-Za-z0-9_$]*/.exec(input.slice(i));
      if (!m) return undefined;
      parts.push(m[0].toLowerCase());
      i += m[0].length;
    }
    if (i < input.length) {
      if (input[i] !== '.') return undefined;
      i += 1;
      if (i >= input.length) return undefined;
    }
  }
  return parts.length >= 1 && parts.length <= 2 ? parts : undefined;
}

/** A double-quoted identifier starting at `start` (`""` is a quote): its text and the index after the closing quote. */
function readQuoted(input: string, start: number): { text: string; end: number } | undefined {
  let j = start + 1;
  let out = '';
  for (;;) {
    if (j >= input.length) return undefined;
    if (input[j] === '"') {
      if (input[j + 1] === '"') {
        out += '"';
        j += 2;
        continue;
      }
      break;
    }
    out += input[j];
    j += 1;
  }
  return { text: out, end: j + 1 };
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
