/**
 * Process settings of the pgwarden command. main.ts imports this module first, so it runs before
 * any other module is loaded.
 *
 * Node's module compile cache (`module.enableCompileCache`, Node ≥ 22.1; absent on Node 20, where
 * this does nothing): the compiled code of the modules is kept in NODE_COMPILE_CACHE or the OS temp
 * folder, so a later start compiles less. A folder that cannot be written leaves the cache off,
 * nothing else; NODE_DISABLE_COMPILE_CACHE=1 turns it off. (The parser's WebAssembly tiering is set
 * by src/guard/wasm-tiering.ts, before libpg-query loads.) Figures: docs/benchmarks.md ("Memory
 * and start-up").
 *
 * Then the young generation's bound (src/cli/heap-sizing.ts): V8's new space grows to 8 MiB and no
 * further, as the image's `--max-semi-space-size=4` makes it, without a node flag.
 *
 * Guarantees: no behaviour change, only where compiled code comes from and how V8 sizes its heap.
 * Does not: apply to tests or benches that import the modules directly.
 */
import * as nodeModule from 'node:module';
import { startHeapSizing } from './heap-sizing.js';

/** Whether to enable the compile cache: the function exists and the operator did not turn it off. */
export function wantsCompileCache(enable: unknown, env: Readonly<Record<string, string | undefined>>): enable is () => unknown {
  return typeof enable === 'function' && env.NODE_DISABLE_COMPILE_CACHE === undefined;
}

const enableCompileCache = (nodeModule as { enableCompileCache?: unknown }).enableCompileCache;
if (wantsCompileCache(enableCompileCache, process.env)) {
  try {
    enableCompileCache();
  } catch {
    // the cache is an optimization: starting without it is fine
  }
}

startHeapSizing();
