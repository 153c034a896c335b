/**
 * audit.include_raw_sql end to end: with it on, the statement as sent (literals included) reaches
 * the audit log as `sql_raw` for query, check, explain and a refused statement, still scrubbed of
 * secrets; with it off (the default, every other e2e gateway) no record carries `sql_raw`.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { callTool, E2E_TOKENS, e2eConfigInput, startE2eGateway, type E2eGateway } from '../../support/gateway.js';
import { testDatabase } from '../../support/pg.js';

let on: E2eGateway;
let off: E2eGateway;

beforeAll(async () => {
  const url = testDatabase().gatewayUrl;
  on = await startE2eGateway({ configInput: (auditPath) => {
    const input = e2eConfigInput(url, auditPath);
    return { ...input, audit: { ...(input.audit as object), include_raw_sql: true } };
  } });
  off = await startE2eGateway();
}, 120_000);

afterAll(async () => {
  await on?.stop();
  await off?.stop();
});

const QUERY = "SELECT id FROM app.orders WHERE status = 'raw-literal-7731'";
const CHECK = "SELECT count(*) FROM app.orders WHERE status = 'raw-literal-8842'";
const REFUSED = "SELECT * FROM internal.api_keys WHERE key = 'raw-literal-9953'";
const SECRET = "SELECT 'postgres://someone:Sup3rSecretPw@db.example:5432/x' AS dsn";

async function run(gw: E2eGateway): Promise<Record<string, unknown>[]> {
  const client = await gw.connect('legacy', E2E_TOKENS.analyst);
  expect((await callTool(client, 'query', { sql: QUERY })).isError).toBe(false);
  await callTool(client, 'check', { sql: CHECK });
  expect((await callTool(client, 'query', { sql: REFUSED })).isError).toBe(true);
  await callTool(client, 'query', { sql: SECRET });
  // reads and refusals are recorded asynchronously (coalesced batches): the answer can come before
  // the record is in the file, so wait for the four calls' records
  const calls = (): Record<string, unknown>[] => gw.auditRecords().filter((r) => r.tool === 'query' || r.tool === 'check');
  await vi.waitFor(() => expect(calls().length).toBeGreaterThanOrEqual(4), { timeout: 10_000, interval: 20 });
  return gw.auditRecords();
}

describe('audit.include_raw_sql', () => {
  it('on: query, check and refused statements carry sql_raw with their literals, secrets scrubbed', async () => {
    const records = await run(on);
    const raw = (lit: string) => records.find((r) => typeof r.sql_raw === 'string' && r.sql_raw.includes(lit));
    expect(raw('raw-literal-7731')).toMatchObject({ tool: 'query', decision: 'allowed', sql_raw: QUERY });
    expect(raw('raw-literal-8842')).toMatchObject({ tool: 'check', sql_raw: CHECK });
    expect(raw('raw-literal-9953')).toMatchObject({ tool: 'query', decision: 'blocked', sql_raw: REFUSED });
    expect(JSON.stringify(records)).not.toContain('Sup3rSecretPw');
    // the normalized text still never holds a literal
    for (const r of records) if (typeof r.sql === 'string') expect(r.sql).not.toContain('raw-literal');
  });

  it('off (default): no record carries sql_raw or a literal', async () => {
    const records = await run(off);
    expect(records.length).toBeGreaterThan(0);
    expect(records.some((r) => 'sql_raw' in r)).toBe(false);
    expect(JSON.stringify(records)).not.toContain('raw-literal');
  });
});
