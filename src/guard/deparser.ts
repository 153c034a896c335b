/**
 * pgsql-deparser, required on first use instead of when the guard and the masker load (issue
 * #13, start-up): only a masking rewrite (src/mask/deparse.ts) and a write plan
 * (src/guard/write/plan.ts) print trees, and a start whose first calls do neither saves its
 * load (≈ 12–15 ms on this machine). The package is CommonJS, so the first use requires it
 * synchronously: the callers stay synchronous.
 *
 * Guarantees: the same module object an import would give, loaded at most once. Does not: load
 * it ahead of time (the first rewrite or write plan pays the load once).
 */
import { createRequire } from 'node:module';
import type * as PgsqlDeparser from 'pgsql-deparser';

type DeparserLibrary = typeof PgsqlDeparser;

const require = createRequire(import.meta.url);
let library: DeparserLibrary | undefined;

/** The pgsql-deparser module, required the first time it is asked for. */
export function deparserLibrary(): DeparserLibrary {
  library ??= require('pgsql-deparser') as DeparserLibrary;
  return library;
}
