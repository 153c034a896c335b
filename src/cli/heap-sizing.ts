/**
 * The V8 heap's young generation of the pgwarden command, bounded without node flags (issue #13:
 * RSS after load ≤ 150 MiB with plain `node`). boot.ts starts it, before the gateway loads.
 *
 * Why: V8 starts the young generation (new space: two semi-spaces) at 2 × 1 MiB and doubles it
 * whenever enough survives a scavenge, up to 2 × 16 MiB on 64-bit Node 20 — which a server reaches
 * during start-up and keeps: ≈ 29 of the ≈ 130–155 MiB resident after 100,000 calls were a new
 * space holding 1–4 MiB of live objects (docs/benchmarks.md, "Memory (session 9)"). The image
 * passes `--max-semi-space-size=4` for this, but a V8 heap size is fixed when the isolate is made,
 * so `npx pgwarden` or a plain `node dist/cli/main.js` cannot have it. What V8 does read while
 * running is the growth factor (`--semi-space-growth-factor`, read at each growth): this module
 * keeps it at 1 (no growth) while new space is at or above YOUNG_GENERATION_CAP_BYTES, and at V8's
 * default 2 below it, checked after every garbage collection (a `gc` PerformanceObserver), so the
 * young generation grows to the cap and no further, and grows back to it after V8 shrinks it. It
 * starts at 1: start-up's synchronous module evaluation, during which no observer runs and nearly
 * everything survives, would otherwise double it to the maximum before the first check.
 *
 * Guarantees: only V8's heap sizing changes, never what the program computes; an explicit
 * `--max-semi-space-size`, `--semi-space-growth-factor` or PGWARDEN_HEAP_SIZING=off leaves V8's
 * defaults alone. Does not: bound the old generation (V8's own limit and --max-old-space-size do),
 * or stop one synchronous stretch in which more than the new space's size survives several
 * scavenges from doubling it more than once before the observer runs (V8 shrinks it again when
 * allocation slows). It runs on Node 20's V8 only (MEASURED_V8_MAJORS). V8 flags are
 * process-wide: worker threads (the judging workers) see the same factor.
 */
import { PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** New space (both semi-spaces) at most 8 MiB: the image's `--max-semi-space-size=4`. */
export const YOUNG_GENERATION_CAP_BYTES = 8 * 1024 * 1024;

/** V8's default growth factor. */
const DEFAULT_FACTOR = 2;

/** The growth factor for a new space of this size: grow (×2) only if the result stays within the cap. */
export function growthFactorFor(newSpaceBytes: number, capBytes: number = YOUNG_GENERATION_CAP_BYTES): 1 | 2 {
  return newSpaceBytes * DEFAULT_FACTOR <= capBytes ? 2 : 1;
}

/**
 * V8 majors on which the bound was measured to hold (Node 20: V8 11). On Node 24 (V8 13) a loaded
 * CI run saw new space reach 22 MiB with it (2.8× the cap): V8 there reads the growth factor
 * differently, so the bound is not claimed and V8's default is left alone (the image and the
 * Desktop extension pass --max-semi-space-size=4 instead).
 */
const MEASURED_V8_MAJORS: ReadonlySet<string> = new Set(['11']);

/**
 * Whether to manage the young generation: not when the operator sized it, nor when turned off,
 * nor on a V8 where the bound was not shown to hold.
 */
export function wantsHeapSizing(
  execArgv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  v8Version: string = process.versions.v8,
): boolean {
  if (env.PGWARDEN_HEAP_SIZING === 'off') return false;
  if (!MEASURED_V8_MAJORS.has(v8Version.split('.')[0] ?? '')) return false;
  // V8 aborts the process (Check failed: !IsFrozen()) on any setFlagsFromString once flags are
  // frozen: an operator's hardening flag must not turn into a crash at start-up.
  if (execArgv.some((arg) => /^--freeze[-_]flags[-_]after[-_]init(=true)?$/.test(arg))) return false;
  const sized = (arg: string): boolean => /^--(max[-_]semi[-_]space[-_]size|semi[-_]space[-_]growth[-_]factor)(=|$)/.test(arg);
  return !execArgv.some(sized) && !(env.NODE_OPTIONS ?? '').split(/\s+/).some(sized);
}

function newSpaceBytes(): number {
  for (const s of getHeapSpaceStatistics()) if (s.space_name === 'new_space') return s.space_size;
  return 0;
}

let observer: PerformanceObserver | undefined;

/** Start bounding the young generation (idempotent). Returns false when it does not (see wantsHeapSizing). */
export function startHeapSizing(execArgv: readonly string[] = process.execArgv, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  if (observer !== undefined) return true;
  if (!wantsHeapSizing(execArgv, env)) return false;
  // no growth until the first collection is observed: start-up runs long synchronous stretches
  // (module evaluation) in which nearly everything survives, and an observer only runs between them
  let factor: 1 | 2 = 1;
  setFlagsFromString('--semi-space-growth-factor=1');
  const adjust = (): void => {
    const next = growthFactorFor(newSpaceBytes());
    if (next === factor) return;
    factor = next;
    setFlagsFromString(`--semi-space-growth-factor=${factor}`);
  };
  observer = new PerformanceObserver(adjust);
  observer.observe({ entryTypes: ['gc'] });
  return true;
}
