/**
 * The command the tests start as a process: the production bundle, `node dist/cli/main.js`, as
 * `bin`, `npm start`, the image and the Desktop extension run it (built from the current sources by
 * the suites' global setup, test/support/bundle-setup.ts). Tests that import modules run src/.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** dist/cli/main.js: the bundle's entry. */
export const PGWARDEN_MAIN = path.join(ROOT, 'dist/cli/main.js');
