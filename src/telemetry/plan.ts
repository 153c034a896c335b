/**
 * Which telemetry to start, from telemetry config and the standard OTEL_* environment. Pure.
 *
 * Traces and OTLP metrics are on when an OTLP endpoint is known (telemetry.otlp_endpoint, else
 * OTEL_EXPORTER_OTLP_TRACES_ENDPOINT / OTEL_EXPORTER_OTLP_METRICS_ENDPOINT / OTEL_EXPORTER_OTLP_ENDPOINT)
 * and the matching OTEL_*_EXPORTER is not `none`; Prometheus when telemetry.prometheus.enabled.
 * OTEL_SDK_DISABLED=true turns everything off. Nothing on: no SDK is loaded.
 */
import type { TelemetryConfig } from '../config/schema.js';

export type OtlpProtocol = 'http/protobuf' | 'http/json';

export interface TelemetryPlan {
  enabled: boolean;
  traces?: { url: string | undefined; protocol: OtlpProtocol } | undefined;
  otlpMetrics?: { url: string | undefined; protocol: OtlpProtocol; intervalMs: number } | undefined;
  prometheus?: { host: string; port: number } | undefined;
  serviceName: string | undefined;
  sampleRatio: number | undefined;
  recordQueryText: boolean;
  /** Non-fatal notes for the log (never values of secrets: endpoints are shown as origins). */
  warnings: string[];
}

type Env = Readonly<Record<string, string | undefined>>;

const set = (v: string | undefined): string | undefined => (v !== undefined && v.trim() !== '' ? v.trim() : undefined);
const list = (v: string | undefined): string[] =>
  (set(v) ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);

function protocolFor(env: Env, signal: 'TRACES' | 'METRICS', warnings: string[]): OtlpProtocol {
  const p = set(env[`OTEL_EXPORTER_OTLP_${signal}_PROTOCOL`]) ?? set(env.OTEL_EXPORTER_OTLP_PROTOCOL) ?? 'http/protobuf';
  if (p === 'http/protobuf' || p === 'http/json') return p;
  warnings.push(`OTLP protocol "${p.slice(0, 20)}" is not supported for ${signal.toLowerCase()}; using http/protobuf`);
  return 'http/protobuf';
}

/** Join a base endpoint and a signal path the way the OTLP/HTTP exporters do for OTEL_EXPORTER_OTLP_ENDPOINT. */
export function signalUrl(base: string, signal: 'traces' | 'metrics'): string {
  return `${base.replace(/\/+$/, '')}/v1/${signal}`;
}

/** scheme://host:port of a URL (drops userinfo, path and query), for logs. */
export function originOf(url: string | undefined): string {
  if (url === undefined) return '(from OTEL_* environment)';
  try {
    return new URL(url).origin;
  } catch {
    return '(invalid URL)';
  }
}

export function telemetryPlan(config: TelemetryConfig, env: Env = process.env): TelemetryPlan {
  const warnings: string[] = [];
  const base: Omit<TelemetryPlan, 'enabled'> = {
    serviceName: set(env.OTEL_SERVICE_NAME) === undefined ? config.service_name : undefined,
    sampleRatio: config.sample_ratio,
    recordQueryText: config.record_query_text,
    warnings,
  };
  if (set(env.OTEL_SDK_DISABLED)?.toLowerCase() === 'true') return { ...base, enabled: false };

  const configured = set(config.otlp_endpoint);
  const generic = set(env.OTEL_EXPORTER_OTLP_ENDPOINT);
  const tracesExporters = list(env.OTEL_TRACES_EXPORTER);
  const metricsExporters = list(env.OTEL_METRICS_EXPORTER);

  let traces: TelemetryPlan['traces'];
  const tracesEnv = set(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
  if (!tracesExporters.includes('none') && (configured ?? tracesEnv ?? generic) !== undefined) {
    // A configured endpoint wins; otherwise the exporter reads the OTEL_* variables itself.
    traces = { url: configured !== undefined ? signalUrl(configured, 'traces') : undefined, protocol: protocolFor(env, 'TRACES', warnings) };
  }
  let otlpMetrics: TelemetryPlan['otlpMetrics'];
  const metricsEnv = set(env.OTEL_EXPORTER_OTLP_METRICS_ENDPOINT);
  if (!metricsExporters.includes('none') && (configured ?? metricsEnv ?? generic) !== undefined) {
    otlpMetrics = {
      url: configured !== undefined ? signalUrl(configured, 'metrics') : undefined,
      protocol: protocolFor(env, 'METRICS', warnings),
      intervalMs: config.metrics_interval_ms,
    };
  }
  for (const e of [...tracesExporters, ...metricsExporters]) {
    if (e !== 'otlp' && e !== 'none' && e !== 'prometheus') warnings.push(`OTEL exporter "${e.slice(0, 20)}" is ignored: pgwarden exports OTLP (and Prometheus via telemetry.prometheus)`);
  }
  const prometheus = config.prometheus.enabled ? { host: config.prometheus.host, port: config.prometheus.port } : undefined;
  const enabled = traces !== undefined || otlpMetrics !== undefined || prometheus !== undefined;
  return { ...base, enabled, traces, otlpMetrics, prometheus };
}

/** One line for the startup log. */
export function describePlan(plan: TelemetryPlan, configuredEndpoint: string | undefined): string {
  if (!plan.enabled) return 'off';
  const parts: string[] = [];
  if (plan.traces) parts.push(`traces → OTLP ${plan.traces.protocol} ${originOf(configuredEndpoint)}`);
  if (plan.otlpMetrics) parts.push(`metrics → OTLP every ${plan.otlpMetrics.intervalMs} ms`);
  if (plan.prometheus) parts.push(`metrics → Prometheus http://${plan.prometheus.host}:${plan.prometheus.port}/metrics`);
  return parts.join('; ');
}
