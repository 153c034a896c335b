/**
 * The pgwarden command's process settings (src/cli/boot.ts, issue #13): the parser's WebAssembly
 * stays on V8's baseline compiler (≈100 MiB less RSS), unless node was given a related flag; main.ts imports boot.ts before anything else, so the flags are set
 * before libpg-query compiles.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { bootFlags } from '../../../src/cli/boot.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('boot flags', () => {
  it('by default: Liftoff only for the parser', () => {
    expect(bootFlags([], undefined)).toEqual(['--liftoff-only']);
    expect(bootFlags([], '--heap-growing-percent=50')).toEqual(['--liftoff-only']);
  });

  it('a related flag given to node (argv or NODE_OPTIONS) is left as given', () => {
    expect(bootFlags(['--no-liftoff-only'], undefined)).toEqual([]);
    expect(bootFlags([], '--wasm-tier-up')).toEqual([]);
    expect(bootFlags(['--no-wasm-dynamic-tiering'], '')).toEqual([]);
  });

  it('main.ts imports boot.ts before any other module', () => {
    const imports = readFileSync(new URL('src/cli/main.ts', `file://${root}`), 'utf8').match(/^import .*$/gm) ?? [];
    expect(imports[0]).toMatch(/^import '\.\/boot\.js';/);
  });

});
