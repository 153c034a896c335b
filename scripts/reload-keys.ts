/**
 * Rewrite the reload-keys block of docs/configuration.md from src/app/reload.ts (which keys
 * apply on SIGHUP). Run after adding a configuration key: `npx tsx scripts/reload-keys.ts`.
 * test/unit/app/reload.test.ts fails while the block is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { allKeyPaths } from '../src/config/index.js';
import { reloadDocLines } from '../src/app/reload.js';

const file = new URL('../docs/configuration.md', import.meta.url);
const docs = readFileSync(file, 'utf8');
const block = `<!-- reload-keys:begin -->\n${reloadDocLines(allKeyPaths()).join('\n')}\n<!-- reload-keys:end -->`;
const next = docs.replace(/<!-- reload-keys:begin -->\n[\s\S]*?\n<!-- reload-keys:end -->/, block);
if (next === docs) process.stdout.write('docs/configuration.md: reload keys already up to date\n');
else {
  writeFileSync(file, next);
  process.stdout.write('docs/configuration.md: reload keys rewritten\n');
}
