/**
 * The read path behind a real transaction-pooling proxy: PgBouncer in transaction mode without
 * prepared-statement tracking (max_prepared_statements 0, the default before 1.21), two gateway
 * pools (two replicas) sharing one server connection. The final review of the statement cache found
 * that per-connection counter names (pgwarden_s1 on every connection) made a principal's Bind reach
 * the other principal's statement there (7 of 12 reads answered with the other's secret) and
 * 42P05 errors; statement names are now digests of owner and text, closed before their first Parse
 * (SECURITY.md, layer 4, the statement cache (f)). Needs /usr/sbin/pgbouncer (.ci/run installs it);
 * skipped, with the reason, where it is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DatabasePool } from '../../../src/db/pool.js';
import { findFreePort, postgresRunAs } from '../../../src/demo/process.js';
import type { ReadOptions } from '../../../src/shared/reads.js';
import { testDatabase } from '../../support/pg.js';
import { limits, poolFor } from './helpers.js';

const PGBOUNCER = '/usr/sbin/pgbouncer';
const missing = existsSync(PGBOUNCER) ? undefined : `${PGBOUNCER} is not installed (apt-get install pgbouncer)`;
const t = testDatabase();
const base = (value: string): Omit<ReadOptions, 'sql'> => ({ limits: limits(), searchPath: ['app'], principal: { setting: 'pgwarden.principal', value } });

async function listening(port: number, deadline: number): Promise<void> {
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.end();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error('pgbouncer did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(missing !== undefined)(`statement cache behind PgBouncer in transaction mode${missing !== undefined ? ` (skipped: ${missing})` : ''}`, () => {
  let dir: string;
  let bouncer: ChildProcess;
  let url: string;
  beforeAll(async () => {
    const u = new URL(t.gatewayUrl);
    const port = await findFreePort();
    dir = await mkdtemp(join(tmpdir(), 'pgwarden-pgbouncer-'));
    const ini = join(dir, 'pgbouncer.ini');
    // One server connection for everyone: every pipeline of both pools meets the other's statements.
    await writeFile(
      ini,
      [
        '[databases]',
        `shop = host=${u.hostname} port=${u.port} dbname=${u.pathname.slice(1)} user=${decodeURIComponent(u.username)} password=${decodeURIComponent(u.password)} pool_size=1`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${port}`,
        'unix_socket_dir =',
        'auth_type = any',
        'pool_mode = transaction',
        'ignore_startup_parameters = options,extra_float_digits,application_name',
        `logfile = ${join(dir, 'pgbouncer.log')}`,
        '',
      ].join('\n'),
    );
    const runAs = postgresRunAs(); // pgbouncer refuses to run as root, like postgres
    if (runAs !== undefined) {
      await chown(dir, runAs.uid, runAs.gid);
      await chown(ini, runAs.uid, runAs.gid);
    }
    await chmod(dir, 0o700);
    bouncer = spawn(PGBOUNCER, [ini], { stdio: 'ignore', ...(runAs !== undefined ? { uid: runAs.uid, gid: runAs.gid } : {}) });
    await listening(port, Date.now() + 10_000);
    url = `postgres://${u.username}@127.0.0.1:${port}/shop`;
  });
  afterAll(async () => {
    bouncer?.kill('SIGINT');
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("two replicas' principals each read their own statement, never the other's, with no errors", async () => {
    const replicas: DatabasePool[] = [poolFor(url, { pool: { max: 1 } }), poolFor(url, { pool: { max: 1 } })];
    const answers: string[] = [];
    const read = async (pool: DatabasePool, who: string, k: number): Promise<void> => {
      const want = `${who}-secret-${k}`;
      try {
        const got = String((await pool.runRead({ ...base(who), sql: `SELECT '${want}'::text AS v` })).rows[0]?.[0]);
        if (got !== want) answers.push(`${who} asked for ${want}, got ${got}`);
      } catch (err) {
        answers.push(`${who}: ${(err as Error).message}`);
      }
    };
    try {
      for (let i = 0; i < 60; i++) {
        if (i % 2 === 0) await Promise.all([read(replicas[0] as DatabasePool, 'alice', i % 3), read(replicas[1] as DatabasePool, 'bob', (i + 1) % 3)]);
        else {
          await read(replicas[0] as DatabasePool, 'alice', i % 3);
          await read(replicas[1] as DatabasePool, 'bob', i % 3);
        }
      }
    } finally {
      await Promise.all(replicas.map((p) => p.end()));
    }
    expect(answers).toEqual([]);
  });
});
