/**
 * Process settings of the pgwarden command. main.ts imports this module first, so it runs before
 * any other module is evaluated and before libpg-query compiles its WebAssembly. Figures:
 * docs/benchmarks.md ("Memory and start-up").
 *
 * - `--liftoff-only` (Node 20; Node ≥ 22 freezes V8 flags at start and ignores it here, so the
 *   image and the .mcpb bundle pass it to node): the SQL parser (libpg-query) is WebAssembly. V8 compiles it with its baseline
 *   compiler (Liftoff) and, by default, compiles hot functions again with TurboFan on background
 *   threads. For the PostgreSQL grammar that tier-up costs about 100 MiB of RSS that stays after it
 *   finished (the compiler threads' malloc arenas) and CPU in the first seconds; baseline code
 *   parses about 15–25 % slower than the optimized code would once ready. Only uncached statements
 *   are parsed (the guard's decision cache answers repeated texts).
 * - Node's module compile cache (`module.enableCompileCache`, Node ≥ 22.1; a no-op on Node 20):
 *   compiled code of the modules is kept in NODE_COMPILE_CACHE or the OS temp folder, so the next
 *   start compiles less. A folder that cannot be written leaves the cache off, nothing else.
 *
 * A related flag given to node (command line or NODE_OPTIONS) is left as given: opt out with
 * `node --no-liftoff-only dist/cli/main.js …`, NODE_DISABLE_COMPILE_CACHE=1 for the cache. Not set
 * here: `--heap-growing-percent=50` halves RSS after load (≈ 360 → 160 MiB over HTTP) for 5–15 %
 * more CPU per call (more major GCs); operators who prefer memory set it in NODE_OPTIONS
 * (docs/deployment.md).
 * Guarantees: no behaviour changes, only how V8 compiles. Does not: apply to tests or
 * benches that import the modules directly (they run with V8's defaults).
 */
import * as nodeModule from 'node:module';
import { setFlagsFromString } from 'node:v8';

/** The V8 flags to set, given node's own arguments and NODE_OPTIONS (a related flag given there wins). */
export function bootFlags(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const given = [...execArgv, nodeOptions ?? ''].join(' ');
  const flags: string[] = [];
  if (!/liftoff|wasm-tier|wasm-dynamic-tiering/.test(given)) flags.push('--liftoff-only');
  return flags;
}

for (const flag of bootFlags(process.execArgv, process.env.NODE_OPTIONS)) setFlagsFromString(flag);

const enableCompileCache = (nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache;
if (typeof enableCompileCache === 'function' && process.env.NODE_DISABLE_COMPILE_CACHE === undefined) {
  try {
    enableCompileCache();
  } catch {
    // the cache is an optimization: starting without it is fine
  }
}
