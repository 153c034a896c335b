/**
 * Keeps the WebAssembly parser on V8's baseline compiler (Liftoff): no tier-up to the optimizing
 * compiler. Imported for its side effect, by pgquery.ts only, before libpg-query is evaluated
 * (libpg-query instantiates its module at import time, and V8 fixes the tiering mode of a module
 * when it is compiled).
 *
 * Why (issue #10 item 1; docs/deployment.md, Memory): after a few hundred statements V8 recompiles
 * the parser's hot functions with its optimizing compiler on a background thread. One of them is
 * the Bison parser loop (function #36, 264 KB of wasm); on Node 24 (V8 13.6, Turboshaft) that one
 * compilation takes 2–3 s and grows one compiler zone to ≈ 590 MB (LoopUnrollingPhase,
 * SnapshotTable::MergePredecessors, doubling segments up to a single 296 MB malloc), so a 120 MB
 * gateway peaked at 790–890 MB under the memory test; on Node 20 (TurboFan) the same compilation
 * costs ≈ 100–150 MB. The memory is outside the V8 heap and outside Buffers, and lasts only while
 * the compilation runs, which is why it looked like a per-call cost of the response path.
 * With tier-up off the same test peaks at 279–353 MB (Node 24) and 275–314 MB (Node 20).
 * Cost: Liftoff code parses roughly as fast as optimized code for short statements and up to ≈ 2×
 * slower for 60 KB ones (docs/benchmarks.md) — milliseconds against a judging budget of seconds.
 *
 * `--liftoff-only` would say the same on the command line, but set at run time it does not
 * reach the wasm engine (its implications are applied only at V8 start-up), so the two flags it
 * implies are set instead. V8 flags are process-wide: worker threads inherit them.
 * Does not: affect JavaScript optimization, or wasm modules compiled before this module ran.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--no-wasm-tier-up');
setFlagsFromString('--no-wasm-dynamic-tiering');
