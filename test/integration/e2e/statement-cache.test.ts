/**
 * The statement cache through the real gateway (SECURITY.md layer 4): two principals on ONE pooled
 * connection, one with masks. pg_prepared_statements / pg_prepared_statement() are refused to
 * both under catalogs: true even when the policy names them; masked reads give the same masked
 * values on the first (parsed) and later (cached) uses, alternating principals. The server side
 * of ownership (closing the previous owner's statements) is pinned in
 * test/integration/db/statement-cache.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, codes, E2E_TOKENS, startE2eGateway, type E2eGateway } from '../../support/gateway.js';
import { testDatabase } from '../../support/pg.js';

let gw: E2eGateway;

const open = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  mode: 'read-only',
  schemas: ['app'],
  catalogs: true,
  tables: { allow: ['app.*', 'pg_catalog.*', 'pg_catalog.pg_prepared_statements'] },
  functions: { mode: 'denylist', allow: ['pg_catalog.pg_prepared_statement'] },
  ...extra,
});

beforeAll(async () => {
  const t = testDatabase();
  gw = await startE2eGateway({
    configInput: (auditPath) => ({
      server: { host: '127.0.0.1', port: 0, drain_timeout_ms: 1500, rate_limit: { per_principal: 100_000, per_ip: 100_000 } },
      log: { level: 'warn' },
      audit: { sink: 'file', path: auditPath, fsync: 'never' },
      masking: { hash_key: 'e2e-hash-key-0123456789abcdef' },
      databases: { shop: { url: t.gatewayUrl, search_path: ['app'], pool: { max: 1 } } },
      principals: {
        analyst: { policy: 'open', tokens: [{ id: 'analyst-e2e', token: E2E_TOKENS.analyst }] },
        masked: { policy: 'masked', tokens: [{ id: 'masked-e2e', token: E2E_TOKENS.masked }] },
      },
      policies: {
        open: { databases: { shop: open() } },
        masked: { databases: { shop: open({ masks: { 'app.customers.email': { mask: 'email' }, 'app.customers.ssn': { mask: 'redact' } } }) } },
      },
    }),
  });
});
afterAll(async () => {
  await gw?.stop();
});

describe('statement cache through the gateway', () => {
  it.each([
    'SELECT name, statement FROM pg_prepared_statements',
    'SELECT statement FROM pg_catalog.pg_prepared_statements',
    'SELECT * FROM pg_prepared_statement()',
    'SELECT count(*) FROM (SELECT statement FROM pg_prepared_statements) s',
  ])('%s is SYSTEM_CATALOG for every principal, even named by the policy', async (sql) => {
    for (const token of [E2E_TOKENS.analyst, E2E_TOKENS.masked]) {
      const client = await gw.connect('legacy', token);
      const out = await callTool(client, 'query', { sql });
      expect(out.isError).toBe(true);
      expect(codes(out)).toContain('SYSTEM_CATALOG');
    }
  });

  it('masked and unmasked principals alternating on one connection read what they read without the cache', async () => {
    const analyst = await gw.connect('legacy', E2E_TOKENS.analyst);
    const masked = await gw.connect('legacy', E2E_TOKENS.masked);
    const sql = 'SELECT id, email, ssn FROM app.customers WHERE id <= 3 ORDER BY id';
    const first = { analyst: await callTool(analyst, 'query', { sql }), masked: await callTool(masked, 'query', { sql }) };
    expect(first.analyst.isError).toBe(false);
    expect(first.masked.isError).toBe(false);
    expect(first.masked.structured.masked).toEqual(expect.arrayContaining(['app.customers.email', 'app.customers.ssn']));
    expect(JSON.stringify(first.masked.structured.rows)).not.toEqual(JSON.stringify(first.analyst.structured.rows));
    for (let i = 0; i < 3; i++) {
      // the same principal twice in a row: the second read binds its cached statement
      for (const [who, client] of [['masked', masked], ['masked', masked], ['analyst', analyst], ['analyst', analyst]] as const) {
        const out = await callTool(client, 'query', { sql });
        expect(out.structured.rows, who).toEqual(first[who].structured.rows);
        expect(out.structured.masked, who).toEqual(first[who].structured.masked);
      }
    }
  });
});
