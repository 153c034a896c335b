import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { telemetrySchema } from '../../../src/config/schema.js';
import { NOOP_TELEMETRY, startTelemetry } from '../../../src/telemetry/index.js';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('./fixtures/load-check.ts', import.meta.url));
const root = fileURLToPath(new URL('../../../', import.meta.url));

async function loadCheck(mode: string): Promise<{ enabled: boolean; otelModules: number; sdkLoaded: boolean; sdkFlag: boolean }> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', fixture, mode], { cwd: root, timeout: 60_000, env: { ...process.env, OTEL_EXPORTER_OTLP_ENDPOINT: '', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: '' } });
  return JSON.parse(stdout) as { enabled: boolean; otelModules: number; sdkLoaded: boolean; sdkFlag: boolean };
}

describe('telemetry off', () => {
  it('startTelemetry without endpoint or Prometheus loads no OpenTelemetry module at all', async () => {
    expect(await loadCheck('off')).toEqual({ enabled: false, otelModules: 0, sdkLoaded: false, sdkFlag: false });
  });

  it('OTEL_SDK_DISABLED=true wins over an endpoint in the environment', async () => {
    expect(await loadCheck('env-disabled')).toEqual({ enabled: false, otelModules: 0, sdkLoaded: false, sdkFlag: false });
  });

  it('(control) with Prometheus on, the same probe sees the SDK loaded', async () => {
    const r = await loadCheck('prometheus');
    expect(r.enabled).toBe(true);
    expect(r.sdkLoaded).toBe(true);
    expect(r.sdkFlag).toBe(true);
  });

  it('returns the shared no-op, whose wrappers hand back the wrapped promise itself', async () => {
    const t = await startTelemetry({ telemetry: telemetrySchema.parse({}) }, pino({ level: 'silent' }), { env: {} });
    expect(t).toBe(NOOP_TELEMETRY);
    const p = Promise.resolve(42);
    expect(t.toolCall('query', {}, () => p)).toBe(p);
    expect(t.dbOperation({ database: 'main', operation: 'SELECT' }, () => p)).toBe(p);
    expect(t.httpRequest({ method: 'POST', route: '/mcp', headers: {} }, () => p)).toBe(p);
    let scopeSeen: unknown;
    await t.toolCall('query', {}, async (scope) => {
      scopeSeen = scope;
      scope.finish({ decision: 'allowed' });
      expect(scope.span.isRecording()).toBe(false);
    });
    await t.toolCall('query', {}, async (scope) => expect(scope).toBe(scopeSeen)); // no allocation per call
    expect(t.enabled).toBe(false);
    await t.shutdown();
  });
});
