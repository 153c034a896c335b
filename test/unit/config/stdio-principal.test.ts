/** Which principal a stdio session acts as (src/cli/serve.ts stdioPrincipal): an empty PGWARDEN_PRINCIPAL is unset. */
import { afterEach, describe, expect, it } from 'vitest';
import { stdioPrincipal } from '../../../src/cli/serve.js';
import { parseConfig } from '../../../src/config/index.js';
import { DSN, TOKEN_A } from './helpers.js';

const config = parseConfig({
  databases: { main: { url: DSN } },
  principals: { only: { policy: 'p', tokens: [{ token: TOKEN_A }] } },
  policies: { p: { databases: { main: {} } } },
});

afterEach(() => {
  delete process.env.PGWARDEN_PRINCIPAL;
});

describe('stdioPrincipal', () => {
  it('an empty PGWARDEN_PRINCIPAL (a launcher passing an unset setting) falls back to the only principal', () => {
    process.env.PGWARDEN_PRINCIPAL = '';
    expect(stdioPrincipal(config, undefined)).toBe('only');
  });

  it('a named principal must exist', () => {
    process.env.PGWARDEN_PRINCIPAL = 'nobody';
    expect(() => stdioPrincipal(config, undefined)).toThrow('unknown principal "nobody"');
  });
});
