/**
 * src/db/pg-load.ts: pg is required with a temporary `navigator` (Node's user agent) when the
 * runtime has none, so its Cloudflare probe answers "no" without constructing a Response (which
 * loads undici on Node 20); the global is gone again afterwards, and a runtime's own navigator is
 * left alone. That pg then takes Node's sockets is checked against the real module.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { requirePg } from '../../../src/db/pg-load.js';

describe('requirePg', () => {
  it('defines navigator only while pg loads, with a user agent that is not Cloudflare-Workers', () => {
    const global: { navigator?: unknown } = {};
    let seen: unknown;
    const out = requirePg((id) => {
      seen = global.navigator;
      return `loaded ${id}`;
    }, global);
    expect(out).toBe('loaded pg');
    expect(seen).toEqual({ userAgent: expect.stringMatching(/^Node\.js\/\d+$/) });
    expect('navigator' in global).toBe(false);
  });

  it('removes the temporary navigator when loading throws', () => {
    const global: { navigator?: unknown } = {};
    expect(() => requirePg(() => { throw new Error('boom'); }, global)).toThrow('boom');
    expect('navigator' in global).toBe(false);
  });

  it("leaves a runtime's own navigator as it is", () => {
    const own = { userAgent: 'Node.js/22' };
    const global: { navigator?: unknown } = { navigator: own };
    requirePg(() => expect(global.navigator).toBe(own), global);
    expect(global.navigator).toBe(own);
  });

  it("exports the pg module itself (the production bundle resolves other modules' `import pg from 'pg'` to it)", async () => {
    const mod = await import('../../../src/db/pg-load.js');
    const pg = createRequire(import.meta.url)('pg') as { Pool: unknown; Client: unknown };
    expect(mod.default).toBe(pg);
    expect(mod.pgModule).toBe(pg);
    expect(typeof mod.default.Pool).toBe('function');
  });

  it('pg loaded this way opens Node sockets (not the Cloudflare ones)', async () => {
    await import('../../../src/db/pg-load.js');
    const require = createRequire(import.meta.url);
    const { getStream } = require('pg/lib/stream.js') as { getStream: (ssl: boolean) => unknown };
    const { Socket } = await import('node:net');
    const socket = getStream(false);
    expect(socket).toBeInstanceOf(Socket);
    (socket as InstanceType<typeof Socket>).destroy();
    expect(typeof (globalThis as { navigator?: unknown }).navigator === 'object').toBe(Number(process.versions.node.split('.')[0]) >= 21);
  });
});
