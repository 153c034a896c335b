/**
 * Several catalog queries in ONE statement whose rows PostgreSQL aggregates to JSON (issue #13,
 * start-up: one round trip and one JSON.parse per chunk instead of thousands of rows decoded
 * field by field), in chunks of at most CHUNK_ROWS rows.
 *
 * Guarantees:
 * - Each query's rows come back in its ORDER BY when one is given (row_number() over it numbers
 *   them, and each chunk's json_agg and the chunks follow that number), else in the order the
 *   query produced them, as a row-by-row read would.
 * - No text value grows with the catalog: a chunk holds at most CHUNK_ROWS rows (catalog rows are
 *   a few hundred bytes; a long qualified type name or a 100-argument signature a few KB), so a
 *   huge catalog — millions of columns that any role with CREATE could make — cannot build one
 *   field past V8's string limit (≈ 512 MiB, which pg turns into an uncaught exception in its
 *   socket handler, not a query error). Each chunk's text is dropped once parsed.
 * - The statement text is built from the fixed query texts only; `params` are bound.
 * Does not: bound the catalog's total size (a snapshot holds every object the guard judges).
 */

/** Rows per JSON chunk. */
export const CHUNK_ROWS = 2_000;

/** One part: its SQL, the JSON expression of a row of it (over alias `q`), and its ORDER BY over `q` ('' = none). */
export type JsonPart = readonly [sql: string, row: string, order: string];

/** The statement that returns every part's rows as (part, rows) chunks, in part order, then row order. */
export function jsonPartsSql(parts: readonly JsonPart[]): string {
  const union = parts
    .map(([sql, row, order], i) => `SELECT ${i} AS part, ${row} AS r, pg_catalog.row_number() OVER (${order === '' ? '' : `ORDER BY ${order}`}) AS n FROM (${sql}) q`)
    .join('\nUNION ALL\n');
  return `SELECT s.part, pg_catalog.json_agg(s.r ORDER BY s.n)::text AS rows FROM (${union}) s GROUP BY s.part, (s.n - 1) / ${CHUNK_ROWS} ORDER BY s.part, pg_catalog.min(s.n)`;
}

/** The chunks' rows, part by part (index = the part's position in jsonPartsSql's list; [] for an empty part). */
export function jsonPartsRows(count: number, chunks: { part: number; rows: string | null }[]): unknown[][] {
  const out: unknown[][] = Array.from({ length: count }, () => []);
  for (const chunk of chunks) {
    const rows = out[chunk.part];
    if (rows === undefined || chunk.rows === null) throw new Error('catalog: unexpected chunk');
    for (const row of JSON.parse(chunk.rows) as unknown[]) rows.push(row);
    chunk.rows = null; // the text is garbage once parsed
  }
  return out;
}
