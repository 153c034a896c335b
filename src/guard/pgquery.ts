/**
 * The one door to libpg-query (the PostgreSQL parser compiled to WebAssembly): every run-time
 * import of the parser goes through this module, so wasm-tiering.ts has set V8's tiering flags
 * before libpg-query instantiates its module (test/unit/guard/wasm-tiering.test.ts checks both
 * the door and the flags). Type-only imports of 'libpg-query' may stay direct.
 */
import './wasm-tiering.js';

export { fingerprintSync, loadModule, normalizeSync, parseSync, scanSync } from 'libpg-query';
export type { Node } from 'libpg-query';
