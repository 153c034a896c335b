/**
 * The adversarial corpus (test/corpus) through the real gateway: a real MCP client over HTTP,
 * the real guard, a real PostgreSQL (a scratch copy of the demo database, so a statement that
 * slipped through could not damage the shared one). Every must-block case must come back as a
 * coded refusal; every must-allow case must run and return rows.
 */
import type { Client } from '@modelcontextprotocol/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { corpusCounts, loadCorpus, loadCorpusPolicy, verdictProblem, type CorpusCase, type Verdict } from '../corpus/index.js';
import { callTool, startE2eGateway, type E2eGateway } from '../support/gateway.js';
import { createScratchDatabase, type ScratchDatabase } from '../support/postgres.js';

const TOKEN = 'pgw_corpus_analyst_0123456789abcdefghijklmnop';
const cases = loadCorpus();
const policy = loadCorpusPolicy();

let scratch: ScratchDatabase;
let gw: E2eGateway;
let client: Client;

beforeAll(async () => {
  scratch = await createScratchDatabase();
  gw = await startE2eGateway({
    configInput: (auditPath) => ({
      server: { host: '127.0.0.1', port: 0, rate_limit: { per_principal: 1_000_000, per_ip: 1_000_000 } },
      log: { level: 'warn' },
      audit: { sink: 'file', path: auditPath, fsync: 'never' },
      databases: { [policy.database]: { ...(policy.raw.databases[policy.database] as object), url: scratch.gatewayUrl } },
      principals: { analyst: { policy: policy.policyName, tokens: [{ id: 'corpus', token: TOKEN }] } },
      policies: { [policy.policyName]: policy.raw.policies[policy.policyName] },
    }),
  });
  client = await gw.connect('legacy', TOKEN);
}, 120_000);

afterAll(async () => {
  await gw?.stop();
  await scratch?.drop();
});

async function verdictOf(c: CorpusCase): Promise<Verdict> {
  const out = await callTool(client, c.tool, { sql: c.sql });
  const s = out.structured as { decision?: string; reasons?: { code: string }[]; kind?: string };
  if (c.tool === 'check') return { decision: s.decision ?? 'error', reasons: s.reasons ?? [], ...(s.kind ? { kind: s.kind } : {}) };
  if (out.isError) return { decision: s.decision ?? 'error', reasons: s.reasons ?? [] };
  return { decision: 'allow', reasons: [] };
}

describe('corpus through the gateway', () => {
  it('has the promised size', () => {
    const counts = corpusCounts(cases);
    expect(counts.block).toBeGreaterThanOrEqual(300);
    expect(counts.allow).toBeGreaterThanOrEqual(150);
  });

  it.each(cases.filter((c) => c.knownGap === undefined).map((c) => [c.id, c] as const))('%s', async (_id, c) => {
    const problem = verdictProblem(c, await verdictOf(c));
    expect(problem).toBeUndefined();
  });

  it('left the database untouched', async () => {
    const out = await callTool(client, 'query', { sql: 'SELECT (SELECT count(*) FROM app.products)::int AS p, (SELECT count(*) FROM app.orders)::int AS o' });
    expect(out.structured.rows).toEqual([[50, 1000]]);
  });
});
