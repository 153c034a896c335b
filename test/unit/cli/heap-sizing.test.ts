/**
 * The young generation's bound (src/cli/heap-sizing.ts, issue #13: RSS after load with plain
 * `node`): the growth factor it picks, when it stands aside, and — in a child process with
 * V8's default heap — that a workload which grows new space to V8's maximum without it stays
 * within the cap with it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { growthFactorFor, wantsHeapSizing, YOUNG_GENERATION_CAP_BYTES } from '../../../src/cli/heap-sizing.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const MiB = 1024 * 1024;
/** Node 20's V8, where the bound applies. */
const V8_20 = '11.3.244.8-node.33';

describe('heap sizing', () => {
  it('grows new space (×2) only while the result stays within the cap', () => {
    expect(YOUNG_GENERATION_CAP_BYTES).toBe(8 * MiB);
    expect(growthFactorFor(1 * MiB)).toBe(2);
    expect(growthFactorFor(2 * MiB)).toBe(2);
    expect(growthFactorFor(4 * MiB)).toBe(2);
    expect(growthFactorFor(4 * MiB + 1)).toBe(1);
    expect(growthFactorFor(8 * MiB)).toBe(1);
    expect(growthFactorFor(32 * MiB)).toBe(1);
    expect(growthFactorFor(8 * MiB, 16 * MiB)).toBe(2);
  });

  it('stands aside when the operator sized the young generation or turned it off', () => {
    expect(wantsHeapSizing([], {}, V8_20)).toBe(true);
    expect(wantsHeapSizing(['--max-old-space-size=384'], { NODE_OPTIONS: '--enable-source-maps' }, V8_20)).toBe(true);
    expect(wantsHeapSizing(['--max-semi-space-size=4'], {}, V8_20)).toBe(false);
    expect(wantsHeapSizing(['--max_semi_space_size', '4'], {}, V8_20)).toBe(false);
    expect(wantsHeapSizing(['--semi-space-growth-factor=4'], {}, V8_20)).toBe(false);
    expect(wantsHeapSizing([], { NODE_OPTIONS: '--max-old-space-size=384 --max-semi-space-size=8' }, V8_20)).toBe(false);
    expect(wantsHeapSizing([], { PGWARDEN_HEAP_SIZING: 'off' }, V8_20)).toBe(false);
    // V8 aborts on setFlagsFromString once flags are frozen (node --freeze-flags-after-init)
    expect(wantsHeapSizing(['--freeze-flags-after-init'], {}, V8_20)).toBe(false);
    expect(wantsHeapSizing(['--freeze_flags_after_init'], {}, V8_20)).toBe(false);
  });

  it('manages the young generation only on the V8 where the bound was measured to hold (Node 20, V8 11)', () => {
    expect(wantsHeapSizing([], {}, '11.3.244.8-node.33')).toBe(true);
    expect(wantsHeapSizing([], {}, '13.6.233.17-node.37')).toBe(false);
    expect(wantsHeapSizing([], {}, '12.4.254.21-node.33')).toBe(false);
    expect(wantsHeapSizing([], {}, '')).toBe(false);
  });

  it.skipIf(!wantsHeapSizing([], {}))(`lets new space grow to the cap and no further under a workload that grows it to the maximum without it${wantsHeapSizing([], {}) ? '' : ` (skipped: not managed on V8 ${process.versions.v8})`}`, () => {
    // batches of objects that survive a few scavenges, with event-loop turns between batches (as a server has)
    const script = (sizing: boolean): string => `
      import { getHeapSpaceStatistics } from 'node:v8';
      ${sizing ? `const { startHeapSizing } = await import(${JSON.stringify(pathToFileURL(path.join(ROOT, 'src/cli/heap-sizing.ts')).href)}); if (!startHeapSizing()) throw new Error('not started');` : ''}
      const size = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
      let max = size();
      const keep = [];
      for (let batch = 0; batch < 400; batch++) {
        const xs = [];
        for (let i = 0; i < 5000; i++) xs.push({ i, s: 'v' + i + batch });
        keep.push(xs);
        if (keep.length > 30) keep.shift();
        max = Math.max(max, size());
        await new Promise((r) => setImmediate(r));
      }
      console.log(JSON.stringify({ max }));
    `;
    const run = (sizing: boolean): number => {
      const r = spawnSync(process.execPath, ['--import', pathToFileURL(path.join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href, '--input-type=module', '-e', script(sizing)], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' },
      });
      expect(r.status, r.stderr).toBe(0);
      return (JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { max: number }).max;
    };
    expect(run(false)).toBeGreaterThan(YOUNG_GENERATION_CAP_BYTES); // the workload grows it past the cap by default
    // grows to the cap, and no further
    const sized = run(true);
    expect(sized).toBeGreaterThanOrEqual(YOUNG_GENERATION_CAP_BYTES);
    expect(sized).toBeLessThanOrEqual(YOUNG_GENERATION_CAP_BYTES * 1.5);
  }, 60_000);
});
