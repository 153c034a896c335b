/**
 * The gateway outlives its database: started while the database is down it serves /livez,
 * answers /readyz 503 and becomes ready when the database comes up; when the database restarts
 * under it, calls fail with a coded error and then recover without restarting pgwarden.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callTool, codes, startE2eGateway, type E2eGateway } from '../../support/gateway.js';
import { clusterUnavailable, startCluster, type TestCluster } from '../../support/postgres.js';

const skip = clusterUnavailable();

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe.skipIf(skip !== undefined)('database outages', () => {
  let cluster: TestCluster;
  let gw: E2eGateway;

  beforeAll(async () => {
    cluster = await startCluster({ seed: true });
    // Down at start: the gateway must still start.
    await cluster.stop();
    gw = await startE2eGateway({ databaseUrl: cluster.gatewayUrl as string });
  }, 120_000);

  afterAll(async () => {
    await gw?.stop();
    await cluster?.dispose();
  });

  it('starts with the database down: live, not ready, and calls get a coded error', async () => {
    expect((await fetch(`${gw.url}/livez`)).status).toBe(200);
    expect((await fetch(`${gw.url}/readyz`)).status).toBe(503);
    const client = await gw.connect('legacy');
    const out = await callTool(client, 'query', { sql: 'SELECT 1 AS one' });
    expect(out.isError).toBe(true);
    expect(codes(out)).toEqual(['DATABASE_UNAVAILABLE']);
    expect(out.text).not.toContain('127.0.0.1');
  });

  it('becomes ready when the database comes up, and serves', async () => {
    await cluster.start();
    expect(await waitFor(async () => (await fetch(`${gw.url}/readyz`)).status === 200, 15_000)).toBe(true);
    const client = await gw.connect('modern');
    const out = await callTool(client, 'query', { sql: 'SELECT count(*)::int AS n FROM app.products' });
    expect(out.isError).toBe(false);
    expect(out.structured.rows).toEqual([[50]]);
  });

  it('survives a database restart while serving', async () => {
    const client = await gw.connect('legacy');
    expect((await callTool(client, 'query', { sql: 'SELECT 1 AS one' })).isError).toBe(false);
    await cluster.stop();
    const during = await callTool(client, 'query', { sql: 'SELECT 1 AS one' });
    expect(during.isError).toBe(true);
    expect(codes(during)).toEqual(['DATABASE_UNAVAILABLE']);
    expect(await waitFor(async () => (await fetch(`${gw.url}/readyz`)).status === 503, 10_000)).toBe(true);
    await cluster.start();
    const recovered = await waitFor(async () => !(await callTool(client, 'query', { sql: 'SELECT 2 AS two' })).isError, 15_000);
    expect(recovered).toBe(true);
    // Readiness is a cached short check: it follows within a few seconds.
    expect(await waitFor(async () => (await fetch(`${gw.url}/readyz`)).status === 200, 10_000)).toBe(true);
  });
});
