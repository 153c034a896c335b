/**
 * Issue #9 item 4: the hash-mask key never travels in statement text. A private server logs to a
 * file we read: first with stock settings (log_min_error_statement = error writes the text of
 * every failing statement), then with log_statement = all. Masked reads, EXPLAIN, describe samples
 * and masked writes — failing and succeeding — run through the real gateway (MCP client), and the
 * derived key's padded blocks are absent from the log, while the statement texts are there (so
 * the check can fail).
 *
 * The blocks are bind parameters. PostgreSQL logs bind values with log_statement = all unless
 * log_parameter_max_length = 0 (superuser-only; docs/masking.md tells operators to set it for the
 * gateway's login role): the second phase runs with that role setting, as documented, and the
 * third shows what happens without it (the key IS logged: the documented limit is real).
 */
import { chmodSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveMaskKey } from '../../../src/mask/index.js';
import { callTool, startE2eGateway, type E2eGateway } from '../../support/gateway.js';
import { clusterUnavailable, startCluster, type TestCluster } from '../../support/postgres.js';
import { adminQuery } from '../db/helpers.js';

const HASH_KEY = 'key-log-test-mask-key-0123456789';
const key = deriveMaskKey(HASH_KEY);
const BLOCKS = [key.ipadHex.slice(0, 24), key.opadHex.slice(0, 24), key.ipadHex.slice(-40, -16)];
const TOKEN = 'pgw_keylog_writer_0123456789abcdefghijklmnopq';

let cluster: TestCluster;
let gw: E2eGateway | undefined;
let logDir: string;

function serverLog(): string {
  return readdirSync(logDir)
    .map((f) => readFileSync(path.join(logDir, f), 'utf8'))
    .join('\n');
}

async function gateway(url: string): Promise<E2eGateway> {
  return startE2eGateway({
    configInput: (auditPath) => ({
      server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 100_000, per_ip: 100_000 } },
      log: { level: 'warn' },
      audit: { sink: 'file', path: auditPath, fsync: 'never' },
      masking: { hash_key: HASH_KEY },
      databases: { shop: { url, search_path: ['app'] } },
      principals: { writer: { policy: 'writer', tokens: [{ token: TOKEN }] } },
      policies: {
        writer: {
          databases: {
            shop: {
              mode: 'read-write',
              schemas: ['app'],
              tables: { deny: ['internal.*'] },
              masks: { 'app.customers.ssn': { mask: 'hash' }, 'app.customers.email': { mask: 'hash', length: 12 } },
              writes: { confirm_above_rows: 1000, block_above_rows: 100_000 },
            },
          },
        },
      },
    }),
  });
}

/** Masked statements through the gateway: some fail on the server, some succeed. */
async function exercise(g: E2eGateway): Promise<void> {
  const client = await g.connect('modern', TOKEN);
  const failing = await callTool(client, 'query', { sql: 'SELECT ssn::int FROM app.customers' });
  expect(failing.isError).toBe(true);
  expect(failing.structured.sqlstate).toBe('22P02');
  const ok = await callTool(client, 'query', { sql: 'SELECT id, ssn, email FROM app.customers WHERE ssn IS NOT NULL ORDER BY id LIMIT 3' });
  expect(ok.isError, ok.text.slice(0, 300)).toBe(false);
  const plan = await callTool(client, 'explain', { sql: "SELECT count(*) FROM app.customers WHERE ssn = 'x'", analyze: true });
  expect(plan.isError, plan.text.slice(0, 300)).toBe(false);
  const describe = await callTool(client, 'describe', { table: 'app.customers' });
  expect(describe.isError).toBe(false);
  // a write that reads hashed values (run over the masked projection) and one that fails on the server
  const write = await callTool(client, 'execute', { sql: "UPDATE app.orders o SET status = 'paid' FROM app.customers c WHERE c.id = o.customer_id AND c.ssn = 'x' AND o.id < 5" });
  expect(write.isError, write.text.slice(0, 300)).toBe(false);
  const badWrite = await callTool(client, 'execute', { sql: "UPDATE app.orders o SET total_cents = c.ssn::int FROM app.customers c WHERE c.id = o.customer_id AND o.id < 5" });
  expect(badWrite.isError).toBe(true);
}

describe('the masking key is absent from the server log (issue #9 item 4)', () => {
  const unavailable = clusterUnavailable();
  beforeAll(async () => {
    if (unavailable !== undefined) return;
    cluster = await startCluster({ seed: true });
    logDir = mkdtempSync(path.join(tmpdir(), 'pgwarden-keylog-'));
    chmodSync(logDir, 0o777); // the server may run as another user (initdb refuses root)
    for (const sql of [
      'ALTER SYSTEM SET logging_collector = on',
      `ALTER SYSTEM SET log_directory = '${logDir}'`,
      "ALTER SYSTEM SET log_filename = 'postgresql.log'",
      "ALTER SYSTEM SET log_min_error_statement = 'error'",
    ]) {
      await adminQuery(cluster.adminUrl, sql);
    }
    await cluster.restart();
    const role = new URL(cluster.gatewayUrl as string).username;
    await adminQuery(
      cluster.databaseUrl as string,
      `GRANT CREATE ON DATABASE demo TO "${role}"; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO "${role}";
       GRANT USAGE ON ALL SEQUENCES IN SCHEMA app TO "${role}"`,
    );
  }, 180_000);

  afterAll(async () => {
    await gw?.stop();
    await cluster?.dispose();
    if (logDir !== undefined) rmSync(logDir, { recursive: true, force: true });
  });

  it('stock settings: failing masked statements are logged without the key', async (ctx) => {
    ctx.skip(unavailable !== undefined, unavailable);
    gw = await gateway(cluster.gatewayUrl as string);
    await exercise(gw);
    const log = serverLog();
    expect(log).toMatch(/STATEMENT: .*sha256/); // the rewritten text of the failing statement is there…
    for (const b of BLOCKS) expect(log).not.toContain(b); // …and the key is not
    await gw.stop();
    gw = undefined;
  }, 120_000);

  it('log_statement = all (with log_parameter_max_length = 0 for the login role, as documented): no key either', async (ctx) => {
    ctx.skip(unavailable !== undefined, unavailable);
    const role = new URL(cluster.gatewayUrl as string).username;
    await adminQuery(cluster.adminUrl, "ALTER SYSTEM SET log_statement = 'all'");
    await adminQuery(cluster.adminUrl, `ALTER ROLE "${role}" SET log_parameter_max_length = 0`);
    await adminQuery(cluster.adminUrl, 'SELECT pg_reload_conf()');
    gw = await gateway(cluster.gatewayUrl as string);
    await exercise(gw);
    const log = serverLog();
    expect(log).toMatch(/(statement|execute [^:]*): .*sha256/);
    for (const b of BLOCKS) expect(log).not.toContain(b);
    await gw.stop();
    gw = undefined;
  }, 120_000);

  it('why the role setting is documented: with log_statement = all and the default log_parameter_max_length, PostgreSQL logs bind values', async (ctx) => {
    ctx.skip(unavailable !== undefined, unavailable);
    const role = new URL(cluster.gatewayUrl as string).username;
    await adminQuery(cluster.adminUrl, `ALTER ROLE "${role}" RESET log_parameter_max_length`);
    const before = serverLog().length;
    gw = await gateway(cluster.gatewayUrl as string);
    await exercise(gw);
    const log = serverLog().slice(before);
    expect(log).toMatch(/[Pp]arameters: \$1 = /);
    expect(BLOCKS.some((b) => log.includes(b))).toBe(true);
  }, 120_000);
});
