/**
 * SIGHUP against a real `pgwarden serve` process (issue #14 items 1-3, issue #10 item 8, issue
 * #16 "reload logs changed keys"): a reload rebuilds every credential store and re-runs every
 * start-up validation or is refused as a whole; approvals and reverts are judged under the policy
 * and thresholds in force; every key the docs call reloadable applies, every other changed key is
 * named in a "needs restart" warning; the log names keys, never secret values.
 */
/* eslint-disable @typescript-eslint/no-explicit-any -- the config fixture is an untyped YAML document the tests mutate key by key */
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, codes, connectClient } from '../../support/gateway.js';
import { startServeProcess, type ServeProcess } from '../../support/serve-process.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';

const WRITER = 'pgw_reload_writer_0123456789abcdefghijklmnop';
const WRITER_NEW = 'pgw_reload_writer_new_0123456789abcdefghijkl';
const MASKED = 'pgw_reload_masked_0123456789abcdefghijklmnop';
const OPS = 'pgw_reload_ops_0123456789abcdefghijklmnopqrs';
const OPS2 = 'pgw_reload_ops2_0123456789abcdefghijklmnopqr';
const HASH_KEY = 'reload-hash-key-0123456789abcdef';

let w: WriteTestDb;
let gw: ServeProcess;
let cfg: Record<string, any>;

function baseConfig(url: string): Record<string, any> {
  return {
    server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 100_000, per_ip: 100_000 } },
    log: { level: 'info' },
    audit: { sink: 'none' },
    masking: { hash_key: HASH_KEY },
    guard: {},
    journal: {},
    databases: { shop: { url, search_path: ['app'], limits: {} } },
    principals: {
      writer: { policy: 'writer', tokens: [{ token: WRITER }] },
      masked: { policy: 'masked', tokens: [{ token: MASKED }] },
    },
    operators: { ops: { tokens: [{ token: OPS }] }, ops2: { tokens: [{ token: OPS2 }] } },
    policies: {
      writer: {
        databases: {
          shop: {
            mode: 'read-write',
            schemas: ['app'],
            tables: { deny: ['internal.*'] },
            functions: { allow: ['pg_sleep'] },
            writes: { confirm_above_rows: 5, block_above_rows: 100 },
          },
        },
      },
      masked: { databases: { shop: { mode: 'read-only', schemas: ['app'], masks: { 'app.customers.full_name': { mask: 'hash' } } } } },
    },
  };
}

const writerPolicy = (): Record<string, any> => cfg.policies.writer.databases.shop;
const reload = () => gw.reload(stringify(cfg));

const clients: Client[] = [];
async function client(token = WRITER): Promise<Client> {
  const c = await connectClient(new URL(`${gw.url}/mcp`), 'legacy', token);
  clients.push(c);
  return c;
}

async function admin(method: 'GET' | 'POST', path: string, token: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${gw.url}/admin${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(method === 'POST' ? { 'content-type': 'application/json' } : {}) },
    ...(method === 'POST' ? { body: '{}' } : {}),
  });
  return { status: res.status, body: await res.json().catch(() => ({})) };
}

const ticket = async (id: number): Promise<Record<string, unknown> | undefined> =>
  (await w.admin<Record<string, unknown>>('SELECT id, priority, subject FROM app.support_tickets WHERE id = $1', [id]))[0];

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  cfg = baseConfig(w.scratch.gatewayUrl);
  gw = await startServeProcess(stringify(cfg), { PGWARDEN_LOG_LEVEL: 'info' });
  // the journal schema is created in the background: wait until a write works
  const c = await client();
  for (let i = 0; i < 100; i++) {
    const out = await callTool(c, 'check', { sql: 'SELECT 1' });
    if (!out.isError) break;
    await new Promise((r) => setTimeout(r, 100));
  }
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  await gw?.stop();
  await w?.end();
});

/** Reset the file to the start-up configuration (each test starts from it). */
async function resetConfig(): Promise<void> {
  cfg = baseConfig(w.scratch.gatewayUrl);
  const { outcome } = await reload();
  expect(outcome.msg).toBe('configuration reloaded');
}

describe('credential stores (issue #14 item 1)', () => {
  it('a removed operator is refused at once and cannot approve a held write', async () => {
    await resetConfig();
    const c = await client();
    const held = await callTool(c, 'execute', { sql: "UPDATE app.support_tickets SET subject = 'ops2' WHERE id BETWEEN 40 AND 49" });
    expect(held.structured.decision).toBe('hold');
    expect((await admin('GET', '/approvals', OPS2)).status).toBe(200);

    delete cfg.operators.ops2;
    const { outcome } = await reload();
    expect(outcome.msg).toBe('configuration reloaded');
    expect(outcome.changed).toEqual(['operators.ops2']);

    expect((await admin('GET', '/approvals', OPS2)).status).toBe(401);
    expect((await admin('POST', `/approvals/${held.structured.approvalId as string}/approve`, OPS2)).status).toBe(401);
    expect((await ticket(40))?.subject).not.toBe('ops2');
    // the remaining operator still works
    expect((await admin('GET', '/approvals', OPS)).status).toBe(200);
    expect((await admin('POST', `/approvals/${held.structured.approvalId as string}/reject`, OPS)).status).toBe(200);
  });

  it('a reload that gives an agent an operator token is refused as a whole; the running stores stay', async () => {
    await resetConfig();
    cfg.principals.writer.tokens = [{ token: WRITER }, { token: OPS }];
    cfg.principals.masked.tokens = [{ token: `${MASKED}x` }]; // would revoke MASKED if applied
    const { outcome } = await reload();
    expect(outcome.msg).toBe('configuration reload refused; the running configuration stays');
    expect(JSON.stringify(outcome.problems)).toMatch(/operators\.ops: .*distinct/);
    expect(gw.stderr()).not.toContain(OPS);
    // nothing of the file applied: OPS is not an agent token, MASKED still is
    const res = await fetch(`${gw.url}/mcp`, {
      method: 'POST',
      headers: { authorization: `Bearer ${OPS}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list' }),
    });
    expect(res.status).toBe(401);
    const masked = await client(MASKED);
    expect((await callTool(masked, 'query', { sql: 'SELECT 1 AS one' })).isError).toBe(false);
  });

  it('agent tokens rotate: the removed one is refused from the next request', async () => {
    await resetConfig();
    cfg.principals.writer.tokens = [{ token: WRITER_NEW }];
    expect((await reload()).outcome.changed).toEqual(['principals.writer.tokens']);
    await expect(client(WRITER)).rejects.toThrow();
    const c = await client(WRITER_NEW);
    expect((await callTool(c, 'query', { sql: 'SELECT 1 AS one' })).isError).toBe(false);
  });
});

describe('approvals and reverts under the policy in force (issue #14 items 2, 3)', () => {
  it('approving a 10-row hold after block_above_rows was lowered to 8 refuses it; nothing runs', async () => {
    await resetConfig();
    const c = await client();
    const before = await ticket(50);
    const held = await callTool(c, 'execute', { sql: "UPDATE app.support_tickets SET subject = 'too many' WHERE id BETWEEN 50 AND 59" });
    expect(held.structured).toMatchObject({ decision: 'hold', blastRadius: { rows: 10 } });
    writerPolicy().writes.block_above_rows = 8;
    const { outcome } = await reload();
    expect(outcome.changed).toEqual(['policies.writer.databases.shop.writes.block_above_rows']);
    const res = await admin('POST', `/approvals/${held.structured.approvalId as string}/approve`, OPS);
    expect(res.status).toBe(409);
    expect(JSON.stringify(res.body)).toContain('APPROVAL_RECHECK_FAILED');
    expect(JSON.stringify(res.body)).toContain('BLAST_RADIUS_EXCEEDED');
    expect(await ticket(50)).toEqual(before);
  });

  it('a revert, and the revert of a revert, are refused once the table is no longer writable', async () => {
    await resetConfig();
    const c = await client();
    const out = await callTool(c, 'execute', { sql: "UPDATE app.support_tickets SET priority = 'urgent' WHERE id = 61" });
    expect(out.structured.decision).toBe('executed');
    const reverted = await callTool(c, 'revert', { undoId: out.structured.undoId });
    expect(reverted.structured.decision).toBe('reverted');
    const revertOfRevert = reverted.structured.revertUndoId as string;
    const second = await callTool(c, 'execute', { sql: "UPDATE app.support_tickets SET priority = 'low' WHERE id = 62" });

    writerPolicy().writes.tables = { deny: ['app.support_tickets'] };
    await reload();
    const r1 = await callTool(c, 'revert', { undoId: second.structured.undoId });
    expect(r1.isError).toBe(true);
    expect(codes(r1)).toContain('WRITE_TABLE_NOT_ALLOWED');
    expect((await ticket(62))?.priority).toBe('low');
    const r2 = await callTool(c, 'revert', { undoId: revertOfRevert });
    expect(codes(r2)).toContain('WRITE_TABLE_NOT_ALLOWED');

    // denied for reads as well: DENIED_TABLE, and still nothing reverted
    writerPolicy().writes.tables = {};
    writerPolicy().tables.deny = ['internal.*', 'app.support_tickets'];
    await reload();
    const r3 = await callTool(c, 'revert', { undoId: second.structured.undoId });
    expect(codes(r3)).toContain('DENIED_TABLE');
    expect((await ticket(62))?.priority).toBe('low');

    // kinds and thresholds in force apply too
    writerPolicy().tables.deny = ['internal.*'];
    writerPolicy().writes.kinds = ['insert', 'delete'];
    await reload();
    expect(codes(await callTool(c, 'revert', { undoId: second.structured.undoId }))).toContain('WRITE_KIND_NOT_ALLOWED');
    writerPolicy().writes.kinds = ['insert', 'update', 'delete'];
    writerPolicy().writes.confirm_above_rows = 0;
    await reload();
    expect(codes(await callTool(c, 'revert', { undoId: second.structured.undoId }))).toContain('REVERT_NEEDS_OPERATOR');
    writerPolicy().writes.confirm_above_rows = 5;
    await reload();
    expect((await callTool(c, 'revert', { undoId: second.structured.undoId })).structured.decision).toBe('reverted');
  });
});

describe('every reloadable key applies (issue #10 item 8)', () => {
  const status = async (c: Client): Promise<Record<string, any>> => ((await callTool(c, 'status')).structured.databases as Record<string, any>[])[0] as Record<string, any>;

  it.each([
    ['max_rows', 3],
    ['max_bytes', 2048],
    ['statement_timeout_ms', 1234],
    ['lock_timeout_ms', 567],
    ['idle_in_transaction_timeout_ms', 8910],
  ])('databases.<db>.limits.%s applies to the next call', async (key, value) => {
    await resetConfig();
    const c = await client();
    expect((await status(c)).limits[key]).not.toBe(value);
    cfg.databases.shop.limits = { [key]: value };
    const { outcome, warning } = await reload();
    expect(outcome.changed).toEqual([`databases.shop.limits.${key}`]);
    expect(warning).toBeUndefined();
    expect((await status(c)).limits[key]).toBe(value);
  });

  it('the limits reach execution: max_rows, max_bytes and statement_timeout_ms', async () => {
    await resetConfig();
    const c = await client();
    cfg.databases.shop.limits = { max_rows: 3, max_bytes: 300, statement_timeout_ms: 200 };
    await reload();
    const rows = await callTool(c, 'query', { sql: 'SELECT id FROM app.customers ORDER BY id' });
    expect(rows.structured).toMatchObject({ rowCount: 3, truncated: true });
    const bytes = await callTool(c, 'query', { sql: 'SELECT repeat(\'x\', 200) AS s FROM app.customers' });
    expect(bytes.structured.truncatedBy).toBe('bytes');
    const slow = await callTool(c, 'query', { sql: 'SELECT pg_sleep(2)' });
    expect(codes(slow)).toContain('STATEMENT_TIMEOUT');
  });

  it('databases.<db>.description, guard.*, masking.hash_key and log.level apply', async () => {
    await resetConfig();
    const c = await client();
    const masked = await client(MASKED);
    const hashed = async (): Promise<unknown> => ((await callTool(masked, 'query', { sql: 'SELECT full_name FROM app.customers WHERE id = 1' })).structured.rows as unknown[][])[0]?.[0];
    const hashBefore = await hashed();

    cfg.databases.shop.description = 'the shop, reloaded';
    cfg.guard = { max_statement_bytes: 200, max_ast_nodes: 60, decision_cache_size: 5, catalog_ttl_ms: 1000 };
    cfg.masking.hash_key = 'another-hash-key-0123456789abcdef';
    const { outcome, warning } = await reload();
    expect(warning).toBeUndefined();
    expect([...(outcome.changed as string[])].sort()).toEqual([
      'databases.shop.description',
      'guard.catalog_ttl_ms',
      'guard.decision_cache_size',
      'guard.max_ast_nodes',
      'guard.max_statement_bytes',
      'masking.hash_key',
    ]);
    expect((await status(c)).description).toBe('the shop, reloaded');
    expect(codes(await callTool(c, 'query', { sql: `SELECT 1 AS one -- ${'x'.repeat(250)}` }))).toContain('STATEMENT_TOO_LARGE');
    const wide = `SELECT ${Array.from({ length: 20 }, (_, i) => `${i} + ${i}`).join(', ')}`;
    expect(codes(await callTool(c, 'query', { sql: wide }))).toContain('STATEMENT_TOO_COMPLEX');
    const hashAfter = await hashed();
    expect(hashAfter).not.toEqual(hashBefore);
    expect(typeof hashAfter).toBe('string');

    // log.level: at error, the next reload's info line is not written, a refusal (error) is
    cfg.log.level = 'error';
    const seen = gw.logs().length;
    writeFileSync(gw.file, stringify(cfg));
    gw.child.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 1500));
    expect(gw.logs().slice(seen).filter((l) => l.msg === 'configuration reloaded')).toEqual([]);
    const refused = await gw.reload('principals: [not valid\n');
    expect(refused.outcome.msg).toMatch(/refused/);
    cfg.log.level = 'info';
    expect((await reload()).outcome.msg).toBe('configuration reloaded');
  }, 60_000);

  it('keys that need a restart are each named in a warning; no value of a secret is logged', async () => {
    await resetConfig();
    cfg.server.rate_limit.per_ip = 99_999;
    cfg.databases.shop.pool = { max: 3 };
    cfg.databases.shop.url = `${w.scratch.gatewayUrl}?application_name=changed`;
    cfg.audit.include_raw_sql = true;
    cfg.journal.retention_days = 7;
    cfg.databases.extra = { url: 'postgres://someone:Extra5ecretPw@127.0.0.1:1/none' };
    cfg.principals.writer.tokens = [{ token: WRITER }, { token: WRITER_NEW }];
    const { outcome, warning } = await reload();
    expect(outcome.msg).toBe('configuration reloaded');
    expect(outcome.changed).toEqual(['principals.writer.tokens']);
    expect([...((warning?.keys as string[]) ?? [])].sort()).toEqual([
      'audit.include_raw_sql',
      'databases.extra',
      'databases.shop.pool.max',
      'databases.shop.url',
      'journal.retention_days',
      'server.rate_limit.per_ip',
    ]);
    const log = gw.stderr();
    for (const secret of [WRITER, WRITER_NEW, OPS, OPS2, MASKED, HASH_KEY, 'Extra5ecretPw', w.scratch.gatewayUrl]) expect(log).not.toContain(secret);
    // the running values stayed: the new token works (applied), the pool still serves
    const c = await client(WRITER_NEW);
    expect((await callTool(c, 'query', { sql: 'SELECT 1 AS one' })).isError).toBe(false);
  });
});
