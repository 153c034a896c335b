import { describe, expect, it } from 'vitest';
import { telemetrySchema } from '../../../src/config/schema.js';
import { describePlan, originOf, signalUrl, telemetryPlan } from '../../../src/telemetry/plan.js';

const cfg = (input: Record<string, unknown> = {}) => telemetrySchema.parse(input);

describe('telemetryPlan', () => {
  it('is off by default: no endpoint, no Prometheus', () => {
    const p = telemetryPlan(cfg(), {});
    expect(p.enabled).toBe(false);
    expect(describePlan(p, undefined)).toBe('off');
  });

  it('OTEL_EXPORTER_OTLP_ENDPOINT turns on traces and OTLP metrics; the exporters read the variables', () => {
    const p = telemetryPlan(cfg(), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' });
    expect(p.enabled).toBe(true);
    expect(p.traces).toEqual({ url: undefined, protocol: 'http/protobuf' });
    expect(p.otlpMetrics).toEqual({ url: undefined, protocol: 'http/protobuf', intervalMs: 60_000 });
    expect(p.prometheus).toBeUndefined();
  });

  it('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT alone turns on traces only', () => {
    const p = telemetryPlan(cfg(), { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' });
    expect(p.traces).toBeDefined();
    expect(p.otlpMetrics).toBeUndefined();
  });

  it('telemetry.otlp_endpoint wins and gets the signal paths', () => {
    const p = telemetryPlan(cfg({ otlp_endpoint: 'https://otel.example:4318/' }), { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://other:4318' });
    expect(p.traces?.url).toBe('https://otel.example:4318/v1/traces');
    expect(p.otlpMetrics?.url).toBe('https://otel.example:4318/v1/metrics');
  });

  it('honours OTEL_SDK_DISABLED, OTEL_*_EXPORTER=none and the protocol variables', () => {
    expect(telemetryPlan(cfg({ otlp_endpoint: 'http://c:4318' }), { OTEL_SDK_DISABLED: 'TRUE' }).enabled).toBe(false);
    const p = telemetryPlan(cfg({ otlp_endpoint: 'http://c:4318' }), { OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
    expect(p.traces).toBeUndefined();
    expect(p.otlpMetrics?.protocol).toBe('http/json');
    const g = telemetryPlan(cfg({ otlp_endpoint: 'http://c:4318' }), { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc', OTEL_TRACES_EXPORTER: 'console' });
    expect(g.traces?.protocol).toBe('http/protobuf');
    expect(g.warnings.join('\n')).toMatch(/grpc.*not supported/);
    expect(g.warnings.join('\n')).toMatch(/"console" is ignored/);
  });

  it('Prometheus alone: metrics only, on loopback by default', () => {
    const p = telemetryPlan(cfg({ prometheus: { enabled: true } }), {});
    expect(p).toMatchObject({ enabled: true, traces: undefined, otlpMetrics: undefined, prometheus: { host: '127.0.0.1', port: 9464 } });
  });

  it('service name from config unless OTEL_SERVICE_NAME is set; sampling and query text from config', () => {
    expect(telemetryPlan(cfg(), {}).serviceName).toBe('pgwarden');
    expect(telemetryPlan(cfg(), { OTEL_SERVICE_NAME: 'gw-eu' }).serviceName).toBeUndefined();
    const p = telemetryPlan(cfg({ sample_ratio: 0.1, record_query_text: true }), {});
    expect(p.sampleRatio).toBe(0.1);
    expect(p.recordQueryText).toBe(true);
  });

  it('logs endpoints as origins only (no userinfo, path or query)', () => {
    expect(originOf('https://user:pw@otel.example:4318/x?token=abc')).toBe('https://otel.example:4318');
    const p = telemetryPlan(cfg({ otlp_endpoint: 'https://user:pw@otel.example:4318' }), {});
    expect(describePlan(p, 'https://user:pw@otel.example:4318')).not.toContain('pw');
    expect(signalUrl('http://c:4318//', 'traces')).toBe('http://c:4318/v1/traces');
  });

  it('the schema refuses a non-http endpoint and keeps existing configs valid', () => {
    expect(() => cfg({ otlp_endpoint: 'collector:4317' })).toThrow();
    expect(cfg()).toEqual({ service_name: 'pgwarden', record_query_text: false, metrics_interval_ms: 60_000, prometheus: { enabled: false, host: '127.0.0.1', port: 9464 } });
  });
});
