/**
 * Helpers for tests that need more than the shared, read-only demo database.
 *
 * - createScratchDatabase(): a private, seeded copy of the demo database on the shared server
 *   (cloned from the template, ~tens of ms); drop() it in afterAll.
 * - startCluster(): a server of its own that the test may stop, start and restart. Unavailable
 *   against an external server (PGWARDEN_TEST_DATABASE_URL): use `clusterUnavailable()` with
 *   `it.skipIf`/`ctx.skip` so the skip is visible with its reason.
 */
import { cloneDatabase, dropDatabase, seedTemplate, startPrivateServer, uniqueSuffix, urlWithDatabase, type ClonedDatabase } from './cluster.js';
import { seedDemo, type PostgresServer } from '../../src/demo/embedded.js';
import { testDatabase } from './pg.js';

export { testDatabase } from './pg.js';
export type { TestPg } from './pg.js';

export interface ScratchDatabase extends ClonedDatabase {
  drop(): Promise<void>;
}

export async function createScratchDatabase(): Promise<ScratchDatabase> {
  const t = testDatabase();
  const name = `${t.databaseName}_s_${uniqueSuffix()}`;
  const template = { templateName: t.templateName, gatewayRole: t.gatewayRole, readerRole: t.readerRole, gatewayPassword: t.gatewayPassword };
  const db = await cloneDatabase(t.adminUrl, template, name);
  return { ...db, drop: () => dropDatabase(t.adminUrl, name) };
}

/** Why startCluster() cannot run here, or undefined when it can. */
export function clusterUnavailable(): string | undefined {
  const t = testDatabase();
  return t.mode === 'external' ? 'needs a private PostgreSQL server; not available with PGWARDEN_TEST_DATABASE_URL' : undefined;
}

export interface TestCluster {
  server: PostgresServer;
  adminUrl: string;
  /** Present when started with seed: true (the demo schema, database "demo"). */
  databaseUrl?: string;
  gatewayUrl?: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stop and remove the data directory. */
  dispose(): Promise<void>;
}

/** A private server of the same kind as the run's (embedded or the machine's binaries). */
export async function startCluster(options: { seed?: boolean } = {}): Promise<TestCluster> {
  const t = testDatabase();
  const reason = clusterUnavailable();
  if (reason !== undefined) throw new Error(`startCluster(): ${reason}`);
  const mode = t.mode === 'binary' ? 'binary' : 'embedded';
  const priv = await startPrivateServer({ mode, ...(t.binDir !== undefined ? { binDir: t.binDir } : {}) });
  const server = priv.server;
  const cluster: TestCluster = {
    server,
    adminUrl: server.adminUrl,
    stop: () => server.stop(),
    start: () => server.start(),
    restart: () => server.restart(),
    dispose: () => priv.dispose(),
  };
  if (options.seed === true) {
    try {
      const seeded = await seedDemo(server.adminUrl, 'demo');
      cluster.databaseUrl = seeded.databaseUrl;
      cluster.gatewayUrl = seeded.gatewayUrl;
    } catch (err) {
      await priv.dispose();
      throw err;
    }
  }
  return cluster;
}

// Kept for tests that build their own URLs.
export { urlWithDatabase, seedTemplate };
