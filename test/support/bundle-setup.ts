/**
 * vitest globalSetup of both projects: builds the production bundle (dist/cli, scripts/build-bundle.mjs)
 * from the current sources before any test runs, so the tests that start `pgwarden` as a process
 * (test/support/serve-process.ts, the e2e tests, docs-run, the lazy-loading test) start the artifact
 * that ships. About a second; files whose bytes do not change are not rewritten, so the second
 * project's setup (or docs-run's `npm run build`) never disturbs a process the first one started.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export default function setup(): void {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'scripts/build-bundle.mjs')], { cwd: ROOT, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`scripts/build-bundle.mjs failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
}
