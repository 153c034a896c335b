/**
 * Telemetry wrapper overhead: one gateway-shaped call (toolCall → guardDecision → dbOperation →
 * metrics → finish) around work that does nothing, so the figures are the wrappers' own cost.
 * Scenarios: no wrapper at all, the no-op (telemetry off), the API implementation without an SDK,
 * and an SDK (BatchSpanProcessor to a discarding exporter, MeterProvider) sampled, unsampled and
 * at 10 %. Prints calls/s and µs per call (best of 3 rounds); asserts nothing. Bounded: a few
 * tens of thousands of calls per scenario, in-process, no network.
 *
 *   npx tsx bench/telemetry.ts [calls]
 */
import { context, metrics, propagation, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { AlwaysOffSampler, AlwaysOnSampler, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type ReadableSpan, type Sampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import type { Decision } from '../src/guard/types.js';
import { NOOP_TELEMETRY, dbOperationInfo, type Telemetry } from '../src/telemetry/index.js';
import { OtelTelemetry } from '../src/telemetry/otel.js';

export interface TelemetryBenchFigure {
  scenario: string;
  callsPerSec: number;
  usPerCall: number;
  /** Added µs per call over the bare call. */
  overheadUs: number;
  /** Throughput relative to the bare call. */
  ratio: number;
}

const DECISION: Decision = {
  decision: 'allow',
  kind: 'read',
  relations: ['app.customers'],
  functions: [],
  reasons: [],
  observed: false,
  fingerprint: '3806d15233f74e2c',
  normalized: 'SELECT id, full_name, country FROM app.customers WHERE id = $1',
  elapsedUs: 15,
  cached: true,
  statementCount: 1,
  needsCatalogRefresh: false,
};
const DB_INFO = dbOperationInfo('main', DECISION);
const RESULT = { rowCount: 1 };

async function work(): Promise<{ rowCount: number }> {
  return RESULT;
}

/** The gateway's sequence of telemetry calls for one `query`. */
async function wrappedCall(t: Telemetry): Promise<number> {
  return t.toolCall('query', { principal: 'analyst', requestId: 'r', database: 'main' }, async (scope) => {
    t.guardDecision(DECISION, 15);
    const r = await t.dbOperation(DB_INFO, async (db) => {
      const res = await work();
      db.setReturnedRows(res.rowCount);
      return res;
    });
    t.metrics.rowsReturned(r.rowCount, 'query');
    scope.finish({ decision: 'allowed', database: 'main', kind: 'read', rows: r.rowCount });
    return r.rowCount;
  });
}

/** The same work without any wrapper: the floor. */
async function bareCall(): Promise<number> {
  const r = await work();
  return r.rowCount;
}

async function measure(calls: number, fn: () => Promise<number>): Promise<number> {
  for (let i = 0; i < Math.min(2_000, calls); i++) await fn(); // warm up
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const t0 = performance.now();
    for (let i = 0; i < calls; i++) await fn();
    best = Math.min(best, (performance.now() - t0) / calls);
  }
  return best * 1000; // µs per call
}

class DiscardExporter implements SpanExporter {
  exported = 0;
  export(spans: ReadableSpan[], done: (r: { code: number }) => void): void {
    this.exported += spans.length;
    done({ code: 0 });
  }
  shutdown(): Promise<void> {
    return Promise.resolve();
  }
}

class IdleReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

async function withSdk<T>(sampler: Sampler, body: (t: Telemetry) => Promise<T>): Promise<T> {
  const tracerProvider = new NodeTracerProvider({ sampler, spanProcessors: [new BatchSpanProcessor(new DiscardExporter(), { maxQueueSize: 8192, maxExportBatchSize: 512, scheduledDelayMillis: 200 })] });
  tracerProvider.register();
  const reader = new IdleReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  metrics.setGlobalMeterProvider(meterProvider);
  try {
    return await body(new OtelTelemetry({ recordQueryText: false }));
  } finally {
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
    trace.disable();
    metrics.disable();
    context.disable();
    propagation.disable();
  }
}

export async function runTelemetryBench(calls = 20_000, print: (line: string) => void = (l) => console.log(l)): Promise<TelemetryBenchFigure[]> {
  const rows: { scenario: string; us: number }[] = [];
  rows.push({ scenario: 'bare call (no wrappers)', us: await measure(calls, bareCall) });
  rows.push({ scenario: 'telemetry off (no-op)', us: await measure(calls, () => wrappedCall(NOOP_TELEMETRY)) });
  rows.push({ scenario: 'API only, no SDK registered', us: await measure(calls, () => wrappedCall(new OtelTelemetry())) });
  const sdkCases: [string, Sampler][] = [
    ['SDK, unsampled (always off)', new AlwaysOffSampler()],
    ['SDK, 10 % sampled (parent-based ratio)', new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(0.1) })],
    ['SDK, sampled (always on)', new AlwaysOnSampler()],
  ];
  for (const [scenario, sampler] of sdkCases) {
    rows.push({ scenario, us: await withSdk(sampler, (t) => measure(calls, () => wrappedCall(t))) });
  }
  const bare = rows[0]?.us ?? 1;
  const figures = rows.map((r) => ({
    scenario: r.scenario,
    usPerCall: r.us,
    callsPerSec: 1e6 / r.us,
    overheadUs: r.us - bare,
    ratio: bare / r.us,
  }));
  print(`telemetry bench: ${calls} calls per round, best of 3; one call = toolCall + guardDecision + dbOperation + 1 metric + finish around no-op work`);
  print(`Node ${process.version}, load average ${loadavg()[0]?.toFixed(1)} on ${cpus().length} CPUs`);
  print(`${'scenario'.padEnd(40)} ${'calls/s'.padStart(12)} ${'µs/call'.padStart(9)} ${'+µs/call'.padStart(9)} ${'vs bare'.padStart(8)}`);
  for (const f of figures) {
    print(
      `${f.scenario.padEnd(40)} ${Math.round(f.callsPerSec).toLocaleString('en-US').padStart(12)} ${f.usPerCall.toFixed(2).padStart(9)} ${f.overheadUs.toFixed(2).padStart(9)} ${f.ratio.toFixed(2).padStart(8)}`,
    );
  }
  print('(+µs/call is what a gateway call pays on top of its own work; compare with a tool call of ≈1–2 ms)');
  return figures;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const n = Number(process.argv[2] ?? '20000');
  runTelemetryBench(Number.isFinite(n) && n > 0 ? Math.min(n, 200_000) : 20_000).catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
