/**
 * The fuzz world: the databases and gateways the properties run against (docs/testing.md).
 *
 * From the demo template plus test/fuzz/extras.sql it clones, on one PostgreSQL server:
 * - A and B, twins that differ only in what the fuzz policy hides (test/fuzz/twin-b.sql: masked
 *   values, rows and names in denied tables and the hidden schema `vault`, a secret setting);
 * - WA and WB, the same twins for writes (the `execute` tool changes them; every executed write
 *   is reverted through the gateway, and the twins are rebuilt if a revert fails);
 * - M, a copy of A whose masked columns already hold their masked values (fidelity).
 * Two gateways (real runtime, real HTTP, real MCP client) serve A+WA and B+WB under one
 * configuration that differs only in the DSNs.
 * Does not: start the PostgreSQL server (the caller hands over an admin DSN and the template).
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Client } from '@modelcontextprotocol/client';
import pg from 'pg';
import pino from 'pino';
import { startHttp, type RunningHttp } from '../../src/cli/serve.js';
import { createRuntime } from '../../src/app/runtime.js';
import { cloneDatabase, dropDatabase, withClient, type SeededTemplate } from '../support/cluster.js';
import { buildConfig, callTool, connectClient } from '../support/gateway.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const id = pg.escapeIdentifier;

export const TOKENS = {
  analyst: 'pgw_fuzz_analyst_0123456789abcdefghijklmnopqrs',
  writer: 'pgw_fuzz_writer_0123456789abcdefghijklmnopqrst',
  probe: 'pgw_fuzz_probe_0123456789abcdefghijklmnopqrstu',
} as const;

/** Masks of the fuzz policy: each hides the raw value entirely (no hash: a keyed hash declassifies equality by design). */
export const FUZZ_MASKS: Record<string, Record<string, unknown>> = {
  'app.customers.email': { mask: 'email' },
  'app.customers.phone': { mask: 'partial', keep_last: 4 },
  'app.customers.ssn': { mask: 'redact' },
  'app.orders.shipping_address': { mask: 'null' },
  'app.newsletter.email': { mask: 'email' },
};

/** Custom settings a deployment would use for secrets: other values in each twin. */
export const SECRET_SETTINGS = { 'app.jwt_secret': ['jwt-secret-AAAA-1111', 'jwt-secret-BBBB-2222'] } as const;

export const MAX_ROWS = 200;

export interface Twin {
  name: 'A' | 'B';
  running: RunningHttp;
  analyst: Client;
  writer: Client;
  probe: Client;
  readUrl: string;
  writeUrl: string;
  writeDb: string;
  stop(): Promise<void>;
}

export interface World {
  adminUrl: string;
  /** Admin DSN of twin A's read database (side-effect snapshots). */
  readAdminUrl: string;
  a: Twin;
  b: Twin;
  /** Admin DSN of the masked copy M, and its gateway-role DSN. */
  maskedUrl: string;
  maskedGatewayUrl: string;
  /** Rebuild WA and WB from the base (after a write that could not be reverted). */
  resetWrites(): Promise<void>;
  close(): Promise<void>;
}

function policyDb(extra: Record<string, unknown>): Record<string, unknown> {
  return {
    mode: 'read-only',
    schemas: ['app'],
    tables: { deny: ['internal.*'] },
    functions: { mode: 'denylist' },
    catalogs: false,
    views: true,
    limits: { max_rows: MAX_ROWS, statement_timeout_ms: 5000 },
    masks: FUZZ_MASKS,
    ...extra,
  };
}

function configInput(readUrl: string, writeUrl: string, auditPath: string): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 1_000_000, per_ip: 1_000_000 } },
    log: { level: 'fatal' },
    audit: { sink: 'file', path: auditPath, fsync: 'never' },
    databases: {
      demo: { url: readUrl, search_path: ['app', 'public'], pool: { max: 1 } },
      w: { url: writeUrl, search_path: ['app', 'public'], pool: { max: 2 } },
    },
    principals: {
      analyst: { policy: 'analyst', tokens: [{ id: 'fuzz-analyst', token: TOKENS.analyst }] },
      writer: { policy: 'writer', tokens: [{ id: 'fuzz-writer', token: TOKENS.writer }] },
      probe: { policy: 'probe', tokens: [{ id: 'fuzz-probe', token: TOKENS.probe }] },
    },
    policies: {
      analyst: { databases: { demo: policyDb({}) } },
      writer: {
        databases: {
          w: policyDb({
            mode: 'read-write',
            writes: { kinds: ['insert', 'update', 'delete'], confirm_above_rows: 20, block_above_rows: 10_000, uncountable: 'hold' },
          }),
        },
      },
      // Reads the pooled session's own state (side-effect property): the same pool as analyst.
      probe: { databases: { demo: policyDb({ catalogs: true, masks: {}, functions: { mode: 'denylist', allow: ['pg_listening_channels'] } }) } },
    },
  };
}

async function sqlOn(url: string, sql: string): Promise<void> {
  await withClient(url, async (c) => {
    await c.query(sql);
  });
}

function urlFor(adminUrl: string, database: string): string {
  const u = new URL(adminUrl);
  u.pathname = '/' + encodeURIComponent(database);
  return u.toString();
}

/** The base: the demo template + extras, grants, the same CLUSTER/ANALYZE as every twin. */
async function createBase(adminUrl: string, template: SeededTemplate, name: string): Promise<SeededTemplate> {
  await dropDatabase(adminUrl, name);
  const base = await cloneDatabase(adminUrl, template, name);
  await sqlOn(base.databaseUrl, readFileSync(join(HERE, 'extras.sql'), 'utf8'));
  await sqlOn(base.databaseUrl, readFileSync(join(HERE, 'extensions.sql'), 'utf8'));
  const g = id(template.gatewayRole);
  await sqlOn(
    base.databaseUrl,
    `GRANT USAGE ON SCHEMA app, internal, vault TO ${g};
     GRANT SELECT ON ALL TABLES IN SCHEMA app, internal, vault TO ${g};
     GRANT SELECT ON ALL TABLES IN SCHEMA app TO ${id(template.readerRole)};`,
  );
  await withClient(adminUrl, (c) => c.query(`ALTER DATABASE ${id(name)} WITH ALLOW_CONNECTIONS false`));
  return { ...template, templateName: name };
}

/** Same physical layout in both twins: rows in key order, fresh statistics. */
const SETTLE = [
  'CLUSTER app.customers USING customers_pkey; CLUSTER app.orders USING orders_pkey; CLUSTER app.newsletter USING newsletter_pkey; CLUSTER internal.api_keys USING api_keys_pkey; CLUSTER internal.staff_notes USING staff_notes_pkey',
  'VACUUM ANALYZE',
];

async function makeTwin(adminUrl: string, base: SeededTemplate, dbName: string, variant: 0 | 1, write: boolean): Promise<string> {
  await dropDatabase(adminUrl, dbName);
  const db = await cloneDatabase(adminUrl, base, dbName);
  if (write) await sqlOn(db.databaseUrl, 'DROP EXTENSION citext, pg_trgm, hstore CASCADE');
  if (variant === 1) await sqlOn(db.databaseUrl, readFileSync(join(HERE, 'twin-b.sql'), 'utf8'));
  for (const [key, values] of Object.entries(SECRET_SETTINGS)) {
    await sqlOn(adminUrl, `ALTER DATABASE ${id(dbName)} SET ${key} = ${pg.escapeLiteral(values[variant])}`);
  }
  if (write) {
    const g = id(base.gatewayRole);
    await sqlOn(
      db.databaseUrl,
      `GRANT CREATE ON DATABASE ${id(dbName)} TO ${g};
       GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA app TO ${g};
       GRANT USAGE ON ALL SEQUENCES IN SCHEMA app TO ${g};`,
    );
  }
  for (const step of SETTLE) await sqlOn(db.databaseUrl, step);
  return db.gatewayUrl;
}

async function startTwin(name: 'A' | 'B', readUrl: string, writeUrl: string, writeDb: string): Promise<Twin> {
  const dir = mkdtempSync(join(tmpdir(), 'pgwarden-fuzz-'));
  const config = buildConfig(configInput(readUrl, writeUrl, join(dir, 'audit.ndjson')));
  const logger = pino({ level: 'fatal' });
  const runtime = await createRuntime(config, logger);
  const running = await startHttp(runtime, config, logger);
  const mcpUrl = new URL(`${running.url}/mcp`);
  const [analyst, writer, probe] = await Promise.all([connectClient(mcpUrl, 'legacy', TOKENS.analyst), connectClient(mcpUrl, 'legacy', TOKENS.writer), connectClient(mcpUrl, 'legacy', TOKENS.probe)]);
  const stop = async (): Promise<void> => {
    await Promise.all([analyst, writer, probe].map((c) => c.close().catch(() => undefined)));
    await running.stop('test');
    rmSync(dir, { recursive: true, force: true });
  };
  return { name, running, stop, analyst, writer, probe, readUrl, writeUrl, writeDb };
}

/** Copy the masked values (as gateway A shows them) into M's masked columns. */
async function maskCopy(a: Twin, maskedUrl: string): Promise<void> {
  await withClient(maskedUrl, async (c) => {
    // constraints over masked columns would reject the (colliding) masked values
    const cons = await c.query<{ sql: string }>(
      `SELECT format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I CASCADE', conrelid::regclass, conname) AS sql FROM pg_constraint
        WHERE contype IN ('u','f') AND (conrelid = 'app.customers'::regclass AND conkey @> ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'app.customers'::regclass AND attname = 'email')]
          OR conrelid = 'app.newsletter'::regclass AND contype = 'f') ORDER BY contype DESC`,
    );
    for (const r of cons.rows) await c.query(r.sql);
    const byTable = new Map<string, string[]>();
    for (const key of Object.keys(FUZZ_MASKS)) {
      const [s, t, col] = key.split('.') as [string, string, string];
      byTable.set(`${s}.${t}`, [...(byTable.get(`${s}.${t}`) ?? []), col]);
    }
    for (const [table, cols] of byTable) {
      const rows: unknown[][] = [];
      for (let offset = 0; ; offset += MAX_ROWS) {
        const res = await callTool(a.analyst, 'query', { sql: `SELECT id, ${cols.join(', ')} FROM ${table} ORDER BY id LIMIT ${MAX_ROWS} OFFSET ${offset}` });
        if (res.isError) throw new Error(`fuzz world: reading masked ${table} failed: ${res.text}`);
        const got = res.structured.rows as unknown[][];
        rows.push(...got);
        if (got.length < MAX_ROWS) break;
      }
      await c.query('BEGIN');
      await c.query(`ALTER TABLE ${table} DISABLE TRIGGER USER`);
      for (const row of rows) {
        const sets = cols.map((col, i) => `${id(col)} = $${i + 2}`).join(', ');
        await c.query(`UPDATE ${table} SET ${sets} WHERE id = $1`, row);
      }
      await c.query(`ALTER TABLE ${table} ENABLE TRIGGER USER`);
      await c.query('COMMIT');
    }
    for (const step of SETTLE) await c.query(step);
  });
}

export async function createWorld(adminUrl: string, template: SeededTemplate, prefix: string): Promise<World> {
  const base = await createBase(adminUrl, template, `${prefix}_base`);
  const names = { a: `${prefix}_a`, b: `${prefix}_b`, wa: `${prefix}_wa`, wb: `${prefix}_wb`, m: `${prefix}_m` };
  const [aUrl, bUrl, waUrl, wbUrl] = [
    await makeTwin(adminUrl, base, names.a, 0, false),
    await makeTwin(adminUrl, base, names.b, 1, false),
    await makeTwin(adminUrl, base, names.wa, 0, true),
    await makeTwin(adminUrl, base, names.wb, 1, true),
  ];
  const mGateway = await makeTwin(adminUrl, base, names.m, 0, false);
  const a = await startTwin('A', aUrl, waUrl, names.wa);
  const b = await startTwin('B', bUrl, wbUrl, names.wb);
  const maskedUrl = urlFor(adminUrl, names.m);
  await maskCopy(a, maskedUrl);
  return {
    adminUrl,
    readAdminUrl: urlFor(adminUrl, names.a),
    a,
    b,
    maskedUrl,
    maskedGatewayUrl: mGateway,
    async resetWrites() {
      await makeTwin(adminUrl, base, names.wa, 0, true);
      await makeTwin(adminUrl, base, names.wb, 1, true);
    },
    async close() {
      await Promise.all([a.stop(), b.stop()]);
      for (const n of [...Object.values(names), `${prefix}_base`]) await dropDatabase(adminUrl, n).catch(() => undefined);
    },
  };
}
