/**
 * The OpenTelemetry packages are optional peer dependencies (issue #13: not in the default
 * production install). Pins: the list in src/telemetry/packages.ts is package.json's
 * peerDependencies, every one optional and also a devDependency (tests and the image need them),
 * none a production dependency; when telemetry is configured and a package is missing, start-up
 * fails with TELEMETRY_NOT_INSTALLED and the command that installs them.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { isConfigError } from '../../../src/config/errors.js';
import { missingTelemetryPackages, TELEMETRY_PACKAGES, telemetryInstallCommand } from '../../../src/telemetry/packages.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/missing-packages.ts', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('package.json', `file://${root}`), 'utf8')) as {
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
};

async function startWithout(name: string, mode: 'prometheus' | 'otlp'): Promise<{ started: boolean; name?: string; message?: string }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture, name, mode], { cwd: root, timeout: 60_000 });
  return JSON.parse(stdout) as { started: boolean; name?: string; message?: string };
}

describe('OpenTelemetry packages are optional', () => {
  it('are package.json peerDependencies at the pinned versions, optional, dev-installed, not production dependencies', () => {
    expect(pkg.peerDependencies).toEqual(TELEMETRY_PACKAGES);
    for (const [name, version] of Object.entries(TELEMETRY_PACKAGES)) {
      expect(pkg.peerDependenciesMeta[name]?.optional, name).toBe(true);
      expect(pkg.devDependencies[name], name).toBe(version);
    }
    expect(Object.keys(pkg.dependencies).filter((d) => d.startsWith('@opentelemetry/'))).toEqual([]);
  });

  it('Prometheus configured, sdk-metrics not installed: TELEMETRY_NOT_INSTALLED with the install command', async () => {
    const r = await startWithout('@opentelemetry/sdk-metrics', 'prometheus');
    expect(r.started).toBe(false);
    expect(r.name).toBe('ConfigError');
    expect(r.message).toContain('TELEMETRY_NOT_INSTALLED');
    expect(r.message).toContain('telemetry.prometheus.enabled asks for telemetry, but the package @opentelemetry/sdk-metrics is not installed');
    expect(r.message).toContain(telemetryInstallCommand());
  });

  it('OTLP configured, the lazily imported trace exporter not installed: the same error', async () => {
    const r = await startWithout('@opentelemetry/exporter-trace-otlp-proto', 'otlp');
    expect(r.started).toBe(false);
    expect(r.message).toContain('the package @opentelemetry/exporter-trace-otlp-proto is not installed');
    expect(r.message).toContain('OTLP endpoint');
    expect(r.message).not.toContain('127.0.0.1:9'); // names settings, never their values
  });

  it('(control) with every package present the same fixture starts telemetry', async () => {
    expect(await startWithout('@opentelemetry/not-a-package', 'prometheus')).toEqual({ started: true });
  });

  it('other errors pass through unchanged', () => {
    expect(missingTelemetryPackages(new Error('boom'), 'x')).toBeUndefined();
    expect(missingTelemetryPackages(Object.assign(new Error("Cannot find package 'pino'"), { code: 'ERR_MODULE_NOT_FOUND' }), 'x')).toBeUndefined();
    const e = missingTelemetryPackages(Object.assign(new Error("Cannot find package '@opentelemetry/api' imported from /x"), { code: 'ERR_MODULE_NOT_FOUND' }), 'x');
    expect(isConfigError(e)).toBe(true);
  });
});
