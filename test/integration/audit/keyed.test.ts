/**
 * Keyed audit logs end to end: a real child process writes keyed records to stdout, and the real
 * `pgwarden` command line verifies them (exit codes) and prints the configuration redacted.
 */
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditKey } from '../../../src/audit/keyed.js';
import { auditVerify } from '../../../src/audit/verify.js';
import { KEY, OTHER_KEY, tempDir } from '../../unit/audit/helpers.js';

const run = promisify(execFile);
const child = fileURLToPath(new URL('./fixtures/stream-child.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = fileURLToPath(new URL('../../../src/cli/main.ts', import.meta.url));

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => cleanup());

interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `pgwarden ARGS` (src/cli/main.ts under tsx) with only the given environment on top of PATH/HOME. */
async function pgwarden(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliRun> {
  const base = { PATH: process.env.PATH, HOME: process.env.HOME };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', main, ...args], { cwd: root, env: { ...base, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: unknown; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function keyedStdoutLog(n: number): Promise<string> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', child, 'stdout', String(n)], {
    cwd: root,
    env: { ...process.env, AUDIT_TEST_HMAC_KEY: KEY },
    maxBuffer: 16 * 1024 * 1024,
  });
  expect(stdout).not.toContain(KEY);
  const lines = stdout.split('\n').filter((l) => l.startsWith('{'));
  expect(lines).toHaveLength(n);
  const file = join(dir, 'stdout.ndjson');
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

describe('keyed audit log (real processes)', () => {
  it('a keyed stdout sink in a child process: every record keyed, verifies with the key only', async () => {
    const file = await keyedStdoutLog(500);
    expect(await auditVerify([file], { keys: [KEY] })).toMatchObject({ ok: true, records: 500, mode: 'keyed', anchored: true });
    expect((await auditVerify([file])).ok).toBe(false);
  });

  it('pgwarden audit verify: exit 0 with the key, 1 without, with a wrong key or after tampering, 64 for a bad key file', async () => {
    const file = await keyedStdoutLog(20);
    const keyFile = join(dir, 'audit.key');
    await writeFile(keyFile, `${KEY}\n`, { mode: 0o600 });
    const wrongKeyFile = join(dir, 'wrong.key');
    await writeFile(wrongKeyFile, OTHER_KEY, { mode: 0o600 });

    const ok = await pgwarden(['audit', 'verify', '--key-file', keyFile, file]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain(`key_id ${new AuditKey(KEY).keyId}`);

    const viaEnv = await pgwarden(['audit', 'verify', file], { PGWARDEN_AUDIT_KEY: KEY });
    expect(viaEnv.code).toBe(0);

    const missing = await pgwarden(['audit', 'verify', file]);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toMatch(/pass --key-file/);

    const wrong = await pgwarden(['audit', 'verify', '--key-file', wrongKeyFile, file]);
    expect(wrong.code).toBe(1);
    expect(wrong.stdout).toMatch(/keyed with another key/);

    const lines = (await readFile(file, 'utf8')).split('\n');
    lines[7] = (lines[7] as string).replace('"principal":"alice"', '"principal":"mallory"');
    await writeFile(file, lines.join('\n'));
    const tampered = await pgwarden(['audit', 'verify', '--json', '--key-file', keyFile, file]);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stdout)).toMatchObject({ ok: false, keyRequired: true, firstBroken: { line: 8, seq: 8 } });

    const badKey = await pgwarden(['audit', 'verify', '--key-file', join(dir, 'nope.key'), file]);
    expect(badKey.code).toBe(64);

    for (const r of [ok, viaEnv, missing, wrong, tampered, badKey]) expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it('pgwarden serve --dry-run prints audit.hmac_key as ***', async () => {
    const config = join(dir, 'c.yaml');
    await writeFile(
      config,
      `databases:
  main:
    url: postgres://reader@db.example/shop
principals:
  analyst:
    policy: analyst
    tokens:
      - token: tok-a-0123456789abcdefghijklmnopqrstuvwxyz
policies:
  analyst:
    databases:
      main: {}
audit:
  hmac_key: \${PGWARDEN_AUDIT_KEY}
`,
    );
    const r = await pgwarden(['serve', '--config', config, '--dry-run'], { PGWARDEN_AUDIT_KEY: KEY });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/hmac_key: "?\*\*\*"?/);
    expect(r.stdout + r.stderr).not.toContain(KEY);
  });
});
