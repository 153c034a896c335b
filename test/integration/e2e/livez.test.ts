/**
 * Issue #10 item 2, end to end: while statements at max_statement_bytes built to be slow (one
 * table named ~8,000 times, a new alias prefix per call so the decision cache never helps) are
 * judged continuously for a masked and an unmasked principal, a real `pgwarden serve` process
 * keeps answering /livez: fewer than a quarter of the probes take over 100 ms and the median
 * stays under 100 ms (generous, so that a loaded CI machine passes: the target measured by
 * `npm run bench:livez` is p99 < 100 ms on a quiet machine), and every call is answered.
 *
 * On 344cc74 (and with guard.judging.workers: 0, the same inline path) each statement held the
 * event loop 0.2–0.5 s on an idle machine (0.7–1.8 s loaded), so with four clients /livez waited
 * behind one statement after another: in the bench's inline row p50 155–350 ms and 73–100 % of
 * the probes over 100 ms (the workers row: p50 4–9 ms, 2–6 % over 100 ms, at load 18).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServeProcess, type ServeProcess } from '../../support/serve-process.js';
import { testDatabase } from '../../support/pg.js';

const MASKED = 'pgw_livez_masked_0123456789abcdefghijklmnopqrst';
const PLAIN = 'pgw_livez_plain_0123456789abcdefghijklmnopqrstu';
const SECONDS = 5;

function slowStatement(prefix: string, bytes = 100_000): string {
  let sql = 'SELECT 1 FROM app.customers';
  for (let i = 1; ; i++) {
    const next = `, app.customers ${prefix}_${i}`;
    if (sql.length + next.length > bytes) return sql;
    sql += next;
  }
}

let gw: ServeProcess;
beforeAll(async () => {
  gw = await startServeProcess(
    [
      'server: { host: 127.0.0.1, port: 0, rate_limit: { per_principal: 1000000, per_ip: 1000000 } }',
      'guard: { max_statement_bytes: 100000 }',
      'audit: { sink: none }',
      'databases:',
      '  shop:',
      `    url: ${testDatabase().gatewayUrl}`,
      '    search_path: [app]',
      '    limits: { statement_timeout_ms: 250 }',
      'principals:',
      `  masked: { policy: masked, tokens: [{ token: ${MASKED} }] }`,
      `  plain: { policy: plain, tokens: [{ token: ${PLAIN} }] }`,
      'policies:',
      '  plain: { databases: { shop: { mode: read-only, schemas: [app] } } }',
      '  masked:',
      '    databases:',
      '      shop: { mode: read-only, schemas: [app], masks: { app.customers.email: { mask: email } } }',
      '',
    ].join('\n'),
  );
}, 60_000);

afterAll(async () => {
  await gw?.stop();
});

async function call(token: string, sql: string): Promise<string> {
  const res = await fetch(`${gw.url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'query', arguments: { sql } } }),
  });
  const text = await res.text();
  const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => l.slice(5)).join('') || text;
  const msg = JSON.parse(data) as { result?: { isError?: boolean; structuredContent?: { reasons?: { code: string }[] } } };
  if (msg.result?.isError !== true) return 'ran';
  return (msg.result.structuredContent?.reasons ?? []).map((r) => r.code).join('+') || 'error';
}

describe('the event loop while 100 KB statements are judged', () => {
  it(`/livez stays responsive over ${SECONDS} s of slow statements, masked and unmasked; every call answered`, async () => {
    // warm up (parser, catalog, the workers' start), not measured
    await Promise.all([call(MASKED, slowStatement('w0')), call(PLAIN, slowStatement('w1'))]);
    let stop = false;
    let n = 0;
    const outcomes: string[] = [];
    const loops = [MASKED, MASKED, PLAIN, PLAIN].map(async (token) => {
      while (!stop) outcomes.push(`${token === MASKED ? 'masked' : 'plain'}:${await call(token, slowStatement(`a${n++}`))}`);
    });
    const probes: number[] = [];
    const probe = (async () => {
      while (!stop) {
        const t0 = performance.now();
        const res = await fetch(`${gw.url}/livez`);
        await res.arrayBuffer();
        expect(res.status).toBe(200);
        probes.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await new Promise((r) => setTimeout(r, SECONDS * 1000));
    stop = true;
    await Promise.all([...loops, probe]);
    const sorted = [...probes].sort((a, b) => a - b);
    const p = (q: number): number => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] as number;
    const counts = new Map<string, number>();
    for (const o of outcomes) counts.set(o, (counts.get(o) ?? 0) + 1);
    console.log(`[livez e2e] ${sorted.length} probes: p50 ${p(0.5).toFixed(1)} ms, p90 ${p(0.9).toFixed(1)} ms, p99 ${p(0.99).toFixed(1)} ms, max ${p(1).toFixed(1)} ms; calls ${JSON.stringify(Object.fromEntries(counts))}`);
    // the masked statement is refused by the masking bound, the unmasked one runs into the statement timeout
    // (or, on a machine too loaded to judge it within guard.judging.budget_ms, STATEMENT_TOO_COMPLEX)
    expect([...counts.keys()].filter((k) => !['masked:STATEMENT_TOO_COMPLEX', 'plain:STATEMENT_TIMEOUT', 'plain:STATEMENT_TOO_COMPLEX', 'plain:ran'].includes(k))).toEqual([]);
    // both kinds were judged while the probe ran (few on a loaded machine: each takes ~1 s there)
    expect(outcomes.filter((o) => o.startsWith('masked:')).length).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o.startsWith('plain:')).length).toBeGreaterThan(0);
    expect(sorted.length).toBeGreaterThan(SECONDS * 4);
    expect(sorted.filter((x) => x > 100).length / sorted.length).toBeLessThan(0.25);
    expect(p(0.5)).toBeLessThan(100);
  }, 90_000);
});
