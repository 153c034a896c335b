/**
 * Crash safety: a gateway process killed with SIGKILL after the write and its journal insert
 * but before COMMIT leaves neither behind (they are one transaction).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { journalCount, setupWriteDb, type WriteTestDb } from './helpers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../../..');

let w: WriteTestDb;
beforeAll(async () => {
  w = await setupWriteDb();
});
afterAll(async () => {
  await w?.end();
});

async function eventually(fn: () => Promise<boolean>, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('kill -9 between statement and commit', () => {
  it('leaves neither the write nor the journal entry', async () => {
    const journalBefore = await journalCount(w);
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'fixtures/child.ts'), 'delete', w.scratch.gatewayUrl, '77'], {
      cwd: ROOT,
      env: { ...process.env, PGWARDEN_TEST_PAUSE_BEFORE_COMMIT_MS: '60000' },
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let stderr = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`child never paused: ${stderr}`)), 30_000);
      child.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (stderr.includes('pgwarden-test: paused before commit')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    // The write and the journal row exist inside the open transaction: the row is locked.
    const locked = await w.admin<{ n: string }>(
      "SELECT count(*) AS n FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'journal' AND l.mode = 'RowExclusiveLock'",
    );
    expect(Number(locked[0]?.n)).toBeGreaterThan(0);

    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    // The server notices the dead connection and rolls back; the row lock goes away.
    expect(
      await eventually(async () => (await w.admin("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND state LIKE 'idle in transaction%'")).length === 0),
    ).toBe(true);
    expect(await w.admin('SELECT 1 FROM app.support_tickets WHERE id = 77')).toHaveLength(1);
    expect(await journalCount(w)).toBe(journalBefore);
    // …and the row is writable again (no lock left behind)
    await w.admin("SET lock_timeout = '2s'; UPDATE app.support_tickets SET priority = priority WHERE id = 77");
  }, 60_000);

  it('the same child without the pause commits both (the test can tell the difference)', async () => {
    const journalBefore = await journalCount(w);
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', path.join(HERE, 'fixtures/child.ts'), 'delete', w.scratch.gatewayUrl, '78'], { cwd: ROOT });
      let s = '';
      child.stdout.on('data', (d: Buffer) => (s += d.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(s) : reject(new Error(`exit ${code}`))));
    });
    expect(JSON.parse(out)).toMatchObject({ rowCount: 1 });
    expect(await w.admin('SELECT 1 FROM app.support_tickets WHERE id = 78')).toHaveLength(0);
    expect(await journalCount(w)).toBe(journalBefore + 1);
  }, 60_000);
});
