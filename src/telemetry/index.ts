/**
 * pgwarden telemetry: OpenTelemetry traces and metrics, optional Prometheus endpoint.
 *
 * `startTelemetry(config, logger)` returns NOOP_TELEMETRY unless an OTLP endpoint (config or
 * OTEL_* environment) or Prometheus is configured; only then are the SDK (sdk.ts) and the API
 * implementation (otel.ts) imported. The SDK packages are optional (packages.ts): configured but not
 * installed is a ConfigError naming what to install. What is emitted, and the no-literals
 * guarantee: docs/telemetry.md.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { NOOP_TELEMETRY } from './noop.js';
import { missingTelemetryPackages } from './packages.js';
import { describePlan, telemetryPlan, type TelemetryPlan } from './plan.js';
import type { Telemetry } from './types.js';

export { NOOP_TELEMETRY, NOOP_SPAN } from './noop.js';
export { dbOperationInfo } from './info.js';
export { describePlan, telemetryPlan, type TelemetryPlan } from './plan.js';
export { TELEMETRY_PACKAGES, telemetryInstallCommand } from './packages.js';
// prometheus.ts (the /metrics server) is not re-exported: it imports node:http, whose ES module
// namespace loads Node's undici on Node 24 (≈ 20–40 ms of a start); sdk.ts imports it directly.
export type { MetricsServer } from './prometheus.js';
export { codeLabel, decisionLabel, errorInfo, operationName, querySummary, redactLiterals } from './sanitize.js';
export type * from './types.js';

export interface StartTelemetryOptions {
  /** Defaults to process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** service.version (pass the gateway's VERSION). */
  version?: string;
}

/** Start what telemetry.* and OTEL_* ask for; never loads the SDK when nothing is configured. */
export async function startTelemetry(config: Pick<Config, 'telemetry'>, logger: Logger, options: StartTelemetryOptions = {}): Promise<Telemetry> {
  const plan = telemetryPlan(config.telemetry, options.env ?? process.env);
  for (const w of plan.warnings) logger.warn({ component: 'telemetry' }, w);
  if (!plan.enabled) return NOOP_TELEMETRY;
  // The SDK packages are optional peer dependencies (packages.ts): a missing one is a start-up error that says what to install.
  const notInstalled = (err: unknown): never => {
    throw missingTelemetryPackages(err, configuredBy(plan)) ?? err;
  };
  const [{ startSdk }, { OtelTelemetry }] = await Promise.all([import('./sdk.js'), import('./otel.js')]).catch(notInstalled);
  const sdk = await startSdk(plan, logger, options.version).catch(notInstalled);
  let description = describePlan(plan, config.telemetry.otlp_endpoint);
  if (sdk.metricsServer) description = description.replace(/Prometheus http:\/\/\S+/, `Prometheus http://${sdk.metricsServer.host}:${sdk.metricsServer.port}/metrics`);
  logger.info({ component: 'telemetry' }, `telemetry: ${description}`);
  return new OtelTelemetry({
    recordQueryText: plan.recordQueryText,
    description,
    ...(options.version !== undefined ? { version: options.version } : {}),
    ...(sdk.metricsServer ? { metricsServer: { host: sdk.metricsServer.host, port: sdk.metricsServer.port } } : {}),
    onShutdown: () => sdk.shutdown(),
  });
}

/** Which setting turned telemetry on, for the not-installed error (names, never values). */
function configuredBy(plan: TelemetryPlan): string {
  const what = [plan.traces || plan.otlpMetrics ? 'an OTLP endpoint (telemetry.otlp_endpoint or OTEL_EXPORTER_OTLP_*ENDPOINT)' : '', plan.prometheus ? 'telemetry.prometheus.enabled' : ''];
  return what.filter(Boolean).join(' and ');
}
