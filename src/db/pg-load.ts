/**
 * Loads the pg driver (a side-effect import): every module that imports 'pg' imports this module
 * first, so pg's first load happens here.
 *
 * Why (issue #13, start-up): when pg loads it asks "am I inside a Cloudflare Worker?"
 * (pg/lib/stream.js): with no global `navigator` it constructs `new Response(null, { cf: … })`,
 * and on Node 20, which has no `navigator`, that first Response loads Node's bundled undici
 * with tls, http2 and zlib: 20–40 ms of a start on this machine for an answer that is always
 * "no" here. So on a runtime without `navigator`, pg is required while a temporary
 * `navigator` with Node's own user agent (what Node ≥ 21 defines) is in place; pg then reads
 * `userAgent !== 'Cloudflare-Workers'` and takes the Node sockets, as it would after the probe.
 * The global is removed again in the same synchronous step, before any other code runs.
 *
 * Guarantees: the same pg module and the same Node socket functions as an ordinary import
 * (test/unit/db/pg-load.test.ts; test/unit/cli/lazy-loading.test.ts checks that a
 * stdio start loads no undici); nothing else sees the temporary global. Does not: change
 * anything on runtimes that define `navigator` (Node ≥ 21), where this is a plain require.
 * In the production bundle this module's default export stands for 'pg' in every other module
 * (scripts/build-bundle.mjs), so pg still loads here first.
 */
import { createRequire } from 'node:module';
import type * as Pg from 'pg';

const require = createRequire(import.meta.url);

/** Require pg with `navigator` defined while it loads, if the runtime has none. */
export function requirePg(load: (id: string) => unknown, global: { navigator?: unknown } = globalThis as { navigator?: unknown }): unknown {
  if (global.navigator !== undefined) return load('pg');
  Object.defineProperty(global, 'navigator', { value: { userAgent: `Node.js/${process.versions.node.split('.')[0] ?? ''}` }, configurable: true, writable: true, enumerable: false });
  try {
    return load('pg');
  } finally {
    delete global.navigator;
  }
}

/**
 * The loaded pg module. The production bundle (scripts/build-bundle.mjs) resolves every other
 * module's `import pg from 'pg'` to this export: an import of an external package would be
 * hoisted above the bundled code and load pg before the `navigator` above is in place.
 */
export const pgModule = requirePg(require) as typeof Pg;
export default pgModule;
