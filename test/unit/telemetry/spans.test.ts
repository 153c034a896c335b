import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/core/errors.js';
import { dbOperationInfo } from '../../../src/telemetry/index.js';
import { dataPoints, decisionFor, metricUnit, spanNamed, startPipeline, type Pipeline } from './helpers.js';

const SECRET_SQL = "SELECT * FROM app.customers WHERE email = 'secret-literal@x.test' AND id > 4242424242";
const TOKEN = 'secret-token-0123456789abcdef0123456789abcdef';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

let p: Pipeline;
beforeEach(() => {
  p = startPipeline();
});
afterEach(async () => {
  await p.close();
});

/** The gateway's flow for one `query` call, as the integrator wires it. */
async function queryCall(telemetry: ReturnType<Pipeline['telemetry']>, sql: string, dbFails?: Error): Promise<unknown> {
  return telemetry.httpRequest(
    {
      method: 'POST',
      route: '/mcp',
      headers: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, authorization: `Bearer ${TOKEN}`, 'x-sql': sql },
      scheme: 'http',
      clientAddress: '127.0.0.1',
    },
    async (http) => {
      try {
        return await telemetry.toolCall('query', { principal: 'analyst', requestId: 'req-1', database: 'main', jsonrpcId: 7 }, async (scope) => {
          const decision = await decisionFor(sql, { decision: 'allow', kind: 'read', relations: ['app.customers'], reasons: [] });
          telemetry.guardDecision(decision, 35);
          const rows = await telemetry.dbOperation(dbOperationInfo('main', decision), async (db) => {
            if (dbFails) throw dbFails;
            db.setReturnedRows(3);
            return 3;
          });
          telemetry.metrics.rowsReturned(rows, 'query');
          telemetry.metrics.maskedCells(6, 'query');
          scope.finish({ decision: 'allowed', reasons: [], database: 'main', kind: 'read', rows, truncated: false });
          return rows;
        });
      } finally {
        http.setStatusCode(200);
      }
    },
  );
}

describe('spans of a query call', () => {
  it('nest HTTP → tools/call → guard + DB client span, under the incoming trace', async () => {
    const t = p.telemetry({ recordQueryText: true });
    expect(await queryCall(t, SECRET_SQL)).toBe(3);
    const spans = p.spans.getFinishedSpans();
    const http = spanNamed(spans, 'POST /mcp');
    const tool = spanNamed(spans, 'tools/call query');
    const guard = spanNamed(spans, 'pgwarden.guard');
    const db = spanNamed(spans, 'SELECT app.customers');

    expect(http.spanContext().traceId).toBe(TRACE_ID);
    expect(http.parentSpanContext?.spanId).toBe(PARENT_ID);
    expect(http.kind).toBe(SpanKind.SERVER);
    expect(http.attributes).toMatchObject({ 'http.request.method': 'POST', 'http.route': '/mcp', 'http.response.status_code': 200, 'url.scheme': 'http' });

    expect(tool.parentSpanContext?.spanId).toBe(http.spanContext().spanId);
    expect(tool.kind).toBe(SpanKind.INTERNAL);
    expect(tool.attributes).toMatchObject({
      'mcp.method.name': 'tools/call',
      'gen_ai.tool.name': 'query',
      'gen_ai.operation.name': 'execute_tool',
      'jsonrpc.request.id': '7',
      'pgwarden.principal': 'analyst',
      'pgwarden.request_id': 'req-1',
      'pgwarden.decision': 'allowed',
      'pgwarden.database': 'main',
      'pgwarden.statement.kind': 'read',
      'pgwarden.rows': 3,
    });

    expect(guard.parentSpanContext?.spanId).toBe(tool.spanContext().spanId);
    expect(guard.attributes).toMatchObject({ 'pgwarden.decision': 'allow', 'pgwarden.statement.kind': 'read', 'pgwarden.relations': ['app.customers'], 'pgwarden.guard.cached': false });
    expect(guard.attributes['pgwarden.statement.fingerprint']).toMatch(/^[0-9a-f]+$/);
    // back-dated by the guard's elapsed time (35 µs)
    const guardUs = (guard.endTime[0] - guard.startTime[0]) * 1e6 + (guard.endTime[1] - guard.startTime[1]) / 1e3;
    expect(guardUs).toBeGreaterThan(30);
    expect(guardUs).toBeLessThan(40);

    expect(db.parentSpanContext?.spanId).toBe(tool.spanContext().spanId);
    expect(db.kind).toBe(SpanKind.CLIENT);
    expect(db.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.namespace': 'main',
      'db.operation.name': 'SELECT',
      'db.collection.name': 'app.customers',
      'db.query.summary': 'SELECT app.customers',
      'db.query.text': 'SELECT * FROM app.customers WHERE email = $1 AND id > $2',
      'db.response.returned_rows': 3,
    });
    expect(db.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('never carries the literal, the token or other headers anywhere in spans or metrics', async () => {
    await queryCall(p.telemetry({ recordQueryText: true }), SECRET_SQL);
    const pgError = Object.assign(new Error('invalid input syntax for type integer: "secret-literal@x.test"'), { code: '22P02', detail: 'secret-literal' });
    await expect(queryCall(p.telemetry({ recordQueryText: true }), SECRET_SQL, pgError)).rejects.toBe(pgError);
    const gwError = new GatewayError('DATABASE_ERROR', 'failed near "secret-literal@x.test"', { details: { sqlstate: '42703' } });
    await expect(queryCall(p.telemetry(), SECRET_SQL, gwError)).rejects.toBe(gwError);

    const all = await p.everything();
    expect(p.spans.getFinishedSpans().length).toBe(12);
    expect(all).toContain('SELECT app.customers'); // the dump is real
    expect(all).not.toContain('secret-literal');
    expect(all).not.toContain('4242424242');
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain('x-sql');
  });

  it('a failed statement: SQLSTATE in db.response.status_code and error.type, ERROR status, no message, no exception event', async () => {
    const pgError = Object.assign(new Error('invalid input syntax for type integer: "secret-literal"'), { code: '22P02' });
    await expect(queryCall(p.telemetry(), SECRET_SQL, pgError)).rejects.toBe(pgError);
    const spans = p.spans.getFinishedSpans();
    const db = spanNamed(spans, 'SELECT app.customers');
    expect(db.attributes).toMatchObject({ 'db.response.status_code': '22P02', 'error.type': '22P02' });
    expect(db.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(db.events).toEqual([]);
    const tool = spanNamed(spans, 'tools/call query');
    expect(tool.attributes).toMatchObject({ 'pgwarden.decision': 'failed', 'error.type': '22P02', 'db.response.status_code': '22P02' });
    expect(tool.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(db.attributes['db.query.text']).toBeUndefined(); // record_query_text off
  });

  it('a blocked decision: reason codes on the span and in metrics, never the reason messages', async () => {
    const t = p.telemetry();
    const sql = "SELECT * FROM internal.api_keys WHERE key = 'secret-literal'";
    await t.toolCall('query', { principal: 'analyst' }, async (scope) => {
      const d = await decisionFor(sql, {
        decision: 'block',
        kind: 'read',
        relations: ['internal.api_keys'],
        reasons: [{ code: 'DENIED_TABLE', message: "internal.api_keys is denied (key = 'secret-literal')", fix: 'secret-literal' }] as never,
      });
      t.guardDecision(d, 10);
      scope.finish({ decision: 'blocked', reasons: d.reasons.map((r) => r.code) });
    });
    const spans = p.spans.getFinishedSpans();
    expect(spanNamed(spans, 'tools/call query').kind).toBe(SpanKind.SERVER); // no HTTP parent: the MCP server span
    const codes = spanNamed(spans, 'pgwarden.guard').attributes['pgwarden.reasons'] as string[];
    expect(codes[0]).toMatch(/^DENIED_(TABLE|SCHEMA)$/);
    expect(spanNamed(spans, 'tools/call query').attributes).toMatchObject({ 'pgwarden.decision': 'blocked', 'pgwarden.reasons': codes });
    expect(spanNamed(spans, 'pgwarden.guard').attributes).toMatchObject({ 'pgwarden.decision': 'block', 'pgwarden.relations': ['internal.api_keys'] });
    const m = await p.metrics();
    expect(dataPoints(m, 'pgwarden.guard.reasons')).toEqual(codes.map((c) => ({ attributes: { 'pgwarden.reason': c, 'pgwarden.decision': 'block' }, value: 1 })));
    expect(await p.everything()).not.toContain('secret-literal');
  });

  it('takes the parent from a W3C carrier (params._meta) when no span is active', async () => {
    const t = p.telemetry();
    await t.toolCall('status', { carrier: { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, other: 'ignored' } }, async () => undefined);
    const tool = spanNamed(p.spans.getFinishedSpans(), 'tools/call status');
    expect(tool.spanContext().traceId).toBe(TRACE_ID);
    expect(tool.parentSpanContext?.spanId).toBe(PARENT_ID);
  });
});

describe('metrics', () => {
  it('records durations in seconds and bounded labels only', async () => {
    const t = p.telemetry();
    await queryCall(t, SECRET_SQL);
    t.metrics.blastRadius(120, 'delete', 'held');
    const m = await p.metrics();
    expect(metricUnit(m, 'db.client.operation.duration')).toBe('s');
    const db = dataPoints(m, 'db.client.operation.duration');
    expect(db).toHaveLength(1);
    expect(db[0]?.attributes).toEqual({ 'db.system.name': 'postgresql', 'db.namespace': 'main', 'db.operation.name': 'SELECT' });
    const value = db[0]?.value as { count: number; sum: number };
    expect(value.count).toBe(1);
    expect(value.sum).toBeLessThan(1); // seconds, not ms
    expect(dataPoints(m, 'pgwarden.tool.call.duration')[0]?.attributes).toEqual({ 'pgwarden.tool': 'query', 'pgwarden.decision': 'allowed' });
    expect(dataPoints(m, 'pgwarden.guard.decisions')).toEqual([{ attributes: { 'pgwarden.decision': 'allow', 'pgwarden.statement.kind': 'read' }, value: 1 }]);
    expect(dataPoints(m, 'pgwarden.masked.cells')).toEqual([{ attributes: { 'pgwarden.tool': 'query' }, value: 6 }]);
    expect((dataPoints(m, 'pgwarden.rows.returned')[0]?.value as { sum: number }).sum).toBe(3);
    expect(dataPoints(m, 'db.client.response.returned_rows')).toEqual([]); // span attribute only
    expect(dataPoints(m, 'pgwarden.write.blast_radius')[0]?.attributes).toEqual({ 'pgwarden.write.kind': 'delete', 'pgwarden.decision': 'held' });
    expect(metricUnit(m, 'pgwarden.guard.duration')).toBe('s');
    // relations are span attributes, never metric labels
    expect(JSON.stringify(m)).not.toContain('app.customers');
  });

  it('maps unexpected label values to other instead of passing them through', async () => {
    const t = p.telemetry();
    await t.toolCall("query' OR 1=1", {}, async (s) => s.finish({ decision: "allowed'; DROP", reasons: ['not a code'] }));
    const m = await p.metrics();
    expect(dataPoints(m, 'pgwarden.tool.call.duration')[0]?.attributes).toEqual({ 'pgwarden.tool': 'other', 'pgwarden.decision': 'other' });
    expect(spanNamed(p.spans.getFinishedSpans(), 'tools/call other').attributes['pgwarden.reasons']).toEqual(['OTHER']);
  });

  it('observes pools, audit and approvals through callbacks', async () => {
    const t = p.telemetry();
    t.observePools(() => [{ database: 'main', total: 5, idle: 2, waiting: 1, activeReads: 3, max: 10 }]);
    t.observeAudit(() => ({ sink: 'file', queued: 4, written: 100, dropped: 2, failed: 1, healthy: true, lastError: 'EACCES (open)' }));
    t.observeApprovals(async () => 7);
    t.observePools(() => {
      throw new Error('broken stats');
    });
    const m = await p.metrics();
    expect(dataPoints(m, 'db.client.connection.count')).toEqual([
      { attributes: { 'db.client.connection.pool.name': 'main', 'db.client.connection.state': 'idle' }, value: 2 },
      { attributes: { 'db.client.connection.pool.name': 'main', 'db.client.connection.state': 'used' }, value: 3 },
    ]);
    expect(dataPoints(m, 'db.client.connection.pending_requests')[0]?.value).toBe(1);
    expect(dataPoints(m, 'db.client.connection.max')[0]?.value).toBe(10);
    expect(dataPoints(m, 'pgwarden.db.active_reads')[0]?.value).toBe(3);
    expect(dataPoints(m, 'pgwarden.audit.queue.depth')[0]?.value).toBe(4);
    expect(dataPoints(m, 'pgwarden.audit.dropped')[0]?.value).toBe(2);
    expect(dataPoints(m, 'pgwarden.audit.written')[0]?.value).toBe(100);
    expect(dataPoints(m, 'pgwarden.audit.healthy')[0]?.value).toBe(1);
    expect(dataPoints(m, 'pgwarden.approvals.pending')[0]?.value).toBe(7);
  });

  it('stops observing after unregister', async () => {
    const t = p.telemetry();
    let calls = 0;
    const off = t.observeApprovals(() => ++calls);
    await p.metrics();
    off();
    await p.metrics();
    expect(calls).toBe(1);
  });
});

describe('unsampled', () => {
  it('runs the wrapped work, exports no span, still records metrics', async () => {
    await p.close();
    p = startPipeline({ unsampled: true });
    const t = p.telemetry({ recordQueryText: true });
    expect(await queryCall(t, SECRET_SQL)).toBe(3);
    expect(p.spans.getFinishedSpans()).toEqual([]);
    const m = await p.metrics();
    expect(dataPoints(m, 'db.client.operation.duration')).toHaveLength(1);
    expect(dataPoints(m, 'pgwarden.guard.decisions')).toHaveLength(1);
  });
});
