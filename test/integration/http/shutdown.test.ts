/** Graceful stop, cancellation via the per-request AbortSignal, request timeout, client disconnect. */
import { afterEach, describe, expect, it } from 'vitest';
import { connectClient, postMcp, startTestServer, type TestServer } from './harness.js';

const v = { 'mcp-protocol-version': '2025-06-18' };
const slowCall = (ms: number, id = 1) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'slow', arguments: { ms } } });

function waitFor(cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      if (cond()) resolve();
      else if (Date.now() > until) reject(new Error('condition not met in time'));
      else setTimeout(tick, 10);
    };
    tick();
  });
}

let t: TestServer | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

describe('graceful stop', () => {
  it('an in-flight call that finishes within the drain timeout completes normally', async () => {
    t = await startTestServer({ drain_timeout_ms: 3_000 });
    const client = await connectClient(t.mcpUrl, 'modern');
    const call = client.callTool({ name: 'slow', arguments: { ms: 300 } });
    await waitFor(() => t!.slow.started === 1);
    const stopping = t.handle.stop();

    const ready = await fetch(`${t.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'unavailable' });

    const res = await call;
    expect(res.isError).toBeFalsy();
    expect(JSON.parse((res.content as { text: string }[])[0]!.text)).toEqual({ aborted: false });
    expect(await stopping).toEqual({ drained: true, cancelled: 0 });
    await client.close().catch(() => undefined);
  });

  it('refuses new calls with 503 SHUTTING_DOWN; leftovers are cancelled via their signal after the drain timeout', async () => {
    t = await startTestServer({ drain_timeout_ms: 300 });
    const client = await connectClient(t.mcpUrl, 'legacy');
    const started = Date.now();
    const call = client.callTool({ name: 'slow', arguments: { ms: 20_000 } });
    await waitFor(() => t!.slow.started === 1);
    let cancelHookRan = false;
    const stopping = t.handle.stop({
      cancelGraceMs: 2_000,
      onCancel: () => {
        cancelHookRan = true;
      },
    });

    const refused = await postMcp(t.mcpUrl, slowCall(10, 2), { headers: v });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('connection')).toBe('close');
    expect(await refused.json()).toMatchObject({ jsonrpc: '2.0', error: { data: { code: 'SHUTTING_DOWN' } } });
    expect((await fetch(`${t.url}/ready`)).status).toBe(503);
    expect((await fetch(`${t.url}/health`)).status).toBe(200); // still alive while draining

    const res = await call;
    expect(res.isError).toBe(true);
    expect(JSON.parse((res.content as { text: string }[])[0]!.text)).toEqual({ aborted: true, reason: 'shutdown' });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(await stopping).toEqual({ drained: false, cancelled: 1 });
    expect(cancelHookRan).toBe(true);
    expect(t.slow.started).toBe(1); // the refused call never ran
    await client.close().catch(() => undefined);
  });

  it('a handler that ignores its signal cannot hold stop() past drain + grace + flush', async () => {
    t = await startTestServer({ drain_timeout_ms: 200 });
    const pending = postMcp(t.mcpUrl, { ...slowCall(30_000), params: { name: 'slow', arguments: { ms: 30_000, stubborn: true } } }, { headers: v });
    const settled = pending.then(
      (r) => r.text(),
      (e: unknown) => e,
    );
    await waitFor(() => t!.slow.started === 1);
    const began = Date.now();
    expect(await t.handle.stop({ cancelGraceMs: 200 })).toEqual({ drained: false, cancelled: 1 });
    expect(Date.now() - began).toBeLessThan(3_000);
    expect(await settled).toBeInstanceOf(Error); // the connection was cut
  });

  it('stop() is idempotent and the port is released', async () => {
    t = await startTestServer();
    const a = t.handle.stop();
    const b = t.handle.stop();
    expect(a).toBe(b);
    await a;
    await expect(fetch(`${t.url}/health`)).rejects.toThrow();
  });
});

describe('per-request signal', () => {
  it('fires with reason client_disconnected when the HTTP client goes away', async () => {
    t = await startTestServer();
    const ac = new AbortController();
    const pending = postMcp(t.mcpUrl, slowCall(20_000), { headers: v, signal: ac.signal });
    await waitFor(() => t!.slow.started === 1);
    ac.abort();
    await expect(pending).rejects.toThrow();
    await waitFor(() => t!.slow.finished.length === 1);
    expect(t.slow.finished[0]).toEqual({ aborted: true, reason: 'client_disconnected' });
    expect(t.handle.app.pgwardenLifecycle.inFlight).toBe(0);
  });

  it('fires with reason timeout after server.request_timeout_ms', async () => {
    t = await startTestServer({ request_timeout_ms: 300 });
    const started = Date.now();
    const res = await postMcp(t.mcpUrl, slowCall(20_000), { headers: v });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('\\"reason\\":\\"timeout\\"');
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});
