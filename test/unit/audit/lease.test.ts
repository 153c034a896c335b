/** The file target keeps the inter-process lock between close appends (a lease), and lets others in (issue #13). */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { lockPathFor } from '../../../src/audit/lock.js';
import { FileTarget } from '../../../src/audit/targets.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const targets: FileTarget[] = [];
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  for (const t of targets.splice(0)) await t.close().catch(() => undefined);
  await cleanup();
});

const line = (who: string, i: number): string => JSON.stringify({ v: 1, seq: i, prev: '0'.repeat(64), hash: `${who}${i}`.padEnd(64, '0'), decision: 'allowed' });

function target(path: string): FileTarget {
  const t = new FileTarget({ path, maxBytes: 0, maxFiles: 1, syncOnRotate: false });
  targets.push(t);
  return t;
}

async function until(pred: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
  return true;
}

describe('audit file target: lock lease', () => {
  it('keeps the lock right after an append and gives it up when no append follows; close() gives it up at once', async () => {
    const path = join(dir, 'audit.ndjson');
    const lock = lockPathFor(path);
    const a = target(path);
    await a.open();
    expect(existsSync(lock)).toBe(false);
    await a.append(() => [line('a', 1)]);
    expect(existsSync(lock)).toBe(true); // held for the next append
    expect(await until(() => !existsSync(lock), 2_000)).toBe(true);
    await a.append(() => [line('a', 2)]);
    expect(existsSync(lock)).toBe(true);
    await a.close();
    expect(existsSync(lock)).toBe(false);
  });

  it('another writer gets the lock while one appends back to back (bounded wait, no starvation)', async () => {
    const path = join(dir, 'audit.ndjson');
    const a = target(path);
    const b = target(path);
    await a.open();
    await b.open();
    let stop = false;
    let aCount = 0;
    const busy = (async () => {
      while (!stop) {
        await a.append(() => [line('a', ++aCount)]);
        await new Promise((r) => setTimeout(r, 1));
      }
    })();
    await new Promise((r) => setTimeout(r, 100));
    const started = Date.now();
    await b.append(() => [line('b', 1)]);
    const waited = Date.now() - started;
    stop = true;
    await busy;
    // MAX_HOLD_MS 250 + YIELD_MS 50 + a write; generous for a loaded machine, far below the lock's 5 s timeout
    expect(waited).toBeLessThan(2_000);
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    expect(lines).toHaveLength(aCount + 1);
    expect(lines.filter((l) => l.includes('"hash":"b1')).length).toBe(1);
  });
});
