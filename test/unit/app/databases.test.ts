/**
 * The serve start-up's catalog warm-up (src/app/databases.ts, issue #13): the first snapshot is
 * started before the rest of the gateway loads, and a database that is down at start is not an
 * error there — no unhandled rejection, and the first call that needs the catalog still gets the
 * sanitized error (the cache keeps no failed result).
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabases, warmCatalogs } from '../../../src/app/databases.js';
import { parseConfig } from '../../../src/config/index.js';
import { createLogger } from '../../../src/log/logger.js';

let server: Server;
let port = 0;
let connections = 0;
beforeAll(async () => {
  // a listener that accepts and hangs up at once: a database that is "down" in a way that takes a connection attempt
  server = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('catalog warm-up at start', () => {
  it('starts a connection per database at once; a database that is down costs no unhandled rejection, and the first call still sees its error', async () => {
    const config = parseConfig(
      { databases: { main: { url: `postgres://u:p@127.0.0.1:${port}/db` } }, principals: {}, policies: {} },
      { allowNoTokens: true },
    );
    const databases = openDatabases(config, createLogger('silent'));
    expect([...databases.keys()]).toEqual(['main']);
    warmCatalogs(databases);
    await expect.poll(() => connections, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    await new Promise((r) => setTimeout(r, 50)); // the warm-up's rejection has settled (vitest fails on an unhandled one)
    await expect(databases.get('main')?.catalog()).rejects.toMatchObject({ name: 'GatewayError' });
    expect(connections).toBeGreaterThanOrEqual(2); // the call tried again: no failed snapshot was kept
    await Promise.all([...databases.values()].map((d) => d.end()));
  });
});
