/**
 * Metrics an operator can alert on (issue #16), scraped from a running gateway's Prometheus
 * endpoint: HTTP requests on every route, authentication failures, rate limiting, refused admin
 * calls and a build-info gauge; and the shipped alert rules and Grafana dashboard reference only
 * metric names the gateway actually exports.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { callTool, E2E_TOKENS, startE2eGateway, type E2eGateway } from '../../support/gateway.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';

const OPERATOR_TOKEN = 'pgw_metrics_operator_0123456789abcdefghijklmn';
let gw: E2eGateway;
let w: WriteTestDb;
let scrape = '';

/** Metric family names in a Prometheus text exposition (samples' names without _bucket/_sum/_count). */
function families(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) /.exec(line);
    if (m) out.add(m[1] as string);
  }
  return out;
}

/** Every sample name a family exposes (histograms: _bucket, _sum, _count). */
function sampleNames(text: string): Set<string> {
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]/.exec(line);
    if (m && !line.startsWith('#')) out.add(m[1] as string);
  }
  return out;
}

function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`)) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const GROUPING_RE = /\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;

/** Metric names referenced by PromQL expressions (label matchers and groupings stripped first). */
function referencedMetrics(exprs: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const e of exprs) {
    const bare = e.replace(GROUPING_RE, ' ').replace(/\{[^}]*\}/g, ' ');
    for (const m of bare.matchAll(/\b(pgwarden_[a-z0-9_]+|http_server_[a-z0-9_]+|db_client_[a-z0-9_]+)\b/g)) out.add(m[1] as string);
  }
  return out;
}

/** Label names used in groupings and matchers. */
function referencedLabels(exprs: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const e of exprs) {
    for (const m of e.matchAll(GROUPING_RE)) for (const l of (m[1] as string).split(',')) if (l.trim() !== '' && l.trim() !== 'le') out.add(l.trim());
    for (const m of e.matchAll(/\{([^}]*)\}/g)) for (const l of (m[1] as string).matchAll(/([a-z_][a-z0-9_]*)\s*(?:=~|!~|!=|=)/g)) out.add(l[1] as string);
  }
  out.delete('job');
  out.delete('instance');
  return out;
}

function expectOnlyExported(exprs: readonly string[]): void {
  const names = sampleNames(scrape);
  for (const fam of families(scrape)) names.add(fam);
  expect([...referencedMetrics(exprs)].filter((n) => !names.has(n))).toEqual([]);
  expect([...referencedLabels(exprs)].filter((l) => !scrape.includes(`${l}="`))).toEqual([]);
}

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  const policyDb = { mode: 'read-write', schemas: ['app'], tables: { deny: ['internal.*'] } };
  gw = await startE2eGateway({
    configInput: (auditPath) => ({
      server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 100_000, per_ip: 14 } },
      log: { level: 'warn' },
      audit: { sink: 'file', path: auditPath, fsync: 'never' },
      telemetry: { prometheus: { enabled: true, port: 0 } },
      databases: { shop: { url: w.scratch.gatewayUrl, search_path: ['app'] } },
      principals: { analyst: { policy: 'writer', tokens: [{ token: E2E_TOKENS.analyst }] } },
      operators: { ops: { tokens: [{ token: OPERATOR_TOKEN }] } },
      policies: { writer: { databases: { shop: policyDb } } },
    }),
  });
  const post = (headers: Record<string, string>): Promise<Response> =>
    fetch(gw.mcpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: {} }),
    });
  const client = await gw.connect('legacy');
  expect((await callTool(client, 'query', { sql: 'SELECT 1 AS one' })).isError).toBe(false);
  expect((await post({})).status).toBe(401);
  expect((await post({ authorization: 'Bearer pgw_not_a_real_token_0123456789abcdefghij' })).status).toBe(401);
  expect((await fetch(new URL('/admin/approvals', gw.url), { headers: { authorization: `Bearer ${E2E_TOKENS.analyst}` } })).status).toBe(401);
  expect((await fetch(new URL('/livez', gw.url))).status).toBe(200);
  let limited = 0;
  for (let i = 0; i < 20 && limited === 0; i++) if ((await post({ authorization: `Bearer ${E2E_TOKENS.analyst}` })).status === 429) limited++;
  expect(limited).toBe(1);
  const port = gw.runtime.telemetry.metricsServer?.port;
  expect(port).toBeDefined();
  scrape = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await w?.end();
});

describe('operator metrics on /metrics', () => {
  it('counts HTTP requests on every route by method, route pattern and status', () => {
    expect(sample(scrape, 'http_server_request_duration_count', { http_route: '/mcp', http_response_status_code: '200' })).toBeGreaterThan(0);
    expect(sample(scrape, 'http_server_request_duration_count', { http_route: '/livez', http_request_method: 'GET' })).toBe(1);
  });

  it('counts authentication failures by route and code, never by token or principal', () => {
    expect(sample(scrape, 'pgwarden_auth_failures_total', { http_route: '/mcp', pgwarden_reason: 'UNAUTHENTICATED' })).toBe(1);
    expect(sample(scrape, 'pgwarden_auth_failures_total', { http_route: '/mcp', pgwarden_reason: 'INVALID_TOKEN' })).toBe(1);
    expect(sample(scrape, 'pgwarden_auth_failures_total', { http_route: '/admin/approvals', pgwarden_reason: 'INVALID_TOKEN' })).toBe(1);
    const authLines = scrape.split('\n').filter((l) => l.startsWith('pgwarden_auth_failures_total'));
    for (const l of authLines) {
      expect(l).not.toContain('principal');
      expect(l).not.toContain('pgw_');
    }
  });

  it('counts rate limiting and every refusal with its catalogue code', () => {
    expect(sample(scrape, 'pgwarden_http_rate_limited_total', { http_route: '/mcp' })).toBe(1);
    expect(sample(scrape, 'pgwarden_http_refusals_total', { http_route: '/mcp', pgwarden_reason: 'RATE_LIMITED', http_response_status_code: '429' })).toBe(1);
  });

  it('exports a build-info gauge with the version', () => {
    const line = scrape.split('\n').find((l) => l.startsWith('pgwarden_build_info'));
    expect(line).toMatch(/service_version="\d+\.\d+\.\d+[^"]*"/);
    expect(line).toContain(`process_runtime_version="${process.versions.node}"`);
    expect(line?.endsWith(' 1')).toBe(true);
  });

  it('never labels a metric with a token, principal name or request id', () => {
    expect(scrape).not.toContain(E2E_TOKENS.analyst);
    expect(scrape).not.toContain(OPERATOR_TOKEN);
    expect(scrape).not.toMatch(/principal="/);
  });
});

describe('shipped alert rules and dashboard', () => {
  it('the Prometheus alert rules reference only exported metric names', () => {
    const rules = parseYaml(readFileSync('deploy/monitoring/alerts.yaml', 'utf8')) as { groups: { rules: { alert: string; expr: string }[] }[] };
    const exprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
    expect(exprs.length).toBeGreaterThanOrEqual(5);
    expectOnlyExported(exprs);
  });

  it('the Grafana dashboard references only exported metric names', () => {
    const dashboard = JSON.parse(readFileSync('deploy/monitoring/grafana-dashboard.json', 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    const exprs = dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThanOrEqual(8);
    expectOnlyExported(exprs);
  });
});
