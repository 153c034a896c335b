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
 */
import { context, diag, DiagLogLevel, metrics, propagation, trace, type DiagLogger } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { envDetector, hostDetector, osDetector, resourceFromAttributes, serviceInstanceIdDetector } from '@opentelemetry/resources';
import { PeriodicExportingMetricReader, type IMetricReader, type PushMetricExporter } from '@opentelemetry/sdk-metrics';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler, type SpanExporter } from '@opentelemetry/sdk-trace-base';
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

  const sdk = new NodeSDK({
    resource: resourceFromAttributes(version !== undefined ? { 'service.version': version } : {}),
    resourceDetectors: [envDetector, hostDetector, osDetector, serviceInstanceIdDetector],
    ...(plan.serviceName !== undefined ? { serviceName: plan.serviceName } : {}),
    ...(plan.sampleRatio !== undefined ? { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(plan.sampleRatio) }) } : {}),
    spanProcessors,
    metricReaders,
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();

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

async function stop(sdk: NodeSDK): Promise<void> {
  try {
    await sdk.shutdown();
  } finally {
    trace.disable();
    metrics.disable();
    propagation.disable();
    context.disable();
    diag.disable();
  }
}
