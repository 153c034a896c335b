/**
 * The extension matrix (issue #9 item 5): every contrib extension of the server under test that
 * can be created without shared_preload_libraries (and without an untrusted procedural
 * language), installed
 *   (a) in a hidden schema (neither exposed nor on the search_path),
 *   (b) in an exposed schema that is not on the search_path,
 *   (c) in a schema on the pinned search_path (public; the corpus path is app, public),
 * must not change anything for the green corpus (test/corpus/allow): no new refusal, and the
 * same rows as on a database without extensions. Shadowing attacks — a user-defined `=`(text,
 * text), `lower(text)`, `strpos(text, text)` that PostgreSQL picks over the built-in — stay
 * refused. Runs through the real gateway and a real MCP client on the embedded PostgreSQL and
 * (CI's second pass) on PostgreSQL 15. Cost: a few seconds of CREATE EXTENSION plus four passes
 * over the ~260 green statements.
 */
import type { Client } from '@modelcontextprotocol/client';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus, loadCorpusPolicy, type CorpusCase } from '../../corpus/index.js';
import { callTool, startE2eGateway, type E2eGateway } from '../../support/gateway.js';
import { createScratchDatabase, type ScratchDatabase } from '../../support/postgres.js';

const TOKEN = 'pgw_extension_matrix_0123456789abcdefghijkl';
const policy = loadCorpusPolicy();
const green = loadCorpus().filter((c) => c.expect === 'allow' && c.knownGap === undefined && c.class !== 'generated');

/** Untrusted languages and transforms over them (plperl, plpython3u, hstore_plperl …) need more than contrib. */
const SKIP = /^(pl|.*_pl(perl|python|tcl))/;

type Variant = 'base' | 'hidden' | 'exposed' | 'path' | 'shadow' | 'better';
const VARIANTS: Variant[] = ['base', 'hidden', 'exposed', 'path', 'shadow', 'better'];
const SCHEMA: Record<'hidden' | 'exposed' | 'path', string> = { hidden: 'ext_hidden', exposed: 'ext_exposed', path: 'public' };

/** Statements whose rows change from run to run. */
const VOLATILE = /clock_timestamp|statement_timestamp|transaction_timestamp|timeofday|now\(|current_time|localtime|random|gen_random_uuid|uuidv|EXPLAIN[^;]*ANALYZE/i;

const dbs = new Map<Variant, ScratchDatabase>();
const created: Record<string, string[]> = {};
const failed: Record<string, string[]> = {};
let gw: E2eGateway;
let client: Client;

async function admin<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}

async function installAll(db: ScratchDatabase, schema: string): Promise<{ ok: string[]; bad: string[] }> {
  return await admin(db.databaseUrl, async (c) => {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${pg.escapeIdentifier(schema)}`);
    const names = (await c.query<{ name: string }>('SELECT name FROM pg_available_extensions WHERE installed_version IS NULL ORDER BY name')).rows.map((r) => r.name);
    const ok: string[] = [];
    const bad: string[] = [];
    for (const name of names.filter((n) => !SKIP.test(n))) {
      const already = await c.query('SELECT 1 FROM pg_extension WHERE extname = $1', [name]);
      if (already.rowCount) {
        ok.push(name); // created by CASCADE
        continue;
      }
      try {
        await c.query(`CREATE EXTENSION ${pg.escapeIdentifier(name)} SCHEMA ${pg.escapeIdentifier(schema)} CASCADE`);
        ok.push(name);
      } catch {
        try {
          // extensions pinned to a schema of their own (adminpack: pg_catalog)
          await c.query(`CREATE EXTENSION ${pg.escapeIdentifier(name)} CASCADE`);
          ok.push(name);
        } catch (err) {
          bad.push(`${name}: ${(err as Error).message}`);
        }
      }
    }
    return { ok, bad };
  });
}

/** User code that shadows built-ins where PostgreSQL picks it: search_path lists pg_catalog after public. */
const SHADOW_SQL = `
  CREATE FUNCTION public.shadow_texteq(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT $1 OPERATOR(pg_catalog.=) $2';
  CREATE OPERATOR public.= (LEFTARG = text, RIGHTARG = text, FUNCTION = public.shadow_texteq);
  CREATE FUNCTION public.lower(text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT pg_catalog.upper($1)';
  CREATE FUNCTION public.strpos(text, text) RETURNS integer LANGUAGE sql IMMUTABLE AS 'SELECT 42';
`;
/** A user function that matches better than the built-in on the default path (pg_catalog first). */
const BETTER_SQL = `
  CREATE FUNCTION public.lower(varchar) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT ''shadowed''';
  CREATE DOMAIN public.rc AS regclass;
  CREATE DOMAIN public.rcs AS public.rc[];
`;

beforeAll(async () => {
  for (const v of VARIANTS) dbs.set(v, await createScratchDatabase());
  for (const v of ['hidden', 'exposed', 'path'] as const) {
    const r = await installAll(dbs.get(v) as ScratchDatabase, SCHEMA[v]);
    created[v] = r.ok;
    failed[v] = r.bad;
  }
  await admin((dbs.get('shadow') as ScratchDatabase).databaseUrl, (c) => c.query(SHADOW_SQL));
  await admin((dbs.get('better') as ScratchDatabase).databaseUrl, (c) => c.query(BETTER_SQL));
  const dbPolicy = policy.raw.policies[policy.policyName] as { databases: Record<string, Record<string, unknown>> };
  const base = dbPolicy.databases[policy.database] as Record<string, unknown>;
  const dbConfig = policy.raw.databases[policy.database] as Record<string, unknown>;
  const databases: Record<string, unknown> = {};
  const policies: Record<string, unknown> = {};
  for (const v of VARIANTS) {
    const db = dbs.get(v) as ScratchDatabase;
    databases[v] = { ...dbConfig, url: db.gatewayUrl, ...(v === 'shadow' ? { search_path: ['public', 'pg_catalog', 'app'] } : {}) };
    policies[v] = v === 'exposed' ? { ...base, schemas: ['app', 'ext_exposed'] } : v === 'shadow' ? { ...base, schemas: ['app', 'public'] } : base;
  }
  gw = await startE2eGateway({
    configInput: (auditPath) => ({
      server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 1_000_000, per_ip: 1_000_000 } },
      log: { level: 'warn' },
      audit: { sink: 'file', path: auditPath, fsync: 'never' },
      databases,
      principals: { analyst: { policy: 'matrix', tokens: [{ id: 'matrix', token: TOKEN }] } },
      policies: { matrix: { databases: policies } },
    }),
  });
  client = await gw.connect('legacy', TOKEN);
}, 300_000);

afterAll(async () => {
  await gw?.stop();
  for (const db of dbs.values()) await db.drop();
});

interface Outcome {
  allowed: boolean;
  codes: string[];
  rows?: unknown;
}

async function run(c: CorpusCase, database: Variant): Promise<Outcome> {
  const out = await callTool(client, c.tool, { sql: c.sql, database });
  const s = out.structured as { decision?: string; reasons?: { code: string }[]; rows?: unknown };
  const allowed = c.tool === 'check' ? s.decision === 'allow' : !out.isError;
  return { allowed, codes: (s.reasons ?? []).map((r) => r.code), ...(c.tool === 'query' && !out.isError ? { rows: s.rows } : {}) };
}

describe('contrib extensions installed in hidden, exposed and search-path schemas', () => {
  it('created every contrib extension that needs no preload', () => {
    for (const v of ['hidden', 'exposed', 'path']) {
      expect(failed[v], `extensions that failed in ${v}`).toEqual([]);
      expect(created[v]?.length ?? 0).toBeGreaterThanOrEqual(35);
    }
    console.log(`extension matrix: ${created.path?.length ?? 0} extensions per variant: ${(created.path ?? []).join(' ')}`);
  });

  it('the green corpus gets no new refusal and the same rows in every placement', async () => {
    const problems: string[] = [];
    let compared = 0;
    let volatile = 0;
    for (const c of green) {
      const base = await run(c, 'base');
      if (!base.allowed) {
        problems.push(`${c.id}: refused on the database without extensions (${base.codes.join(',')})`);
        continue;
      }
      // a statement whose rows differ between two runs on the same database (now(), random(),
      // EXPLAIN ANALYZE timings) is compared by verdict only
      const deterministic = !VOLATILE.test(c.sql) && JSON.stringify((await run(c, 'base')).rows) === JSON.stringify(base.rows);
      if (!deterministic) volatile++;
      for (const v of ['hidden', 'exposed', 'path'] as const) {
        const got = await run(c, v);
        if (!got.allowed) problems.push(`${c.id} [${v}]: refused (${got.codes.join(',')})`);
        else if (deterministic && JSON.stringify(got.rows) !== JSON.stringify(base.rows)) problems.push(`${c.id} [${v}]: different rows`);
        else compared++;
      }
    }
    console.log(`extension matrix: ${green.length} green statements × 3 placements: ${compared} allowed with the same rows (${volatile} statements nondeterministic: verdict only), ${problems.length} problems`);
    expect(problems).toEqual([]);
  }, 600_000);

  it.each([
    ["SELECT id FROM app.orders WHERE status = 'paid'", 'a user-defined =(text, text) on the path before pg_catalog'],
    ['SELECT lower(full_name) FROM app.customers', 'a user-defined lower(text) on the path before pg_catalog'],
    ["SELECT strpos(sku, '0') FROM app.products", 'a user-defined strpos(text, text) on the path before pg_catalog'],
    ["SELECT id FROM app.orders WHERE status IN ('paid', 'shipped')", 'IN compares with the shadowing ='],
    ["SELECT CASE status WHEN 'paid' THEN 1 END FROM app.orders", 'CASE x WHEN compares with the shadowing ='],
    ["SELECT id FROM app.orders o JOIN app.orders p USING (status) LIMIT 1", 'JOIN USING compares with the shadowing ='],
    ["SELECT lower('ABC')", 'an unknown literal: the user lower(text) comes first on the path'],
  ])('shadowing stays refused: %s (%s)', async (sql) => {
    const out = await callTool(client, 'query', { sql, database: 'shadow' });
    expect(out.isError).toBe(true);
    const codes = ((out.structured as { reasons?: { code: string }[] }).reasons ?? []).map((r) => r.code);
    expect(codes).toContain('FUNCTION_NOT_ALLOWED');
  });

  it('a better-matching user function on the default path stays refused: lower(varchar) for a varchar argument', async () => {
    const out = await callTool(client, 'query', { sql: 'SELECT lower(sku::varchar) FROM app.products LIMIT 1', database: 'better' });
    expect(out.isError).toBe(true);
    // a text argument resolves to the built-in lower(text) exactly
    const ok = await callTool(client, 'query', { sql: 'SELECT lower(sku) FROM app.products LIMIT 1', database: 'better' });
    expect(ok.isError).toBe(false);
    expect((ok.structured as { rows: unknown[][] }).rows[0]?.[0]).toMatch(/^sku-/);
  });

  it.each([
    'SELECT (ARRAY[x::oid]::rc[])::text FROM generate_series(16384, 16390) x',
    'SELECT 16384::oid::public.rc',
    "SELECT '{16384}'::_rc",
    "SELECT '{16384}'::rcs",
    'SELECT CAST(16384::oid AS rc)',
  ])('a domain over a reg type is a reg type under catalogs: false: %s', async (sql) => {
    const out = await callTool(client, 'query', { sql, database: 'better' });
    expect(out.isError).toBe(true);
    expect(((out.structured as { reasons?: { code: string }[] }).reasons ?? []).map((r) => r.code)).toContain('SYSTEM_CATALOG');
  });

  it('an extension operator used on its own types is judged: citext = citext is refused unless allowed', async () => {
    const out = await callTool(client, 'query', { sql: "SELECT id FROM app.customers WHERE email::citext = 'X@EXAMPLE.COM'", database: 'path' });
    expect(out.isError).toBe(true);
    expect(((out.structured as { reasons?: { code: string }[] }).reasons ?? []).map((r) => r.code)).toContain('FUNCTION_NOT_ALLOWED');
  });
});
