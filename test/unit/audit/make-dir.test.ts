/**
 * src/audit/make-dir.ts: the audit directory is created without Node's recursive mkdir, which
 * never returns when a parent exists but cannot hold the child (procfs answers ENOENT; a dangling
 * symlink). Every case must end, with the error's own code. On the old code (mkdir recursive) the
 * /proc and dangling-symlink cases hang until the test's timeout.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeDirectory } from '../../../src/audit/make-dir.js';
import { FileTarget } from '../../../src/audit/file-target.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'pgw-mkdir-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('makeDirectory', () => {
  it('creates missing parents and accepts an existing directory', async () => {
    await makeDirectory(join(dir, 'a', 'b', 'c'));
    expect((await stat(join(dir, 'a', 'b', 'c'))).isDirectory()).toBe(true);
    await makeDirectory(join(dir, 'a', 'b', 'c'));
    await makeDirectory(dir);
  });

  it('ends with ENOENT under a dangling symlink (Node’s recursive mkdir spins forever)', async () => {
    await symlink(join(dir, 'gone'), join(dir, 'dangling'));
    await expect(makeDirectory(join(dir, 'dangling', 'audit'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  }, 5_000);

  it.runIf(existsSync('/proc/self'))('ends under /proc, where mkdir answers ENOENT', async () => {
    await expect(makeDirectory('/proc/pgwarden-test/audit')).rejects.toMatchObject({ code: expect.stringMatching(/^E/) as unknown });
  }, 5_000);

  it('says ENOTDIR when a component is a regular file', async () => {
    await writeFile(join(dir, 'file'), '');
    await expect(makeDirectory(join(dir, 'file', 'sub'))).rejects.toMatchObject({ code: 'ENOTDIR' });
    await expect(makeDirectory(join(dir, 'file'))).rejects.toMatchObject({ code: 'ENOTDIR' });
  });
});

describe('the audit file target', () => {
  it.runIf(existsSync('/proc/self'))('refuses to open a path under /proc instead of hanging', async () => {
    const target = new FileTarget({ path: '/proc/pgwarden-test/audit.ndjson', maxBytes: 1 << 20, maxFiles: 2, syncOnRotate: false });
    await expect(target.open()).rejects.toBeInstanceOf(Error);
  }, 5_000);
});
