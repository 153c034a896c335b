#!/usr/bin/env node
/**
 * The production bundle (issue #13, start-up): `npm run build` runs tsc (dist/, the module tree the
 * benches and tools import), then this script, which bundles the command line with esbuild into
 * dist/cli/: main.js (the `pgwarden` bin, replacing tsc's main.js), worker.js (the judging worker,
 * src/judge/worker.ts: pool.ts finds it next to itself as ./worker.js) and shared chunk-*.js files
 * (code splitting: a start loads only the chunks its command imports — `--version` a few KB, a stdio
 * start no HTTP server). All of them sit in one folder, so import.meta.url-relative paths of the
 * bundled code (the worker, dist/demo/seed.sql via ../demo/) resolve as from any dist/cli module.
 *
 * Kept external (loaded from node_modules at run time, as before): packages src/ loads through
 * createRequire (pg and its pg-* helpers, libpg-query, pgsql-deparser, @fastify/rate-limit),
 * pg-cursor, and the optional OpenTelemetry peers (absent from a default
 * install: their import must fail at run time with TELEMETRY_NOT_INSTALLED, not at build time).
 * yaml is bundled into its own chunk, loaded when a configuration file is read (its ≈ 70 CommonJS
 * files cost more to find and wrap one by one than to parse as one).
 * zod's locales: zod re-exports all 64 of them as `locales` (≈ 300 KB of a 570 KB chunk, parsed on
 * every start) and configures English only; the bundle keeps `en` alone, and the build fails if any
 * bundled source outside zod mentions `locales` (a use that would find its language missing).
 * `import pg from 'pg'` in src/ is resolved to src/db/pg-load.ts's export, so pg still loads there,
 * under its temporary `navigator` (an external import would be hoisted above the bundled code).
 *
 * Source maps: each output has a linked <file>.map without sourcesContent (paths relative to the
 * file, so they name src/… and node_modules/… of the checkout that built it), for
 * `NODE_OPTIONS=--enable-source-maps` (docs/deployment.md, Troubleshooting).
 *
 * Licences of the bundled packages: esbuild's legalComments 'linked' writes each output's legal
 * comments to <file>.LEGAL.txt next to it, and dist/cli/THIRD-PARTY-LICENSES.txt carries each
 * bundled package's name, version, licence and licence file. dist/bundle-meta.json is esbuild's metafile (which
 * sources each output holds), read by test/unit/cli/lazy-loading.test.ts to name what a start loaded.
 *
 * It also copies src/demo/seed.sql to dist/demo/. Files are written only when their bytes change
 * (the test suites run this script in their global setup while nothing is started yet, and again
 * is a no-op), and dist/cli keeps nothing but the bundle (tsc's modules of src/cli are removed).
 *
 * Usage: node scripts/build-bundle.mjs [--outdir DIR] (default dist/cli; the metafile and the seed
 * go to DIR/../bundle-meta.json and DIR/../demo/seed.sql).
 */
import { Buffer } from 'node:buffer';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import process from 'node:process';
import { parseArgs } from 'node:util';
import * as esbuild from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { outdir: { type: 'string', default: join(ROOT, 'dist/cli') } } });
const outdir = resolve(values.outdir);

const EXTERNAL = [
  'pg',
  'pg/*',
  'pg-cursor',
  'libpg-query',
  'libpg-query/*',
  'pgsql-deparser',
  '@fastify/rate-limit',
  '@fastify/rate-limit/*',
  '@opentelemetry/*',
];

const PG_LOAD = join(ROOT, 'src/db/pg-load.ts');

/** `import pg from 'pg'` in src/ → src/db/pg-load.ts's default export (pg loaded under its navigator). */
const pgThroughPgLoad = {
  name: 'pg-through-pg-load',
  setup(build) {
    build.onResolve({ filter: /^pg$/ }, (args) => {
      if (args.kind === 'import-statement' && args.importer.startsWith(join(ROOT, 'src') + '/') && args.importer !== PG_LOAD) return { path: PG_LOAD };
      return { path: 'pg', external: true };
    });
  },
};

const ZOD_LOCALES = /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/;

/** zod's `locales` namespace with English only (see the header). */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(build) {
    build.onLoad({ filter: ZOD_LOCALES }, (args) => ({ contents: 'export { default as en } from "./en.js";\n', resolveDir: dirname(args.path) }));
  },
};

const result = await esbuild.build({
  absWorkingDir: ROOT,
  entryPoints: { main: 'src/cli/main.ts', worker: 'src/judge/worker.ts' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunk-[hash]',
  external: EXTERNAL,
  plugins: [pgThroughPgLoad, zodEnglishOnly],
  // whitespace and syntax only: identifiers keep their names (readable stack traces)
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'linked',
  // <file>.js.map next to each output, named by a sourceMappingURL comment: Node reads it only
  // under --enable-source-maps (stack traces then name src/… lines); mappings and source paths
  // only, no copies of the sources (2 MB, not 7; test/unit/cli/source-maps.test.ts)
  sourcemap: 'linked',
  sourcesContent: false,
  // CommonJS packages inside the bundle call require() for Node's modules; an ES module has none
  banner: { js: "import { createRequire as __pgwardenCreateRequire } from 'node:module'; const require = __pgwardenCreateRequire(import.meta.url);" },
  metafile: true,
  write: false,
  logLevel: 'warning',
});
// a warning (e.g. an import with no matching export) fails the build: the bundle would differ from src/
if (result.warnings.length > 0) {
  process.stderr.write(`build-bundle: ${result.warnings.length} warning(s); no bundle written\n`);
  process.exit(1);
}

// the locales stub holds only if nothing but zod itself reaches for `locales`
const localeUsers = Object.keys(result.metafile.inputs).filter((f) => !f.startsWith('node_modules/zod/') && /\blocales\b/.test(readFileSync(join(ROOT, f), 'utf8')));
if (localeUsers.length > 0) {
  process.stderr.write(`build-bundle: ${localeUsers.join(', ')} mention zod's locales, which the bundle reduces to English\n`);
  process.exit(1);
}

/** Write a file only when its bytes change: a test suite that builds while tests start the bundle never sees a half-written file. */
function put(file, bytes) {
  try {
    if (Buffer.compare(readFileSync(file), Buffer.from(bytes)) === 0) return;
  } catch {
    // absent: write it
  }
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, bytes);
}

/** The folder (relative to ROOT, as package-lock.json names it) of every package the bundle holds code of. */
function bundledPackageDirs(metafile) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (m) dirs.add(m[1]);
  }
  return [...dirs].sort();
}

/**
 * A CycloneDX 1.5 SBOM of the packages bundled into dist/cli (name, version, licence, purl, the
 * package-lock.json path): the versions that run, for scanners (`grype sbom:…`, `trivy sbom …`)
 * and reviewers — npm audit and overrides see node_modules, not the bundle's copies.
 * test/unit/cli/bundle-sbom.test.ts checks it against the metafile and package-lock.json.
 */
function sbom(metafile) {
  const own = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  const purl = (name, version) => `pkg:npm/${name.startsWith('@') ? `%40${name.slice(1)}` : name}@${version}`;
  const components = bundledPackageDirs(metafile).map((dir) => {
    const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
    return {
      type: 'library',
      'bom-ref': dir,
      name: pkg.name,
      version: pkg.version,
      purl: purl(pkg.name, pkg.version),
      ...(typeof pkg.license === 'string' ? { licenses: [{ expression: pkg.license }] } : {}),
      properties: [{ name: 'pgwarden:package-lock-path', value: dir }],
    };
  });
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    version: 1,
    metadata: {
      component: { type: 'application', 'bom-ref': 'pgwarden', name: own.name, version: own.version, purl: purl(own.name, own.version) },
      properties: [{ name: 'pgwarden:scope', value: 'packages bundled into dist/cli by scripts/build-bundle.mjs; the external ones (pg, libpg-query, …) are installed in node_modules' }],
    },
    components,
    dependencies: [{ ref: 'pgwarden', dependsOn: components.map((c) => c['bom-ref']) }],
  };
}

/** Every package the bundle holds code of: name@version, its licence field and the text of its licence file(s). */
function thirdPartyLicenses(metafile) {
  const parts = ['Third-party software bundled into this folder (scripts/build-bundle.mjs), with its licences.\n'];
  for (const dir of bundledPackageDirs(metafile)) {
    const pkg = JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8'));
    const files = readdirSync(join(ROOT, dir)).filter((f) => /^(licen[cs]e|copying|notice)/i.test(f)).sort();
    parts.push(`\n${'='.repeat(78)}\n${pkg.name}@${pkg.version} (${typeof pkg.license === 'string' ? pkg.license : 'see below'})\n`);
    for (const f of files) parts.push(`\n${readFileSync(join(ROOT, dir, f), 'utf8').trim()}\n`);
    if (files.length === 0) parts.push('\n(no licence file in the package; its package.json names the licence above)\n');
  }
  return parts.join('');
}

mkdirSync(outdir, { recursive: true });
for (const f of result.outputFiles) put(f.path, f.contents);
put(join(outdir, 'THIRD-PARTY-LICENSES.txt'), thirdPartyLicenses(result.metafile));
put(join(outdir, 'sbom.cdx.json'), `${JSON.stringify(sbom(result.metafile), null, 2)}\n`);
// dist/cli holds the bundle only: tsc's modules of src/cli (older builds) and a previous build's chunks go
const written = new Set([...result.outputFiles.map((f) => f.path), join(outdir, 'THIRD-PARTY-LICENSES.txt'), join(outdir, 'sbom.cdx.json')]);
for (const f of readdirSync(outdir)) if (!written.has(join(outdir, f))) rmSync(join(outdir, f), { recursive: true, force: true });
put(join(outdir, '..', 'bundle-meta.json'), JSON.stringify(result.metafile));
// the demo's schema (src/demo/embedded.ts finds it at ../demo/seed.sql from the bundle)
put(join(outdir, '..', 'demo', 'seed.sql'), readFileSync(join(ROOT, 'src/demo/seed.sql')));
