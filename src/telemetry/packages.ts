/**
 * The OpenTelemetry packages telemetry needs. They are optional peer dependencies of pgwarden,
 * not part of its default install (28 MB on disk, issue #13): `npm install pgwarden` and
 * `npm ci --omit=dev` leave them out; the container image installs them. When telemetry is
 * configured and one of them cannot be loaded, the gateway refuses to start with a ConfigError
 * that names what to install (never silently without the telemetry the operator asked for).
 *
 * The versions here are package.json's peerDependencies (test/unit/telemetry/packages.test.ts
 * pins them together).
 */
import { ConfigError } from '../config/errors.js';

export const TELEMETRY_PACKAGES: Readonly<Record<string, string>> = {
  '@opentelemetry/api': '1.9.1',
  '@opentelemetry/exporter-metrics-otlp-http': '0.223.0',
  '@opentelemetry/exporter-metrics-otlp-proto': '0.223.0',
  '@opentelemetry/exporter-prometheus': '0.223.0',
  '@opentelemetry/exporter-trace-otlp-http': '0.223.0',
  '@opentelemetry/exporter-trace-otlp-proto': '0.223.0',
  '@opentelemetry/resources': '2.12.0',
  '@opentelemetry/sdk-metrics': '2.12.0',
  '@opentelemetry/sdk-trace-base': '2.12.0',
  '@opentelemetry/sdk-trace-node': '2.12.0',
};

/** `npm install …` of every telemetry package at its pinned version. */
export function telemetryInstallCommand(): string {
  return `npm install ${Object.entries(TELEMETRY_PACKAGES)
    .map(([name, version]) => `${name}@${version}`)
    .join(' ')}`;
}

/**
 * The ConfigError for a failed import of the SDK, when the cause is an OpenTelemetry package that
 * is not installed (ERR_MODULE_NOT_FOUND naming @opentelemetry/…); undefined for any other error.
 */
export function missingTelemetryPackages(err: unknown, configured: string): ConfigError | undefined {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e === null || typeof e !== 'object' || e.code !== 'ERR_MODULE_NOT_FOUND' || typeof e.message !== 'string') return undefined;
  const name = /'(@opentelemetry\/[a-z0-9-]+)/.exec(e.message)?.[1];
  if (name === undefined) return undefined;
  return new ConfigError(
    [
      `${configured} asks for telemetry, but the package ${name} is not installed: the OpenTelemetry packages are optional and not part of the default install`,
      `fix: install them next to pgwarden (the container image includes them): ${telemetryInstallCommand()}; or turn telemetry off (unset the OTLP endpoint, telemetry.prometheus.enabled: false, or OTEL_SDK_DISABLED=true). See docs/telemetry.md`,
    ],
    'TELEMETRY_NOT_INSTALLED: telemetry is configured but OpenTelemetry is not installed',
  );
}
