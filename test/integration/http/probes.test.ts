/** Liveness and readiness probes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './harness.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(async () => {
  await t.close();
});

describe('probes', () => {
  it.each(['/health', '/livez'])('%s is 200 {status:"ok"} without auth', async (path) => {
    t.ready.value = false; // liveness does not depend on readiness
    const res = await fetch(`${t.url}${path}`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('cache-control')).toBe('no-store');
    t.ready.value = true;
  });

  it.each(['/ready', '/readyz'])('%s follows readiness()', async (path) => {
    t.ready.value = true;
    const up = await fetch(`${t.url}${path}`);
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: 'ok' });
    t.ready.value = false;
    const down = await fetch(`${t.url}${path}`);
    expect(down.status).toBe(503);
    expect(await down.json()).toEqual({ status: 'unavailable' });
    t.ready.value = true;
  });

  it('HEAD works for probes', async () => {
    const res = await fetch(`${t.url}/livez`, { method: 'HEAD' });
    expect(res.status).toBe(200);
  });
});
