/**
 * Checks the corpus fixtures against a real, seeded demo database (not a test: a maintenance script).
 *
 *   npx tsx test/corpus/verify-pg.ts postgres://postgres@127.0.0.1:55999/demo [--blocked-reads]
 *
 * - Every must-allow case must run: each is sent alone over the extended protocol (one statement
 *   only) inside BEGIN READ ONLY with the corpus search_path and a statement timeout, then rolled
 *   back. A must-allow case that fails in PostgreSQL is a broken fixture.
 * - With --blocked-reads, must-block cases of the read-shaped classes (denied relations, quoting,
 *   catalogs, views) are run the same way to show they are realistic: without the guard they would
 *   reach the data. Nothing that writes, sleeps or touches files is ever sent.
 * Exit code 1 when a must-allow case fails.
 */
import pg from 'pg';
import { loadCorpus, loadCorpusPolicy } from './index.js';
import type { CorpusCase } from './index.js';

const READ_SHAPED = new Set(['denied-relations', 'case-and-quoting', 'system-catalogs', 'views-and-user-functions']);
const NEVER_SEND = /pg_read|pg_ls|pg_stat_file|lo_|dblink|sleep|terminate|cancel|copy|set_config|nextval|setval|notify|advisory|_to_xml|ts_stat|lookup_key/i;

async function runOne(client: pg.Client, c: CorpusCase, searchPath: readonly string[]): Promise<string | undefined> {
  await client.query('BEGIN READ ONLY');
  try {
    await client.query(`SET LOCAL search_path = ${searchPath.map((s) => client.escapeIdentifier(s)).join(', ')}`);
    await client.query("SET LOCAL statement_timeout = '10s'");
    await client.query({ text: c.sql, queryMode: 'extended' } as pg.QueryConfig);
    return undefined;
  } catch (err) {
    const e = err as { code?: string; message?: string };
    return `${e.code ?? '?'} ${e.message ?? String(err)}`;
  } finally {
    await client.query('ROLLBACK');
  }
}

async function main(): Promise<void> {
  const dsn = process.argv[2];
  if (!dsn) throw new Error('usage: verify-pg.ts <postgres-dsn> [--blocked-reads]');
  const blockedReads = process.argv.includes('--blocked-reads');
  const { searchPath } = loadCorpusPolicy();
  const cases = loadCorpus();
  const client = new pg.Client({ connectionString: dsn });
  await client.connect();
  let failures = 0;
  let ran = 0;
  try {
    for (const c of cases.filter((x) => x.expect === 'allow')) {
      ran++;
      const err = await runOne(client, c, searchPath);
      if (err) {
        failures++;
        console.log(`FAIL ${c.id}: ${err}\n  ${c.sql.split('\n').join('\n  ')}`);
      }
    }
    console.log(`allow: ${ran - failures}/${ran} ran on PostgreSQL`);
    if (blockedReads) {
      let leaked = 0;
      let refused = 0;
      for (const c of cases.filter((x) => x.expect === 'block' && READ_SHAPED.has(x.class) && !NEVER_SEND.test(x.sql))) {
        const err = await runOne(client, c, searchPath);
        if (err) {
          refused++;
          console.log(`  refused by PostgreSQL itself: ${c.id}: ${err}`);
        } else leaked++;
      }
      console.log(`blocked reads: ${leaked} would reach data without the guard, ${refused} refused by PostgreSQL`);
    }
  } finally {
    await client.end();
  }
  if (failures > 0) process.exitCode = 1;
}

await main();
