/**
 * `node --import <this file>`: records the URL of every module the ES module loader loads (one a
 * line, appended to the file named by PGWARDEN_TEST_MODULES_FILE). CommonJS packages appear by
 * their entry file. At exit it appends Node's own modules loaded since start-up as `builtin:<id>`
 * (process.moduleLoadList: e.g. `builtin:internal/deps/undici/undici`, which no loader hook sees)
 * and the files CommonJS `require` loaded (require.cache: a createRequire() load bypasses the hooks).
 * Used by test/unit/cli/lazy-loading.test.ts.
 */
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import process from 'node:process';
import { URL, pathToFileURL } from 'node:url';

register(new URL('./record-modules-hooks.mjs', import.meta.url), { data: { file: process.env.PGWARDEN_TEST_MODULES_FILE } });

const file = process.env.PGWARDEN_TEST_MODULES_FILE;
const atStart = new Set(process.moduleLoadList);
process.on('exit', () => {
  const builtins = process.moduleLoadList.filter((m) => !atStart.has(m) && m.startsWith('NativeModule ')).map((m) => `builtin:${m.slice('NativeModule '.length)}\n`);
  const required = Object.keys(createRequire(import.meta.url).cache).map((f) => `${pathToFileURL(f).href}\n`);
  if (file) appendFileSync(file, builtins.join('') + required.join(''));
});
