import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { allKeyPaths } from '../../../src/config/index.js';

const docs = readFileSync(new URL('../../../docs/configuration.md', import.meta.url), 'utf8');
/** Key paths in the first column of the reference tables. */
const documented = new Set([...docs.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] as string));

describe('docs/configuration.md', () => {
  it('documents every key of the schema', () => {
    const missing = allKeyPaths().filter((k) => !documented.has(k));
    expect(missing, `add rows for these keys to docs/configuration.md`).toEqual([]);
  });

  it('documents no key the schema does not have', () => {
    const keys = new Set(allKeyPaths());
    const stale = [...documented].filter((k) => /^(server|log|guard|audit|databases|principals|policies)\b/.test(k) && !keys.has(k));
    expect(stale, 'remove or rename these rows in docs/configuration.md').toEqual([]);
  });
});
