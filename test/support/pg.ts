/**
 * Typed access, from tests, to the PostgreSQL the global setup started (test/support/global-setup.ts).
 *
 * `testDatabase()` returns DSNs for a seeded demo database that is shared by the whole run:
 * treat it as read-only. Tests that write, or need a pristine copy, call
 * `createScratchDatabase()` (test/support/postgres.ts); tests that stop or restart a server call
 * `startCluster()`.
 */
import { inject } from 'vitest';

export type TestPgMode = 'embedded' | 'binary' | 'external';

export interface TestPg {
  mode: TestPgMode;
  /** Superuser (or the external admin) DSN to the maintenance database. */
  adminUrl: string;
  /** The seeded demo database, admin rights. */
  databaseUrl: string;
  /** The seeded demo database as the gateway's least-privilege login role. */
  gatewayUrl: string;
  databaseName: string;
  /** A seeded, connection-less template to clone scratch databases from. */
  templateName: string;
  gatewayRole: string;
  /** Password of gatewayRole (test-only secret; also inside gatewayUrl). */
  gatewayPassword: string;
  /** NOLOGIN role that reads schema app only (for SET LOCAL ROLE). */
  readerRole: string;
  /** SHOW server_version, e.g. "15.18 (Debian …)" or "18.4". */
  serverVersion: string;
  /** server_version_num, e.g. 150018. */
  serverVersionNum: number;
  /** PGWARDEN_TEST_PG_BIN in binary mode. */
  binDir?: string;
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgwardenPg: TestPg;
  }
}

export function testDatabase(): TestPg {
  const pg = inject('pgwardenPg');
  if (pg === undefined) {
    throw new Error('No test PostgreSQL: run the suite with vitest.config.ts (globalSetup test/support/global-setup.ts).');
  }
  return pg;
}
