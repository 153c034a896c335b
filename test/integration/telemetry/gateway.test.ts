/**
 * Wiring: a real pgwarden (runtime + HTTP + MCP clients) with telemetry.otlp_endpoint pointing at
 * a local OTLP receiver. A `query` with a secret literal, a blocked statement and a failing one
 * must produce the documented spans, and the literal, the bearer token and the DSN must appear
 * nowhere in what is exported.
 *
 * Runs once the runtime exposes `runtime.telemetry` (the integrator's wiring: startTelemetry in
 * createRuntime, shutdown after the gateway drained); skipped before that.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_TOKENS, callTool, startE2eGateway, type E2eGateway } from '../../support/gateway.js';
import { testDatabase } from '../../support/pg.js';

let collector: Server;
const received: { path: string; body: string }[] = [];
let gw: E2eGateway;
let wired = false;
let stopped = false;
const stop = async (): Promise<void> => {
  if (stopped || !gw) return;
  stopped = true;
  await gw.stop();
};

beforeAll(async () => {
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      received.push({ path: req.url ?? '', body: body.toString('latin1') });
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
  gw = await startE2eGateway({ overrides: { telemetry: { otlp_endpoint: endpoint, record_query_text: true } } });
  wired = 'telemetry' in gw.runtime;
});

afterAll(async () => {
  await stop();
  await new Promise<void>((r) => collector.close(() => r()));
});

describe('telemetry through the gateway', () => {
  it('exports the documented spans and no literal, token or DSN', async (ctx) => {
    if (!wired) ctx.skip(); // runtime.telemetry not wired yet
    const client = await gw.connect('legacy');
    const ok = await callTool(client, 'query', { sql: "SELECT id FROM app.customers WHERE email <> 'secret-literal@x.test' ORDER BY id LIMIT 2" });
    expect(ok.isError).toBe(false);
    const blocked = await callTool(client, 'query', { sql: "SELECT * FROM internal.api_keys WHERE key = 'secret-literal'" });
    expect(blocked.isError).toBe(true);
    const failed = await callTool(client, 'query', { sql: "SELECT id FROM app.customers WHERE id = 'secret-literal'::int" });
    expect(failed.isError).toBe(true);
    await stop(); // drains, then telemetry.shutdown() flushes

    const traces = received.filter((r) => r.path === '/v1/traces').map((r) => r.body).join('\n');
    const metrics = received.filter((r) => r.path === '/v1/metrics').map((r) => r.body).join('\n');
    for (const text of ['POST /mcp', 'tools/call query', 'pgwarden.guard', 'SELECT app.customers', 'db.response.status_code', '22P02', 'jsonrpc.request.id', 'mcp.protocol.version']) expect(traces).toContain(text);
    expect(metrics).toContain('db.client.operation.duration');
    const all = traces + metrics;
    expect(all).not.toContain('secret-literal');
    expect(all).not.toContain(E2E_TOKENS.analyst);
    expect(all).not.toContain(testDatabase().gatewayPassword);
  });
});
