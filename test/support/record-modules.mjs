/**
 * `node --import <this file>`: records the URL of every module the ES module loader loads (one a
 * line, appended to the file named by PGWARDEN_TEST_MODULES_FILE). CommonJS packages appear by
 * their entry file. Used by test/unit/cli/lazy-loading.test.ts.
 */
import { register } from 'node:module';
import process from 'node:process';
import { URL } from 'node:url';

register(new URL('./record-modules-hooks.mjs', import.meta.url), { data: { file: process.env.PGWARDEN_TEST_MODULES_FILE } });
