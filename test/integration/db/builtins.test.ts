/**
 * Every pg_catalog function of the server under test (the embedded PostgreSQL, and PostgreSQL 15
 * in CI's second pass) is classified by src/guard/builtins.ts: allowed under `catalogs: false`,
 * catalog access, or in the built-in deny set. A new server version's functions fail this test
 * until someone classifies them (until then the guard treats them as catalog access).
 */
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { ALLOWED_BUILTINS, CATALOG_BUILTINS } from '../../../src/guard/builtins.js';
import { builtinClass } from '../../../src/guard/functions.js';
import { testDatabase } from '../../support/pg.js';

async function pgCatalogFunctionNames(): Promise<string[]> {
  const client = new pg.Client({ connectionString: testDatabase().databaseUrl });
  await client.connect();
  try {
    const r = await client.query<{ name: string }>(
      "SELECT DISTINCT p.proname AS name FROM pg_catalog.pg_proc p WHERE p.pronamespace = 'pg_catalog'::regnamespace ORDER BY 1",
    );
    return r.rows.map((x) => x.name);
  } finally {
    await client.end();
  }
}

describe('the pg_catalog function classification (src/guard/builtins.ts)', () => {
  it(`classifies every pg_catalog function of this server`, async () => {
    const names = await pgCatalogFunctionNames();
    expect(names.length).toBeGreaterThan(2500);
    const unclassified = names.filter((n) => builtinClass(n) === 'unclassified');
    expect(unclassified, `classify these in src/guard/builtins.ts (server ${testDatabase().serverVersion})`).toEqual([]);
  });

  it('puts no name in two classes', () => {
    const allowed = Object.values(ALLOWED_BUILTINS).flat();
    const catalog = Object.values(CATALOG_BUILTINS).flat();
    const all = [...allowed, ...catalog];
    expect(all.length).toBe(new Set(all).size);
    expect(allowed.filter((n) => builtinClass(n) === 'unsafe')).toEqual([]);
  });
});
