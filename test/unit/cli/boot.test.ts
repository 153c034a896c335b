/**
 * The pgwarden command's process settings (src/cli/boot.ts, issue #13): Node's module compile
 * cache where Node has it, unless turned off; main.ts imports boot.ts before anything else.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { wantsCompileCache } from '../../../src/cli/boot.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('boot', () => {
  it('enables the compile cache where node has it (Node ≥ 22.1), unless NODE_DISABLE_COMPILE_CACHE is set', () => {
    const enable = (): void => undefined;
    expect(wantsCompileCache(enable, {})).toBe(true);
    expect(wantsCompileCache(undefined, {})).toBe(false); // Node 20
    expect(wantsCompileCache(enable, { NODE_DISABLE_COMPILE_CACHE: '1' })).toBe(false);
  });

  it('main.ts imports boot.ts before any other module', () => {
    const imports = readFileSync(new URL('src/cli/main.ts', `file://${root}`), 'utf8').match(/^import .*$/gm) ?? [];
    expect(imports[0]).toMatch(/^import '\.\/boot\.js';/);
  });
});
