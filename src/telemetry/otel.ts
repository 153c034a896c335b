/**
 * Telemetry over @opentelemetry/api only: spans and metrics go to whatever SDK is registered
 * (sdk.ts registers one; tests register their own). Without an SDK every call is the API's no-op.
 *
 * Guarantees: no span name, attribute, event or metric label is built from SQL text except the
 * opt-in db.query.text, which is the normalized statement re-scrubbed by redactLiterals; error
 * messages are never recorded (no recordException: a database message can quote a literal), only
 * codes; metric labels go through the bounded-label helpers (tool, decision, kind, reason code,
 * SQLSTATE, operation, database name) and never carry relations, principals or request ids.
 * Unsampled spans cost one non-recording span: attributes are only computed when recording.
 * Does not: scrub identifiers (relation and function names appear on spans), or start an SDK.
 */
import {
  context,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type BatchObservableResult,
  type Context,
  type Counter,
  type Histogram,
  type Meter,
  type MeterProvider,
  type ObservableGauge,
  type ObservableUpDownCounter,
  type ObservableCounter,
  type Span,
  type TextMapGetter,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { Decision } from '../guard/types.js';
import {
  codeLabel,
  decisionLabel,
  errorInfo,
  kindLabel,
  nameLabel,
  operationLabel,
  redactLiterals,
  writeKindLabel,
} from './sanitize.js';
import * as sc from './semconv.js';
import type {
  AuditObservation,
  DbOperationInfo,
  DbOperationScope,
  HttpRequestInfo,
  HttpRequestScope,
  HttpResponseInfo,
  PoolObservation,
  Telemetry,
  TelemetryMetrics,
  ToolCallAttributes,
  ToolCallOutcome,
  ToolCallScope,
  Unregister,
} from './types.js';

export interface OtelTelemetryOptions {
  /** telemetry.record_query_text */
  recordQueryText?: boolean;
  description?: string;
  /** Defaults: the globally registered providers. */
  tracerProvider?: TracerProvider;
  meterProvider?: MeterProvider;
  /** service.version / instrumentation scope version. */
  version?: string;
  metricsServer?: { host: string; port: number };
  /** Flush and stop whatever sdk.ts started. */
  onShutdown?: () => Promise<void>;
}

const SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const ROW_BUCKETS = [0, 1, 10, 50, 100, 500, 1_000, 5_000, 10_000, 100_000, 1_000_000];
const HTTP_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE']);
const MAX_ARRAY_ATTR = 64;
/** Route patterns as fastify reports them (`/admin/approvals/:id`); anything else is `unmatched`. */
const HTTP_ROUTE_RE = /^\/[A-Za-z0-9/_.:{}-]{0,100}$/;

/** Reads only the W3C fields, and only string values, from an arbitrary carrier (e.g. params._meta). */
const CARRIER_GETTER: TextMapGetter<Record<string, unknown>> = {
  keys: (c) => Object.keys(c).filter((k) => k === 'traceparent' || k === 'tracestate' || k === 'baggage'),
  get: (c, k) => {
    if (k !== 'traceparent' && k !== 'tracestate' && k !== 'baggage') return undefined;
    const v = c[k];
    if (typeof v === 'string') return v;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
    return undefined;
  },
};

const nowEpochMs = (): number => performance.timeOrigin + performance.now();

function capList(values: readonly string[]): string[] {
  return values.length > MAX_ARRAY_ATTR ? values.slice(0, MAX_ARRAY_ATTR) : [...values];
}

function reasonCodes(reasons: readonly (string | { code: string })[] | undefined): string[] {
  if (!reasons) return [];
  return capList(reasons.map((r) => codeLabel(typeof r === 'string' ? r : r.code)));
}

function finiteCount(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined;
}

class ToolScope implements ToolCallScope {
  outcome: ToolCallOutcome | undefined;
  error: unknown = undefined;
  failed = false;
  constructor(readonly span: Span) {}
  finish(outcome: ToolCallOutcome): void {
    this.outcome = outcome;
  }
}

class DbScope implements DbOperationScope {
  constructor(readonly span: Span) {}
  setReturnedRows(rows: number): void {
    if (Number.isFinite(rows) && rows >= 0) this.span.setAttribute(sc.ATTR_DB_RESPONSE_RETURNED_ROWS, rows);
  }
}

class HttpScope implements HttpRequestScope {
  status: number | undefined;
  constructor(readonly span: Span) {}
  setStatusCode(status: number): void {
    if (Number.isInteger(status)) this.status = status;
  }
}

export class OtelTelemetry implements Telemetry {
  readonly enabled = true;
  readonly description: string;
  readonly metricsServer: { host: string; port: number } | undefined;
  readonly metrics: TelemetryMetrics;

  private readonly tracer: Tracer;
  private readonly meter: Meter;
  private readonly recordQueryText: boolean;
  private readonly onShutdown: (() => Promise<void>) | undefined;
  private shutdownPromise: Promise<void> | undefined;

  private readonly toolDuration: Histogram;
  private readonly guardDecisions: Counter;
  private readonly guardReasons: Counter;
  private readonly guardDuration: Histogram;
  private readonly dbDuration: Histogram;
  private readonly rowsReturned: Histogram;
  private readonly maskedCells: Counter;
  private readonly blastRadius: Histogram;
  private readonly httpDuration: Histogram;
  private readonly httpRefusals: Counter;
  private readonly authFailures: Counter;
  private readonly rateLimited: Counter;

  constructor(options: OtelTelemetryOptions = {}) {
    const version = options.version;
    this.tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer('pgwarden', version);
    this.meter = (options.meterProvider ?? metrics.getMeterProvider()).getMeter('pgwarden', version);
    this.recordQueryText = options.recordQueryText === true;
    this.description = options.description ?? 'opentelemetry';
    this.metricsServer = options.metricsServer;
    this.onShutdown = options.onShutdown;

    const m = this.meter;
    this.toolDuration = m.createHistogram(sc.METRIC_TOOL_CALL_DURATION, {
      description: 'Duration of MCP tool calls, by tool and outcome.',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    });
    this.guardDecisions = m.createCounter(sc.METRIC_GUARD_DECISIONS, { description: 'Guard decisions, by decision and statement kind.', unit: '{decision}' });
    this.guardReasons = m.createCounter(sc.METRIC_GUARD_REASONS, { description: 'Reason codes the guard gave, by code and decision.', unit: '{reason}' });
    this.guardDuration = m.createHistogram(sc.METRIC_GUARD_DURATION, {
      description: 'Time the guard took to judge a statement.',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.00001, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05] },
    });
    this.dbDuration = m.createHistogram(sc.METRIC_DB_CLIENT_OPERATION_DURATION, {
      description: 'Duration of database client operations.',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10] },
    });
    this.rowsReturned = m.createHistogram(sc.METRIC_ROWS_RETURNED, {
      description: 'Rows handed to the agent per tool call (after caps).',
      unit: '{row}',
      advice: { explicitBucketBoundaries: ROW_BUCKETS },
    });
    this.maskedCells = m.createCounter(sc.METRIC_MASKED_CELLS, { description: 'Result cells replaced by masking.', unit: '{cell}' });
    this.blastRadius = m.createHistogram(sc.METRIC_BLAST_RADIUS, {
      description: 'Rows a write would touch, measured before it ran.',
      unit: '{row}',
      advice: { explicitBucketBoundaries: ROW_BUCKETS },
    });

    this.httpDuration = m.createHistogram(sc.METRIC_HTTP_SERVER_REQUEST_DURATION, {
      description: 'Duration of HTTP server requests, every route.',
      unit: 's',
      advice: { explicitBucketBoundaries: SECONDS_BUCKETS },
    });
    this.httpRefusals = m.createCounter(sc.METRIC_HTTP_REFUSALS, { description: 'HTTP requests refused before any tool ran, by route and code.', unit: '{request}' });
    this.authFailures = m.createCounter(sc.METRIC_AUTH_FAILURES, { description: 'Requests refused for a missing, malformed, unknown or expired bearer token.', unit: '{request}' });
    this.rateLimited = m.createCounter(sc.METRIC_RATE_LIMITED, { description: 'Requests answered 429 by the per-IP or per-principal limit.', unit: '{request}' });
    m.createObservableGauge(sc.METRIC_BUILD_INFO, { description: 'Always 1; the labels carry the gateway and Node.js versions.', unit: '1' }).addCallback((r) => {
      r.observe(1, { [sc.ATTR_SERVICE_VERSION]: version ?? 'unknown', [sc.ATTR_PROCESS_RUNTIME_VERSION]: process.versions.node });
    });

    this.metrics = {
      httpResponse: (info) => this.recordHttpResponse(info),
      rowsReturned: (rows, tool) => {
        const n = finiteCount(rows);
        if (n !== undefined) this.rowsReturned.record(n, { [sc.ATTR_TOOL]: nameLabel(tool) });
      },
      maskedCells: (cells, tool) => {
        const n = finiteCount(cells);
        if (n !== undefined && n > 0) this.maskedCells.add(n, { [sc.ATTR_TOOL]: nameLabel(tool) });
      },
      blastRadius: (rows, writeKind, decision) => {
        const n = finiteCount(rows);
        if (n !== undefined) this.blastRadius.record(n, { [sc.ATTR_WRITE_KIND]: writeKindLabel(writeKind), [sc.ATTR_DECISION]: decisionLabel(decision) });
      },
    };
  }

  private recordHttpResponse(info: HttpResponseInfo): void {
    const method = HTTP_METHODS.has(info.method.toUpperCase()) ? info.method.toUpperCase() : '_OTHER';
    const route = HTTP_ROUTE_RE.test(info.route) ? info.route : 'unmatched';
    const status = Number.isInteger(info.status) && info.status >= 100 && info.status <= 599 ? info.status : 0;
    const duration = Number.isFinite(info.durationS) && info.durationS >= 0 ? info.durationS : 0;
    this.httpDuration.record(duration, { [sc.ATTR_HTTP_REQUEST_METHOD]: method, [sc.ATTR_HTTP_ROUTE]: route, [sc.ATTR_HTTP_RESPONSE_STATUS_CODE]: status });
    if (status < 400) return;
    const reason = info.refusal !== undefined ? codeLabel(info.refusal) : `HTTP_${status}`;
    const labels = { [sc.ATTR_HTTP_ROUTE]: route, [sc.ATTR_REASON]: reason };
    this.httpRefusals.add(1, { ...labels, [sc.ATTR_HTTP_RESPONSE_STATUS_CODE]: status });
    if (status === 401) this.authFailures.add(1, labels);
    if (status === 429) this.rateLimited.add(1, { [sc.ATTR_HTTP_ROUTE]: route });
  }

  // ---------------------------------------------------------------- spans

  toolCall<T>(tool: string, attrs: ToolCallAttributes, fn: (scope: ToolCallScope) => Promise<T>): Promise<T> {
    const started = performance.now();
    const toolName = nameLabel(tool);
    const active = context.active();
    const hasParent = trace.getSpan(active) !== undefined;
    const parent = !hasParent && attrs.carrier !== undefined ? propagation.extract(active, attrs.carrier, CARRIER_GETTER) : active;
    const span = this.tracer.startSpan(
      `tools/call ${toolName}`,
      {
        // The MCP server span; INTERNAL when it already runs under our HTTP server span.
        kind: hasParent ? SpanKind.INTERNAL : SpanKind.SERVER,
        attributes: { [sc.ATTR_MCP_METHOD_NAME]: 'tools/call', [sc.ATTR_GEN_AI_TOOL_NAME]: toolName },
      },
      parent,
    );
    if (span.isRecording()) {
      const a: Attributes = { [sc.ATTR_GEN_AI_OPERATION_NAME]: 'execute_tool' };
      if (attrs.principal !== undefined) a[sc.ATTR_PRINCIPAL] = nameLabel(attrs.principal);
      if (attrs.requestId !== undefined) a[sc.ATTR_REQUEST_ID] = String(attrs.requestId).slice(0, 128);
      if (attrs.database !== undefined) a[sc.ATTR_DATABASE] = nameLabel(attrs.database);
      if (attrs.jsonrpcId !== undefined) a[sc.ATTR_JSONRPC_REQUEST_ID] = String(attrs.jsonrpcId).slice(0, 128);
      if (attrs.protocolVersion !== undefined) a[sc.ATTR_MCP_PROTOCOL_VERSION] = String(attrs.protocolVersion).slice(0, 32);
      span.setAttributes(a);
    }
    const scope = new ToolScope(span);
    let result: Promise<T>;
    try {
      result = context.with(trace.setSpan(parent, span), fn, undefined, scope);
    } catch (err) {
      result = Promise.reject(err);
    }
    return result.then(
      (value) => {
        this.endTool(scope, toolName, started);
        return value;
      },
      (err: unknown) => {
        scope.failed = true;
        scope.error = err;
        this.endTool(scope, toolName, started);
        throw err;
      },
    );
  }

  private endTool(scope: ToolScope, tool: string, started: number): void {
    const o = scope.outcome;
    const decision = scope.failed ? 'failed' : decisionLabel(o?.decision ?? 'unknown');
    const span = scope.span;
    if (span.isRecording()) {
      const a: Attributes = { [sc.ATTR_DECISION]: decision };
      const codes = reasonCodes(o?.reasons);
      if (codes.length > 0) a[sc.ATTR_REASONS] = codes;
      if (o?.database !== undefined) a[sc.ATTR_DATABASE] = nameLabel(o.database);
      if (o?.kind !== undefined) a[sc.ATTR_STATEMENT_KIND] = kindLabel(o.kind);
      if (finiteCount(o?.rows) !== undefined) a[sc.ATTR_ROWS] = o?.rows as number;
      if (o?.truncated !== undefined) a[sc.ATTR_TRUNCATED] = o.truncated;
      if (decision === 'failed') {
        const info = scope.failed ? errorInfo(scope.error) : undefined;
        const sqlstate = info?.sqlstate ?? (o?.sqlstate !== undefined ? codeLabel(o.sqlstate) : undefined);
        if (sqlstate !== undefined) a[sc.ATTR_DB_RESPONSE_STATUS_CODE] = sqlstate;
        a[sc.ATTR_ERROR_TYPE] = info?.type ?? sqlstate ?? codes[0] ?? 'failed';
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.setAttributes(a);
    }
    span.end();
    this.toolDuration.record((performance.now() - started) / 1000, { [sc.ATTR_TOOL]: tool, [sc.ATTR_DECISION]: decision });
  }

  guardDecision(decision: Decision, elapsedUs?: number): void {
    const d = decisionLabel(decision.decision);
    const kind = kindLabel(decision.kind);
    this.guardDecisions.add(1, { [sc.ATTR_DECISION]: d, [sc.ATTR_STATEMENT_KIND]: kind });
    for (const r of decision.reasons) this.guardReasons.add(1, { [sc.ATTR_REASON]: codeLabel(r.code), [sc.ATTR_DECISION]: d });
    const us = elapsedUs !== undefined && Number.isFinite(elapsedUs) && elapsedUs >= 0 ? elapsedUs : undefined;
    if (us !== undefined) this.guardDuration.record(us / 1e6, { [sc.ATTR_GUARD_CACHED]: decision.cached === true });

    const active = context.active();
    const parent = trace.getSpan(active);
    if (parent !== undefined && !parent.isRecording()) return;
    const end = nowEpochMs();
    const span = this.tracer.startSpan('pgwarden.guard', { kind: SpanKind.INTERNAL, startTime: end - (us ?? 0) / 1000 }, active);
    if (span.isRecording()) {
      const a: Attributes = {
        [sc.ATTR_DECISION]: d,
        [sc.ATTR_STATEMENT_KIND]: kind,
        [sc.ATTR_GUARD_CACHED]: decision.cached === true,
        [sc.ATTR_GUARD_OBSERVED]: decision.observed === true,
        [sc.ATTR_REASONS]: reasonCodes(decision.reasons),
        [sc.ATTR_RELATIONS]: capList(decision.relations),
        [sc.ATTR_FUNCTIONS]: capList(decision.functions),
      };
      if (decision.writeKind !== undefined) a[sc.ATTR_WRITE_KIND] = writeKindLabel(decision.writeKind);
      if (/^[0-9a-f]{1,64}$/i.test(decision.fingerprint)) a[sc.ATTR_FINGERPRINT] = decision.fingerprint;
      span.setAttributes(a);
    }
    span.end(end);
  }

  dbOperation<T>(info: DbOperationInfo, fn: (scope: DbOperationScope) => Promise<T>): Promise<T> {
    const started = performance.now();
    const operation = operationLabel(info.operation);
    const namespace = nameLabel(info.database);
    const metricAttrs: Attributes = {
      [sc.ATTR_DB_SYSTEM_NAME]: sc.DB_SYSTEM_NAME_VALUE_POSTGRESQL,
      [sc.ATTR_DB_NAMESPACE]: namespace,
      [sc.ATTR_DB_OPERATION_NAME]: operation,
    };
    const active = context.active();
    const parent = trace.getSpan(active);
    const spanName = parent === undefined || parent.isRecording() ? dbSpanName(info, operation) : operation;
    const span = this.tracer.startSpan(spanName, { kind: SpanKind.CLIENT, attributes: metricAttrs }, active);
    if (span.isRecording()) {
      const a: Attributes = {};
      if (info.collection !== undefined && info.collection !== '') a[sc.ATTR_DB_COLLECTION_NAME] = redactLiterals(info.collection, 255);
      if (info.summary !== undefined && info.summary !== '') a[sc.ATTR_DB_QUERY_SUMMARY] = redactLiterals(info.summary, 255);
      if (this.recordQueryText && info.normalizedSql !== undefined) a[sc.ATTR_DB_QUERY_TEXT] = redactLiterals(info.normalizedSql);
      span.setAttributes(a);
    }
    const scope = new DbScope(span);
    let result: Promise<T>;
    try {
      result = context.with(trace.setSpan(active, span), fn, undefined, scope);
    } catch (err) {
      result = Promise.reject(err);
    }
    return result.then(
      (value) => {
        span.end();
        this.dbDuration.record((performance.now() - started) / 1000, metricAttrs);
        return value;
      },
      (err: unknown) => {
        const e = errorInfo(err);
        const failed: Attributes = { ...metricAttrs, [sc.ATTR_ERROR_TYPE]: e.type };
        if (e.sqlstate !== undefined) failed[sc.ATTR_DB_RESPONSE_STATUS_CODE] = e.sqlstate;
        span.setAttributes(failed);
        span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
        this.dbDuration.record((performance.now() - started) / 1000, failed);
        throw err;
      },
    );
  }

  httpRequest<T>(info: HttpRequestInfo, fn: (scope: HttpRequestScope) => Promise<T>): Promise<T> {
    const method = HTTP_METHODS.has(info.method.toUpperCase()) ? info.method.toUpperCase() : '_OTHER';
    const route = /^\/[A-Za-z0-9/_.:{}-]{0,100}$/.test(info.route) ? info.route : '/other';
    const parent = propagation.extract(context.active(), info.headers as Record<string, unknown>, CARRIER_GETTER);
    const span = this.tracer.startSpan(
      `${method} ${route}`,
      { kind: SpanKind.SERVER, attributes: { [sc.ATTR_HTTP_REQUEST_METHOD]: method, [sc.ATTR_HTTP_ROUTE]: route } },
      parent,
    );
    if (span.isRecording()) {
      if (info.scheme === 'http' || info.scheme === 'https') span.setAttribute(sc.ATTR_URL_SCHEME, info.scheme);
      if (info.clientAddress !== undefined) span.setAttribute(sc.ATTR_CLIENT_ADDRESS, info.clientAddress.slice(0, 64));
    }
    const scope = new HttpScope(span);
    let result: Promise<T>;
    try {
      result = context.with(trace.setSpan(parent, span), fn, undefined, scope);
    } catch (err) {
      result = Promise.reject(err);
    }
    const finish = (err: unknown, threw: boolean): void => {
      const status = scope.status;
      if (status !== undefined) span.setAttribute(sc.ATTR_HTTP_RESPONSE_STATUS_CODE, status);
      if (threw || (status !== undefined && status >= 500)) {
        span.setAttribute(sc.ATTR_ERROR_TYPE, threw ? errorInfo(err).type : String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    };
    return result.then(
      (value) => {
        finish(undefined, false);
        return value;
      },
      (err: unknown) => {
        finish(err, true);
        throw err;
      },
    );
  }

  // ---------------------------------------------------------------- observed metrics

  observePools(cb: () => Iterable<PoolObservation>): Unregister {
    const count = this.meter.createObservableUpDownCounter(sc.METRIC_DB_CLIENT_CONNECTION_COUNT, {
      description: 'Connections in the pool, by state (idle, used).',
      unit: '{connection}',
    });
    const pending = this.meter.createObservableUpDownCounter(sc.METRIC_DB_CLIENT_CONNECTION_PENDING_REQUESTS, {
      description: 'Requests waiting for a connection.',
      unit: '{request}',
    });
    const max = this.meter.createObservableUpDownCounter(sc.METRIC_DB_CLIENT_CONNECTION_MAX, { description: 'Maximum connections allowed.', unit: '{connection}' });
    const active = this.meter.createObservableGauge(sc.METRIC_DB_ACTIVE_READS, { description: 'Agent statements running now.', unit: '{statement}' });
    const observables = [count, pending, max, active];
    const callback = (r: BatchObservableResult): void => {
      let stats: Iterable<PoolObservation>;
      try {
        stats = cb();
        for (const s of stats) observePool(r, s, count, pending, max, active);
      } catch {
        // a failing stats() must not break the export of every other metric
      }
    };
    this.meter.addBatchObservableCallback(callback, observables);
    return () => this.meter.removeBatchObservableCallback(callback, observables);
  }

  observeAudit(cb: () => AuditObservation): Unregister {
    const depth = this.meter.createObservableGauge(sc.METRIC_AUDIT_QUEUE_DEPTH, { description: 'Audit records accepted, not yet written.', unit: '{record}' });
    const dropped = this.meter.createObservableCounter(sc.METRIC_AUDIT_DROPPED, { description: 'Audit records lost (queue full or sink failing with on_failure: drop).', unit: '{record}' });
    const written = this.meter.createObservableCounter(sc.METRIC_AUDIT_WRITTEN, { description: 'Audit records written.', unit: '{record}' });
    const failed = this.meter.createObservableCounter(sc.METRIC_AUDIT_FAILED, { description: 'Failed audit write/open attempts.', unit: '{attempt}' });
    const healthy = this.meter.createObservableGauge(sc.METRIC_AUDIT_HEALTHY, { description: '1 while the audit sink can write, else 0.', unit: '1' });
    const observables = [depth, dropped, written, failed, healthy];
    const callback = (r: BatchObservableResult): void => {
      try {
        const s = cb();
        const put = (o: ObservableGauge | ObservableCounter, v: unknown): void => {
          const n = finiteCount(v);
          if (n !== undefined) r.observe(o, n);
        };
        put(depth, s.queued);
        put(dropped, s.dropped);
        put(written, s.written);
        put(failed, s.failed);
        if (typeof s.healthy === 'boolean') r.observe(healthy, s.healthy ? 1 : 0);
      } catch {
        // see observePools
      }
    };
    this.meter.addBatchObservableCallback(callback, observables);
    return () => this.meter.removeBatchObservableCallback(callback, observables);
  }

  observeApprovals(cb: () => number | Promise<number>): Unregister {
    const gauge = this.meter.createObservableGauge(sc.METRIC_APPROVALS_PENDING, { description: 'Writes held for approval.', unit: '{write}' });
    const callback = async (r: BatchObservableResult): Promise<void> => {
      try {
        const n = finiteCount(await cb());
        if (n !== undefined) r.observe(gauge, n);
      } catch {
        // see observePools
      }
    };
    this.meter.addBatchObservableCallback(callback, [gauge]);
    return () => this.meter.removeBatchObservableCallback(callback, [gauge]);
  }

  shutdown(): Promise<void> {
    this.shutdownPromise ??= this.onShutdown ? this.onShutdown() : Promise.resolve();
    return this.shutdownPromise;
  }
}

function dbSpanName(info: DbOperationInfo, operation: string): string {
  if (info.summary !== undefined && info.summary !== '') return redactLiterals(info.summary, 255);
  if (info.collection !== undefined && info.collection !== '') return `${operation} ${redactLiterals(info.collection, 200)}`;
  return operation;
}

function observePool(
  r: BatchObservableResult,
  s: PoolObservation,
  count: ObservableUpDownCounter,
  pending: ObservableUpDownCounter,
  max: ObservableUpDownCounter,
  active: ObservableGauge,
): void {
  const pool = { [sc.ATTR_DB_CLIENT_CONNECTION_POOL_NAME]: nameLabel(s.database) };
  const total = finiteCount(s.total);
  const idle = finiteCount(s.idle);
  if (total !== undefined && idle !== undefined) {
    r.observe(count, idle, { ...pool, [sc.ATTR_DB_CLIENT_CONNECTION_STATE]: 'idle' });
    r.observe(count, Math.max(0, total - idle), { ...pool, [sc.ATTR_DB_CLIENT_CONNECTION_STATE]: 'used' });
  }
  const waiting = finiteCount(s.waiting);
  if (waiting !== undefined) r.observe(pending, waiting, pool);
  const m = finiteCount(s.max);
  if (m !== undefined) r.observe(max, m, pool);
  const reads = finiteCount(s.activeReads);
  if (reads !== undefined) r.observe(active, reads, pool);
}

/** For tests and tools: the context a carrier would give (W3C fields only). */
export function contextFromCarrier(carrier: Record<string, unknown>, base: Context = context.active()): Context {
  return propagation.extract(base, carrier, CARRIER_GETTER);
}
