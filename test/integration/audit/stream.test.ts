import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { auditVerify } from '../../../src/audit/verify.js';
import { tempDir } from '../../unit/audit/helpers.js';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./fixtures/stream-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

describe('audit stream sinks (real child process)', () => {
  it.each(['stdout', 'stderr'] as const)('%s: one verifying NDJSON line per record and nothing else', async (stream) => {
    const n = 2_000; // several batches through a real pipe
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', child, stream, String(n)], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    const text = stream === 'stdout' ? stdout : stderr;
    const lines = text.split('\n').filter((l) => l.startsWith('{'));
    expect(lines).toHaveLength(n);
    const file = join(dir, `${stream}.ndjson`);
    await writeFile(file, `${lines.join('\n')}\n`);
    expect(await auditVerify([file])).toMatchObject({ ok: true, records: n, anchored: true });
    if (stream === 'stderr') expect(stdout).toBe('');
  });
});
