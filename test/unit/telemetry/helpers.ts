/**
 * An in-process OpenTelemetry pipeline for tests: a registered NodeTracerProvider (so context
 * propagates through async calls) exporting to memory, and a MeterProvider with a reader the
 * test collects on demand. `everything()` serializes every exported span and metric so a test
 * can assert that a string appears nowhere.
 */
import { context, propagation, trace } from '@opentelemetry/api';
import { MeterProvider, MetricReader, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { AlwaysOffSampler, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan, type Sampler } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { loadModule, fingerprintSync, normalizeSync } from 'libpg-query';
import { databasePolicySchema } from '../../../src/config/schema.js';
import type { CatalogRelation, CatalogSnapshot, Decision, GuardRequest } from '../../../src/guard/types.js';
import { OtelTelemetry } from '../../../src/telemetry/otel.js';

export class CollectingReader extends MetricReader {
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
}

export interface Pipeline {
  spans: InMemorySpanExporter;
  reader: CollectingReader;
  tracerProvider: NodeTracerProvider;
  meterProvider: MeterProvider;
  telemetry(options?: { recordQueryText?: boolean }): OtelTelemetry;
  metrics(): Promise<ResourceMetrics>;
  /** Every exported span and metric as one JSON string. */
  everything(): Promise<string>;
  close(): Promise<void>;
}

export function startPipeline(options: { sampler?: Sampler; unsampled?: boolean } = {}): Pipeline {
  const spans = new InMemorySpanExporter();
  const tracerProvider = new NodeTracerProvider({
    spanProcessors: [new SimpleSpanProcessor(spans)],
    ...(options.unsampled ? { sampler: new AlwaysOffSampler() } : options.sampler ? { sampler: options.sampler } : {}),
  });
  tracerProvider.register();
  const reader = new CollectingReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const collect = async (): Promise<ResourceMetrics> => (await reader.collect()).resourceMetrics;
  return {
    spans,
    reader,
    tracerProvider,
    meterProvider,
    telemetry: (o = {}) => new OtelTelemetry({ tracerProvider, meterProvider, recordQueryText: o.recordQueryText ?? false, version: 'test' }),
    metrics: collect,
    everything: async () => JSON.stringify({ spans: spans.getFinishedSpans().map(serializeSpan), metrics: await collect() }),
    close: async () => {
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}

export function serializeSpan(s: ReadableSpan): unknown {
  return {
    name: s.name,
    kind: s.kind,
    attributes: s.attributes,
    events: s.events.map((e) => ({ name: e.name, attributes: e.attributes })),
    links: s.links,
    status: s.status,
    parent: s.parentSpanContext?.spanId,
    scope: s.instrumentationScope,
  };
}

export function spanNamed(spans: readonly ReadableSpan[], name: string): ReadableSpan {
  const s = spans.find((x) => x.name === name);
  if (!s) throw new Error(`no span named ${name}; have: ${spans.map((x) => x.name).join(', ')}`);
  return s;
}

export function dataPoints(rm: ResourceMetrics, name: string): { attributes: Record<string, unknown>; value: unknown }[] {
  const out: { attributes: Record<string, unknown>; value: unknown }[] = [];
  for (const sm of rm.scopeMetrics) {
    for (const m of sm.metrics) {
      if (m.descriptor.name !== name) continue;
      for (const dp of m.dataPoints) out.push({ attributes: dp.attributes as Record<string, unknown>, value: dp.value });
    }
  }
  return out;
}

export function metricUnit(rm: ResourceMetrics, name: string): string | undefined {
  for (const sm of rm.scopeMetrics) for (const m of sm.metrics) if (m.descriptor.name === name) return m.descriptor.unit;
  return undefined;
}

/** The slice of src/guard/index.ts this helper uses (imported by path at run time, see decisionFor). */
interface GuardModule {
  createGuard(opts: { cacheSize: number; maxStatementBytes: number; maxAstNodes: number }): Promise<{ decide(req: GuardRequest): Decision }>;
  buildCatalogSnapshot(parts: { relations: CatalogRelation[]; functions: []; schemas?: string[] }): CatalogSnapshot;
}

async function realGuard(): Promise<{ decide(req: GuardRequest): Decision; catalog: CatalogSnapshot } | undefined> {
  const path = '../../../src/guard/index.js';
  let mod: Partial<GuardModule>;
  try {
    mod = (await import(path)) as Partial<GuardModule>;
  } catch {
    return undefined;
  }
  if (typeof mod.createGuard !== 'function' || typeof mod.buildCatalogSnapshot !== 'function') return undefined;
  const guard = await mod.createGuard({ cacheSize: 100, maxStatementBytes: 100_000, maxAstNodes: 50_000 });
  const catalog = mod.buildCatalogSnapshot({
    relations: [
      { schema: 'app', name: 'customers', kind: 'table' },
      { schema: 'internal', name: 'api_keys', kind: 'table' },
    ],
    functions: [],
    schemas: ['app', 'internal'],
  });
  return { decide: (req) => guard.decide(req), catalog };
}

/**
 * A guard Decision for `sql`: from the real guard (src/guard) when it is there, over a policy
 * that reads schema `app` only; otherwise built from the real parser's fingerprint and
 * normalization (what the guard puts in Decision.normalized) and the given classification.
 */
export async function decisionFor(sql: string, fallback: Pick<Decision, 'decision' | 'kind' | 'relations' | 'reasons'>): Promise<Decision> {
  const real = await realGuard();
  if (real) {
    return real.decide({
      sql,
      tool: 'query',
      principal: 'analyst',
      database: 'main',
      policy: databasePolicySchema.parse({ schemas: ['app'] }),
      observe: false,
      policyName: 'analyst',
      searchPath: ['app'],
      catalog: real.catalog,
      policyVersion: 1,
    });
  }
  await loadModule();
  const decision = {
    ...fallback,
    functions: [],
    observed: false,
    fingerprint: fingerprintSync(sql),
    normalized: normalizeSync(sql),
    elapsedUs: 12,
    cached: false,
    statementCount: 1,
    needsCatalogRefresh: false,
  };
  return decision as Decision;
}
