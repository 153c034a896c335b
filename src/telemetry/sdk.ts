/**
 * Starting the OpenTelemetry SDK. This module is imported dynamically by startTelemetry() and
 * only when telemetry is configured, so a gateway without telemetry never loads the SDK.
 *
 * Guarantees: no auto-instrumentation is registered (instrumentation-pg would record raw SQL);
 * no console exporter (stdout is the MCP channel under stdio); no log export; the resource has no
 * process detector (process.command_args could hold a DSN); SDK diagnostics reach the pino logger
 * with URLs' passwords masked; shutdown flushes exporters and unregisters the global providers,
 * so telemetry can be started again in the same process (tests, reloads).
 * Does not: validate that the collector is reachable (export failures are logged by the SDK).
 *
 * Assembled from the tracer and meter providers rather than @opentelemetry/sdk-node: NodeSDK
 * brings gRPC, Zipkin, Jaeger/B3 propagators, log SDKs and the instrumentation loader (about
 * 40 MB installed, most of the production install) for features pgwarden never turns on.
 */
import { context, diag, DiagLogLevel, metrics, propagation, trace, type DiagLogger } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { defaultResource, detectResources, envDetector, hostDetector, osDetector, resourceFromAttributes, serviceInstanceIdDetector, type Resource } from '@opentelemetry/resources';
import { MeterProvider, PeriodicExportingMetricReader, type IMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { redactDsn } from '../config/redact.js';
import type { Logger } from '../log/logger.js';
import type { OtlpProtocol, TelemetryPlan } from './plan.js';
import { startMetricsServer, type MetricsServer } from './prometheus.js';

/** Set when this module is evaluated: lets tests prove the disabled path never loads the SDK. */
(globalThis as Record<symbol, unknown>)[Symbol.for('pgwarden.telemetry.sdkLoaded')] = true;

export interface StartedSdk {
  metricsServer: MetricsServer | undefined;
  shutdown(): Promise<void>;
}

async function traceExporter(protocol: OtlpProtocol, url: string | undefined): Promise<SpanExporter> {
  const options = url !== undefined ? { url } : {};
  if (protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter(options);
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter(options);
}

async function metricExporter(protocol: OtlpProtocol, url: string | undefined): Promise<PushMetricExporter> {
  const options = url !== undefined ? { url } : {};
  if (protocol === 'http/json') {
    const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-http');
    return new OTLPMetricExporter(options);
  }
  const { OTLPMetricExporter } = await import('@opentelemetry/exporter-metrics-otlp-proto');
  return new OTLPMetricExporter(options);
}

function diagLogger(logger: Logger): DiagLogger {
  const text = (message: string, args: unknown[]): string =>
    redactDsn([message, ...args.map((a) => (a instanceof Error ? `${a.name}: ${a.message}` : typeof a === 'string' ? a : ''))].join(' ').slice(0, 500));
  return {
    error: (m, ...a) => logger.warn({ component: 'opentelemetry' }, text(m, a)),
    warn: (m, ...a) => logger.warn({ component: 'opentelemetry' }, text(m, a)),
    info: (m, ...a) => logger.debug({ component: 'opentelemetry' }, text(m, a)),
    debug: () => undefined,
    verbose: () => undefined,
  };
}

export async function startSdk(plan: TelemetryPlan, logger: Logger, version: string | undefined): Promise<StartedSdk> {
  diag.setLogger(diagLogger(logger), { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });

  const spanProcessors = plan.traces ? [new BatchSpanProcessor(await traceExporter(plan.traces.protocol, plan.traces.url))] : [];
  const metricReaders: IMetricReader[] = [];
  if (plan.otlpMetrics) {
    metricReaders.push(
      new PeriodicExportingMetricReader({
        exporter: await metricExporter(plan.otlpMetrics.protocol, plan.otlpMetrics.url),
        exportIntervalMillis: plan.otlpMetrics.intervalMs,
        exportTimeoutMillis: Math.min(30_000, plan.otlpMetrics.intervalMs),
      }),
    );
  }
  let prometheus: PrometheusExporter | undefined;
  if (plan.prometheus) {
    prometheus = new PrometheusExporter({ preventServerStart: true });
    metricReaders.push(prometheus);
  }

  const resource = buildResource(plan, version);
  const sampler = plan.sampleRatio !== undefined ? { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(plan.sampleRatio) }) } : {};
  // Without a traces exporter no tracer provider is registered: the trace API stays a no-op.
  // register(): global tracer provider, AsyncLocalStorage context manager, W3C trace-context and
  // baggage propagators; without an explicit sampler, OTEL_TRACES_SAMPLER (default: always on).
  const tracerProvider = spanProcessors.length > 0 ? new NodeTracerProvider({ resource, spanProcessors, ...sampler }) : undefined;
  tracerProvider?.register();
  const meterProvider = metricReaders.length > 0 ? new MeterProvider({ resource, readers: metricReaders }) : undefined;
  if (meterProvider) metrics.setGlobalMeterProvider(meterProvider);
  const sdk: Providers = { tracerProvider, meterProvider };

  let metricsServer: MetricsServer | undefined;
  if (prometheus && plan.prometheus) {
    const exporter = prometheus;
    try {
      metricsServer = await startMetricsServer(plan.prometheus, (req, res) => exporter.getMetricsRequestHandler(req, res));
    } catch (err) {
      await stop(sdk);
      throw err;
    }
  }

  let done: Promise<void> | undefined;
  return {
    metricsServer,
    shutdown: () => {
      done ??= (async () => {
        await metricsServer?.close();
        await stop(sdk);
      })();
      return done;
    },
  };
}

interface Providers {
  tracerProvider: NodeTracerProvider | undefined;
  meterProvider: MeterProvider | undefined;
}

/** The SDK's default resource, our version, OTEL_RESOURCE_ATTRIBUTES / OTEL_SERVICE_NAME, host, os, instance id; then telemetry.service_name. */
function buildResource(plan: TelemetryPlan, version: string | undefined): Resource {
  let resource = defaultResource()
    .merge(resourceFromAttributes(version !== undefined ? { 'service.version': version } : {}))
    .merge(detectResources({ detectors: [envDetector, hostDetector, osDetector, serviceInstanceIdDetector] }));
  if (plan.serviceName !== undefined) resource = resource.merge(resourceFromAttributes({ 'service.name': plan.serviceName }));
  return resource;
}

async function stop(sdk: Providers): Promise<void> {
  try {
    await Promise.all([sdk.tracerProvider?.shutdown(), sdk.meterProvider?.shutdown()]);
  } finally {
    trace.disable();
    metrics.disable();
    propagation.disable();
    context.disable();
    diag.disable();
  }
}
