/**
 * Tool semantics (query, explain, check, execute, non-SQL tools), tool switches, policy modes,
 * missing policy, observe mode, and summarizeQuery.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { summarizeQuery, type Guard } from '../../../src/guard/index.js';
import type { Decision, GuardRequest } from '../../../src/guard/types.js';
import { demoPolicy, guardRequest, testGuard } from './fixtures/catalog.js';

let guard: Guard;
let version = 5000;
beforeAll(async () => {
  guard = await testGuard();
});

const decide = (sql: string, o: Partial<GuardRequest> = {}): Decision => guard.decide(guardRequest(sql, { policyVersion: version++, ...o }));
const codes = (d: Decision): string[] => d.reasons.map((r) => r.code);
const rw = (): ReturnType<typeof demoPolicy> => demoPolicy({ mode: 'read-write' });

describe('explain tool (bare statement, wrapped by the gateway)', () => {
  it('allows reads, with or without analyze', () => {
    expect(decide('SELECT * FROM app.orders', { tool: 'explain' }).decision).toBe('allow');
    expect(decide('SELECT * FROM app.orders', { tool: 'explain', analyze: true }).decision).toBe('allow');
  });

  it('writes only under read-write and never with analyze', () => {
    expect(codes(decide('DELETE FROM app.orders', { tool: 'explain' }))).toEqual(['WRITE_NOT_ALLOWED']);
    expect(decide('DELETE FROM app.orders', { tool: 'explain', policy: rw() }).decision).toBe('allow');
    expect(codes(decide('DELETE FROM app.orders', { tool: 'explain', policy: rw(), analyze: true }))).toEqual(['EXPLAIN_ANALYZE_WRITE']);
    expect(codes(decide('WITH d AS (DELETE FROM app.orders RETURNING 1) SELECT * FROM d', { tool: 'explain', analyze: true, policy: rw() }))).toEqual(['EXPLAIN_ANALYZE_WRITE']);
  });

  it('refuses a statement that already says EXPLAIN, and non-plannable statements', () => {
    expect(codes(decide('EXPLAIN SELECT 1', { tool: 'explain' }))).toEqual(['UTILITY_NOT_ALLOWED']);
    expect(codes(decide('DROP TABLE app.orders', { tool: 'explain' }))).toEqual(['DDL_NOT_ALLOWED']);
  });
});

describe('execute tool', () => {
  it('writes only under read-write', () => {
    expect(codes(decide('UPDATE app.orders SET status = status WHERE id = 1', { tool: 'execute' }))).toEqual(['WRITE_NOT_ALLOWED']);
    const ok = decide('UPDATE app.orders SET status = status WHERE id = 1', { tool: 'execute', policy: rw() });
    expect(ok.decision).toBe('allow');
    expect(ok.writeKind).toBe('update');
    // issue #5: execute runs exactly one top-level write; a data-modifying WITH cannot be measured and recorded
    expect(codes(decide('WITH d AS (DELETE FROM app.orders WHERE id = 1 RETURNING id) SELECT * FROM d', { tool: 'execute', policy: rw() }))).toEqual(['WRITE_NOT_PLANNABLE']);
  });

  it('refuses reads (NOT_A_WRITE), table creation and everything else', () => {
    expect(codes(decide('SELECT 1', { tool: 'execute', policy: rw() }))).toEqual(['NOT_A_WRITE']);
    expect(codes(decide('SELECT * INTO app.x FROM app.orders', { tool: 'execute', policy: rw() }))).toEqual(['SELECT_INTO']);
    expect(codes(decide('TRUNCATE app.orders', { tool: 'execute', policy: rw() }))).toEqual(['DDL_NOT_ALLOWED']);
    expect(codes(decide('DELETE FROM internal.api_keys', { tool: 'execute', policy: rw() }))).toContain('DENIED_TABLE');
  });
});

describe('check tool', () => {
  it('answers as query for reads and as execute for writes', () => {
    const r = decide('SELECT * FROM app.orders', { tool: 'check' });
    expect(r.judgedAs).toBe('query');
    expect(r.decision).toBe('allow');
    const w = decide('DELETE FROM app.orders WHERE id = 1', { tool: 'check' });
    expect(w.judgedAs).toBe('execute');
    expect(codes(w)).toEqual(['WRITE_NOT_ALLOWED']);
    expect(decide('DELETE FROM app.orders WHERE id = 1', { tool: 'check', policy: rw() }).decision).toBe('allow');
  });

  it('reflects the switch of the tool it answers for', () => {
    const p = demoPolicy({ mode: 'read-write', tools: { execute: false } });
    expect(codes(decide('DELETE FROM app.orders WHERE id = 1', { tool: 'check', policy: p }))).toEqual(['TOOL_NOT_ALLOWED']);
    expect(decide('SELECT 1', { tool: 'check', policy: p }).decision).toBe('allow');
  });
});

describe('tool switches, non-SQL tools, missing policy', () => {
  it('TOOL_NOT_ALLOWED when the policy disables the tool', () => {
    expect(codes(decide('SELECT 1', { policy: demoPolicy({ tools: { query: false } }) }))).toEqual(['TOOL_NOT_ALLOWED']);
  });

  it.each(['describe', 'status', 'revert'] as const)('%s takes no SQL', (tool) => {
    expect(codes(decide('SELECT 1', { tool }))).toEqual(['TOOL_NOT_ALLOWED']);
  });

  it('DATABASE_NOT_ALLOWED without a policy (and nothing is observed past it)', () => {
    const d = decide('SELECT 1', { policy: undefined });
    expect(codes(d)).toEqual(['DATABASE_NOT_ALLOWED']);
    expect(decide('SELECT 1', { policy: undefined, observe: true }).decision).toBe('block');
  });
});

describe('explain-only mode', () => {
  it('returns plans, not rows: reads through query are EXPLAIN_ONLY, EXPLAIN is allowed', () => {
    const p = demoPolicy({ mode: 'explain-only' });
    const d = decide('SELECT * FROM app.orders', { policy: p });
    expect(codes(d)).toEqual(['EXPLAIN_ONLY']);
    expect(d.reasons[0]?.fix).toMatch(/explain tool/);
    expect(decide('EXPLAIN SELECT * FROM app.orders', { policy: p }).decision).toBe('allow');
    expect(decide('SELECT * FROM app.orders', { policy: p, tool: 'explain' }).decision).toBe('allow');
  });
});

describe('observe mode', () => {
  it('allows with the reasons listed', () => {
    const d = decide('SELECT * FROM internal.api_keys', { observe: true });
    expect(d.decision).toBe('allow');
    expect(d.observed).toBe(true);
    expect(codes(d)).toContain('DENIED_TABLE');
  });

  it('an allowed statement is not marked observed', () => {
    const d = decide('SELECT 1', { observe: true });
    expect(d.decision).toBe('allow');
    expect(d.observed).toBe(false);
  });

  it('never waives input problems, unknown statements, transaction or session control', () => {
    for (const sql of ['SELECT 1; SELECT 2', 'SELECT (', 'COMMIT', 'SET ROLE postgres', 'SELECT $1']) {
      const d = decide(sql, { observe: true });
      expect(d.decision, sql).toBe('block');
      expect(d.observed).toBe(false);
    }
  });
});

describe('summarizeQuery', () => {
  it('builds a literal-free summary from kind and relations', () => {
    expect(summarizeQuery(decide("SELECT * FROM app.orders WHERE status = 'secret'"))).toBe('SELECT app.orders');
    expect(summarizeQuery(decide('SELECT * FROM app.orders o JOIN app.customers c ON c.id = o.customer_id'))).toBe('SELECT app.customers app.orders');
    expect(summarizeQuery(decide("DELETE FROM app.orders WHERE status = 'x'", { tool: 'execute' }))).toBe('DELETE app.orders');
    expect(summarizeQuery(decide('EXPLAIN ANALYZE SELECT 1'))).toBe('EXPLAIN ANALYZE SELECT');
    expect(summarizeQuery(decide("SELECT 'oops"))).toBe('INVALID');
    expect(summarizeQuery(decide('SELECT 1; SELECT 2'))).toBe('SELECT (+1)');
  });
});
