/**
 * Preload for bench/startup.ts (BENCH_HEAP_SPACES=1): on SIGUSR2 the server prints to stderr its
 * RSS and V8's heap spaces (resident / used MiB), runs a full garbage collection, and prints them
 * again — what the heap holds after load, and how much of it is live. Bench only: it turns on
 * --expose-gc for a fresh context, never the server's own global.
 */
import v8 from 'node:v8';
import process from 'node:process';
import vm from 'node:vm';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');
const mib = (n) => (n / 1048576).toFixed(1);
function dump(tag) {
  const m = process.memoryUsage();
  const spaces = v8
    .getHeapSpaceStatistics()
    .filter((s) => s.physical_space_size > 0)
    .map((s) => `${s.space_name.replace('_space', '')} ${mib(s.physical_space_size)}/${mib(s.space_used_size)}`)
    .join(', ');
  process.stderr.write(`heap-spaces ${tag}: rss ${mib(m.rss)} MiB, external ${mib(m.external)}; ${spaces}\n`);
}
process.on('SIGUSR2', () => {
  dump('after the calls');
  gc();
  dump('after a full GC');
});
