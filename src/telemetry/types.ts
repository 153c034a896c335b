/**
 * The telemetry contract the gateway calls. Two implementations: NOOP_TELEMETRY (nothing
 * configured: every method is a direct call-through or an empty function) and OtelTelemetry
 * (@opentelemetry/api; cheap when unsampled).
 *
 * Callers hand over codes, names and numbers only. Whatever they pass, the implementation keeps
 * SQL literals, tokens and DSNs out of spans and metrics (see sanitize.ts): statement text only
 * as normalized and re-scrubbed `db.query.text` (and only with telemetry.record_query_text), and
 * error messages never.
 */
import type { Span } from '@opentelemetry/api';
import type { Decision } from '../guard/types.js';

export interface ToolCallAttributes {
  principal?: string | undefined;
  requestId?: string | undefined;
  database?: string | undefined;
  /** jsonrpc.request.id of the tools/call request. */
  jsonrpcId?: string | number | undefined;
  /** mcp.protocol.version negotiated with the client. */
  protocolVersion?: string | undefined;
  /**
   * W3C trace-context carrier (e.g. the request's `params._meta` or HTTP headers) used as the
   * parent when no span is active (stdio). Only traceparent/tracestate/baggage are read.
   */
  carrier?: Record<string, unknown> | undefined;
}

/** How a tool call ended: the gateway's audit event fits this shape (`scope.finish(event)`). */
export interface ToolCallOutcome {
  decision: string;
  reasons?: readonly string[] | undefined;
  database?: string | undefined;
  kind?: string | undefined;
  rows?: number | undefined;
  truncated?: boolean | undefined;
  sqlstate?: string | undefined;
}

export interface ToolCallScope {
  /** The tools/call span (a non-recording span when unsampled or disabled). */
  readonly span: Span;
  /** Record the outcome: decision and reason codes as attributes and metric labels. Last call wins. */
  finish(outcome: ToolCallOutcome): void;
}

export interface DbOperationInfo {
  /** pgwarden's database name (db.namespace). */
  database: string;
  /** db.operation.name from the parse tree: SELECT, EXPLAIN, INSERT, … (see operationName()). */
  operation: string;
  /** db.collection.name: set it only when the statement touches exactly one relation. */
  collection?: string | undefined;
  /** db.query.summary, e.g. `SELECT app.orders` (see querySummary()). Also the span name. */
  summary?: string | undefined;
  /** Normalized statement (literals as $n): recorded as db.query.text only when record_query_text is on, after re-scrubbing. */
  normalizedSql?: string | undefined;
}

export interface DbOperationScope {
  readonly span: Span;
  /** db.response.returned_rows on the span (rows per call are in the pgwarden.rows.returned histogram). */
  setReturnedRows(rows: number): void;
}

export interface HttpRequestInfo {
  method: string;
  /** Low-cardinality route template, e.g. `/mcp`. */
  route: string;
  /** Incoming headers: traceparent/tracestate/baggage are extracted as the parent context. */
  headers: Record<string, string | string[] | undefined>;
  scheme?: string | undefined;
  clientAddress?: string | undefined;
}

export interface HttpRequestScope {
  readonly span: Span;
  setStatusCode(status: number): void;
}

/** Pool figures as DatabasePool.stats() reports them, plus the pool's name and size. */
export interface PoolObservation {
  database: string;
  total: number;
  idle: number;
  waiting: number;
  activeReads?: number | undefined;
  max?: number | undefined;
}

/** The audit sink's stats() (AuditSinkStats); non-numeric fields are ignored. */
export type AuditObservation = Readonly<Record<string, unknown>>;

/** One HTTP response, for the request metrics (labels are bounded by the caller and again here). */
export interface HttpResponseInfo {
  method: string;
  /** The matched route pattern (`/mcp`, `/admin/approvals/:id`), or `unmatched`: never the raw URL. */
  route: string;
  status: number;
  durationS: number;
  /** The catalogue code of a refusal (UNAUTHENTICATED, RATE_LIMITED, …), when the request was refused. */
  refusal?: string | undefined;
}

export interface TelemetryMetrics {
  /** One HTTP response: http.server.request.duration, and the refusal / auth-failure / 429 counters. */
  httpResponse(info: HttpResponseInfo): void;
  /** Rows handed to the agent by a tool (after caps). */
  rowsReturned(rows: number, tool: string): void;
  /** Cells replaced by masking in one result. */
  maskedCells(cells: number, tool: string): void;
  /** Rows a write would touch, as measured before it ran. */
  blastRadius(rows: number, writeKind: string, decision: string): void;
}

export type Unregister = () => void;

export interface Telemetry {
  /** False for the no-op implementation. */
  readonly enabled: boolean;
  /** What is exported, for logs and `status`. */
  readonly description: string;
  /** The Prometheus listener, when one runs. */
  readonly metricsServer?: { host: string; port: number } | undefined;
  readonly metrics: TelemetryMetrics;

  /** Span `tools/call {tool}` around `fn`, plus pgwarden.tool.call.duration. */
  toolCall<T>(tool: string, attrs: ToolCallAttributes, fn: (scope: ToolCallScope) => Promise<T>): Promise<T>;
  /** Span `pgwarden.guard` (back-dated by elapsedUs) and the decision/reason counters. */
  guardDecision(decision: Decision, elapsedUs?: number): void;
  /** CLIENT span following the database semantic conventions, plus db.client.operation.duration (s). */
  dbOperation<T>(info: DbOperationInfo, fn: (scope: DbOperationScope) => Promise<T>): Promise<T>;
  /** SERVER span `{method} {route}` with the incoming trace context as parent. */
  httpRequest<T>(info: HttpRequestInfo, fn: (scope: HttpRequestScope) => Promise<T>): Promise<T>;

  observePools(cb: () => Iterable<PoolObservation>): Unregister;
  observeAudit(cb: () => AuditObservation): Unregister;
  observeApprovals(cb: () => number | Promise<number>): Unregister;

  /** Flush and stop exporters, close the Prometheus listener. Idempotent. */
  shutdown(): Promise<void>;
}
