/**
 * src/db/json-parts.ts on a real PostgreSQL: the catalog's queries come back in chunks of at most
 * CHUNK_ROWS rows (no text value that grows with the catalog: one field past V8's string limit
 * was an uncaught exception in pg's socket handler), every row once, in each query's order.
 */
import { describe, expect, it } from 'vitest';
import { CHUNK_ROWS, jsonPartsRows, jsonPartsSql } from '../../../src/db/json-parts.js';
import { testDatabase } from '../../support/pg.js';
import { adminQuery } from './helpers.js';

const t = testDatabase();

describe('jsonPartsSql / jsonPartsRows', () => {
  it('chunks a large part, keeps every row once and in its ORDER BY, and reads an empty part as []', async () => {
    const n = 2 * CHUNK_ROWS + 345;
    const sql = jsonPartsSql([
      [`SELECT g AS v, 'x' || g AS s FROM pg_catalog.generate_series(1, ${n}) g`, 'pg_catalog.json_build_array(q.v, q.s)', 'q.v DESC'],
      ['SELECT 1 AS v WHERE false', 'pg_catalog.row_to_json(q)', ''],
      ["SELECT 'it''s \"quoted\" \\ ü' AS name", 'pg_catalog.row_to_json(q)', ''],
    ]);
    const chunks = await adminQuery<{ part: number; rows: string | null }>(t.adminUrl, sql);
    // the large part arrives in three texts, none over CHUNK_ROWS rows
    expect(chunks.filter((c) => c.part === 0)).toHaveLength(3);
    for (const c of chunks) expect((JSON.parse(c.rows ?? '[]') as unknown[]).length).toBeLessThanOrEqual(CHUNK_ROWS);
    const [big, empty, quoted] = jsonPartsRows(3, chunks);
    expect(big).toHaveLength(n);
    expect(big?.[0]).toEqual([n, `x${n}`]);
    expect(big?.map((r) => (r as [number])[0])).toEqual(Array.from({ length: n }, (_, i) => n - i));
    expect(empty).toEqual([]);
    expect(quoted).toEqual([{ name: 'it\'s "quoted" \\ ü' }]);
    expect(chunks.every((c) => c.rows === null)).toBe(true); // texts dropped once parsed
  });

  it('refuses a chunk of a part it was not asked for (fail closed)', () => {
    expect(() => jsonPartsRows(1, [{ part: 1, rows: '[]' }])).toThrow(/unexpected chunk/);
  });
});
