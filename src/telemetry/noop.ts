/**
 * Telemetry when nothing is configured: no OpenTelemetry module is loaded (this file imports
 * types only), wrappers call `fn` directly and return its promise unchanged, everything else is
 * an empty function. The cost of a wrapped call is one extra function call.
 */
import type { Span, SpanContext } from '@opentelemetry/api';
import type { DbOperationScope, HttpRequestScope, Telemetry, TelemetryMetrics, ToolCallScope } from './types.js';

const INVALID_CONTEXT: SpanContext = { traceId: '00000000000000000000000000000000', spanId: '0000000000000000', traceFlags: 0 };

/** A span that records nothing (what @opentelemetry/api hands out without an SDK). */
export const NOOP_SPAN: Span = {
  spanContext: () => INVALID_CONTEXT,
  setAttribute() {
    return this;
  },
  setAttributes() {
    return this;
  },
  addEvent() {
    return this;
  },
  addLink() {
    return this;
  },
  addLinks() {
    return this;
  },
  setStatus() {
    return this;
  },
  updateName() {
    return this;
  },
  end: () => undefined,
  isRecording: () => false,
  recordException: () => undefined,
};

const noop = (): void => undefined;

export const NOOP_TOOL_SCOPE: ToolCallScope = Object.freeze({ span: NOOP_SPAN, finish: noop });
export const NOOP_DB_SCOPE: DbOperationScope = Object.freeze({ span: NOOP_SPAN, setReturnedRows: noop });
export const NOOP_HTTP_SCOPE: HttpRequestScope = Object.freeze({ span: NOOP_SPAN, setStatusCode: noop });

const NOOP_METRICS: TelemetryMetrics = Object.freeze({ httpResponse: noop, rowsReturned: noop, maskedCells: noop, blastRadius: noop });

export const NOOP_TELEMETRY: Telemetry = Object.freeze({
  enabled: false,
  description: 'off',
  metricsServer: undefined,
  metrics: NOOP_METRICS,
  toolCall: <T>(_tool: string, _attrs: unknown, fn: (scope: ToolCallScope) => Promise<T>): Promise<T> => fn(NOOP_TOOL_SCOPE),
  guardDecision: noop,
  dbOperation: <T>(_info: unknown, fn: (scope: DbOperationScope) => Promise<T>): Promise<T> => fn(NOOP_DB_SCOPE),
  httpRequest: <T>(_info: unknown, fn: (scope: HttpRequestScope) => Promise<T>): Promise<T> => fn(NOOP_HTTP_SCOPE),
  observePools: () => noop,
  observeAudit: () => noop,
  observeApprovals: () => noop,
  shutdown: async (): Promise<void> => undefined,
});
