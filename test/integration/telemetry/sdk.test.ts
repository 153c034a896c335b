/**
 * The real SDK path: startTelemetry loads the OpenTelemetry SDK (tracer and meter providers), exports OTLP over HTTP to a
 * local collector stand-in and serves Prometheus text; the bytes that leave the process carry
 * span names and codes, never the statement's literal.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { telemetrySchema } from '../../../src/config/schema.js';
import { dbOperationInfo, startTelemetry, type Telemetry } from '../../../src/telemetry/index.js';
import { decisionFor } from '../../unit/telemetry/helpers.js';

const SECRET_SQL = "SELECT * FROM app.customers WHERE email = 'secret-literal@x.test'";
const silent = pino({ level: 'silent' });

interface Received {
  path: string;
  contentType: string;
  body: Buffer;
}

let collector: Server;
let received: Received[];
let endpoint: string;
let telemetry: Telemetry | undefined;

beforeEach(async () => {
  received = [];
  collector = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let body = Buffer.concat(chunks);
      if (req.headers['content-encoding'] === 'gzip') body = gunzipSync(body);
      received.push({ path: req.url ?? '', contentType: String(req.headers['content-type']), body });
      const json = String(req.headers['content-type']).includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' }).end(json ? '{}' : '');
    });
  });
  await new Promise<void>((r) => collector.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
});

afterEach(async () => {
  await telemetry?.shutdown();
  telemetry = undefined;
  await new Promise<void>((r) => collector.close(() => r()));
});

async function oneQuery(t: Telemetry): Promise<void> {
  await t.toolCall('query', { principal: 'analyst', requestId: 'r1' }, async (scope) => {
    const d = await decisionFor(SECRET_SQL, { decision: 'allow', kind: 'read', relations: ['app.customers'], reasons: [] });
    t.guardDecision(d, 20);
    await t.dbOperation(dbOperationInfo('main', d), async (db) => db.setReturnedRows(2));
    scope.finish({ decision: 'allowed', rows: 2 });
  });
}

function bodies(path: string): string {
  return received
    .filter((r) => r.path === path)
    .map((r) => r.body.toString('latin1'))
    .join('\n');
}

describe('OTLP export through the SDK', () => {
  it.each(['http/protobuf', 'http/json'] as const)('%s: traces and metrics reach the collector without the literal', async (protocol) => {
    const config = telemetrySchema.parse({ otlp_endpoint: endpoint, record_query_text: true, service_name: 'pgwarden-test' });
    telemetry = await startTelemetry({ telemetry: config }, silent, { env: { OTEL_EXPORTER_OTLP_PROTOCOL: protocol }, version: '0.0.0-test' });
    expect(telemetry.enabled).toBe(true);
    expect(telemetry.description).toContain(`traces → OTLP ${protocol}`);
    await oneQuery(telemetry);
    await telemetry.shutdown(); // flushes both signals

    const traces = bodies('/v1/traces');
    const metrics = bodies('/v1/metrics');
    expect(received.find((r) => r.path === '/v1/traces')?.contentType).toContain(protocol === 'http/json' ? 'json' : 'protobuf');
    for (const text of ['tools/call query', 'pgwarden.guard', 'SELECT app.customers', 'db.query.text', 'email = $1', 'pgwarden-test']) expect(traces).toContain(text);
    for (const text of ['db.client.operation.duration', 'pgwarden.tool.call.duration', 'pgwarden.guard.decisions']) expect(metrics).toContain(text);
    expect(traces + metrics).not.toContain('secret-literal');
  });
});

describe('Prometheus endpoint', () => {
  it('serves /metrics on its own loopback listener, and nothing else', async () => {
    const config = telemetrySchema.parse({ prometheus: { enabled: true, port: 0 } });
    telemetry = await startTelemetry({ telemetry: config }, silent, { env: {} });
    const server = telemetry.metricsServer;
    expect(server?.host).toBe('127.0.0.1');
    expect(telemetry.description).toContain(`Prometheus http://127.0.0.1:${server?.port}/metrics`);
    telemetry.observePools(() => [{ database: 'main', total: 3, idle: 1, waiting: 0, activeReads: 2, max: 10 }]);
    await oneQuery(telemetry);
    const base = `http://127.0.0.1:${server?.port}`;
    const res = await fetch(`${base}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^pgwarden_tool_call_duration_count\{.*pgwarden_tool="query".*\} 1$/m);
    expect(text).toMatch(/^db_client_operation_duration_bucket\{/m);
    expect(text).toMatch(/^db_client_connection_count\{.*db_client_connection_state="used".*\} 2$/m);
    expect(text).not.toContain('secret-literal');
    expect(text).not.toContain('app.customers'); // relations are never labels
    expect((await fetch(`${base}/`)).status).toBe(404);
    expect((await fetch(`${base}/metrics`, { method: 'POST' })).status).toBe(405);
    await telemetry.shutdown();
    await expect(fetch(`${base}/metrics`)).rejects.toThrow();
  });

  it('a port in use fails startTelemetry and leaves nothing registered, so a retry works', async () => {
    const busy = telemetrySchema.parse({ prometheus: { enabled: true, port: (collector.address() as AddressInfo).port } });
    await expect(startTelemetry({ telemetry: busy }, silent, { env: {} })).rejects.toThrow(/EADDRINUSE/);
    telemetry = await startTelemetry({ telemetry: telemetrySchema.parse({ prometheus: { enabled: true, port: 0 } }) }, silent, { env: {} });
    await oneQuery(telemetry);
    const text = await (await fetch(`http://127.0.0.1:${telemetry.metricsServer?.port}/metrics`)).text();
    expect(text).toContain('pgwarden_guard_decisions');
  });
});
