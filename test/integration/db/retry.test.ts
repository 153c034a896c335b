/**
 * The one retry on a fresh connection (readWithRetry) must keep the error a GatewayError when the
 * retry fails too (issue #10 item 5): during a PostgreSQL restart the pool can hold several dead
 * connections, the first attempt and the retry each take one. On 344cc74 the retry's internal
 * error escaped unwrapped and the agent got INTERNAL_ERROR.
 *
 * Dead connections the client does not know about are made with a TCP proxy in front of the real
 * server: `freeze()` turns every open connection into one that resets as soon as it is used.
 */
import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/core/errors.js';
import { testDatabase } from '../../support/pg.js';
import { limits, poolFor, rejection } from './helpers.js';

const t = testDatabase();
const base = () => ({ limits: limits(), searchPath: ['app'] });

class FreezingProxy {
  private pairs: { client: Socket; server: Socket; frozen: boolean }[] = [];
  readonly server: Server;
  constructor(target: { host: string; port: number }) {
    this.server = createServer((client) => {
      const server = connect(target.port, target.host);
      const pair = { client, server, frozen: false };
      this.pairs.push(pair);
      client.on('error', () => undefined);
      server.on('error', () => undefined);
      client.on('data', (d) => {
        if (pair.frozen) {
          client.resetAndDestroy();
          server.destroy();
        } else server.write(d);
      });
      server.on('data', (d) => {
        if (!pair.frozen) client.write(d);
      });
      client.on('close', () => server.destroy());
      server.on('close', () => {
        if (!pair.frozen) client.destroy();
      });
    });
  }
  /** Every connection open now dies silently: it resets when the client next sends. */
  freeze(): void {
    for (const p of this.pairs) p.frozen = true;
  }
  get port(): number {
    return (this.server.address() as { port: number }).port;
  }
}

let proxy: FreezingProxy;
beforeAll(async () => {
  const u = new URL(t.gatewayUrl);
  proxy = new FreezingProxy({ host: u.hostname, port: Number(u.port) });
  await new Promise<void>((r) => proxy.server.listen(0, '127.0.0.1', r));
});
afterAll(() => proxy.server.close());

describe('readWithRetry', () => {
  it('first attempt and retry both on dead pooled connections: DATABASE_UNAVAILABLE (a GatewayError), then the pool recovers', async () => {
    const u = new URL(t.gatewayUrl);
    u.hostname = '127.0.0.1';
    u.port = String(proxy.port);
    const pool = poolFor(u.toString(), { pool: { max: 3 } });
    try {
      // three pooled connections, idle
      await Promise.all([0, 1, 2].map(() => pool.runRead({ ...base(), sql: 'SELECT pg_sleep(0.2)' })));
      expect(pool.stats().idle).toBe(3);
      proxy.freeze();
      const err = await rejection(pool.runRead({ ...base(), sql: 'SELECT 1' }));
      expect(err).toBeInstanceOf(GatewayError);
      expect((err as GatewayError).code).toBe('DATABASE_UNAVAILABLE');
      // the third dead one is replaced by the retry's fresh connection
      const ok = await pool.runRead({ ...base(), sql: 'SELECT 1 AS one' });
      expect(ok.rows).toEqual([[1]]);
    } finally {
      await pool.end();
    }
  });
});
