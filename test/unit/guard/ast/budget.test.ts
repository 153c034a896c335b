/**
 * One budget, and running out of it fails closed (issue #15, review finding 2): findWrites,
 * volatileCalls, deterministic and sameExpr used to stop silently at private step counts and
 * return a partial answer (findWrites missed a data-modifying CTE past 200 000 steps, so an
 * UPDATE carrying a hidden DELETE was allowed once guard.max_ast_nodes was raised).
 */
import { parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { KNOB_CAPS, guardSchema } from '../../../../src/config/schema.js';
import { MAX_AST_NODES_CAP, newBudget, TooComplexError } from '../../../../src/guard/ast/budget.js';
import { classify } from '../../../../src/guard/classify.js';
import type { Guard } from '../../../../src/guard/index.js';
import { loadParser } from '../../../../src/guard/parse.js';
import { newFacts, walkStatement } from '../../../../src/guard/walk.js';
import { findWrites, sameExpr } from '../../../../src/guard/write/ast.js';
import { planWrite } from '../../../../src/guard/write/plan.js';
import { volatileCalls } from '../../../../src/guard/write/reversible.js';
import { judgeWrites } from '../../../../src/guard/write/rules.js';
import { deterministic } from '../../../../src/guard/write/tautology.js';
import { testGuard } from '../fixtures/catalog.js';
import { writeCatalog, writePolicyFor, writeRequest } from '../write/fixtures.js';

const stmtOf = (sql: string): unknown => (parseSync(sql) as { stmts: { stmt: unknown }[] }).stmts[0]?.stmt;

/** The review's probe: a 36 000-column CTE in front of a hidden data-modifying CTE (72 KB). */
const PROBE = `WITH x AS (SELECT ${Array.from({ length: 36_000 }, () => '1').join(',')}), d AS (DELETE FROM app.events WHERE id = 1) UPDATE app.orders SET status = 'x' WHERE id = 7`;

describe('the write analysis spends one budget and fails closed when it runs out', () => {
  let guard: Guard;
  beforeAll(async () => {
    await loadParser();
    guard = await testGuard({ maxAstNodes: 150_000 });
  });

  it('findWrites throws instead of returning the writes it saw so far', () => {
    const stmt = stmtOf('WITH d AS (DELETE FROM app.events WHERE id = 1) UPDATE app.orders SET status = $$x$$ WHERE id = 7');
    expect(findWrites(stmt).map((w) => w.kind)).toEqual(['update', 'delete']);
    expect(() => findWrites(stmt, newBudget(5))).toThrow(TooComplexError);
  });

  it('volatileCalls, deterministic and sameExpr throw too (no shorter list, no "not deterministic" guess)', () => {
    const stmt = stmtOf('UPDATE app.orders SET status = random()::text WHERE id = 7 AND placed_at < clock_timestamp()');
    const w = findWrites(stmt)[0];
    if (w === undefined) throw new Error('no write found');
    const catalog = writeCatalog();
    expect(volatileCalls(w, catalog, ['app'])).toEqual(['clock_timestamp', 'random']);
    expect(() => volatileCalls(w, catalog, ['app'], newBudget(3))).toThrow(TooComplexError);
    const where = w.body.whereClause;
    const ctx = { isNotNullColumn: () => false, isVolatileFunction: () => false };
    expect(deterministic(where, ctx)).toBe(true);
    expect(() => deterministic(where, { ...ctx, budget: newBudget(3) })).toThrow(TooComplexError);
    expect(sameExpr(where, where)).toBe(true);
    expect(() => sameExpr(where, structuredClone(where), newBudget(3))).toThrow(TooComplexError);
  });

  it('judgeWrites turns an exhausted budget into STATEMENT_TOO_COMPLEX, planWrite too', () => {
    const sql = 'WITH d AS (DELETE FROM app.events WHERE id = 1) UPDATE app.orders SET status = $$x$$ WHERE id = 7';
    const stmt = stmtOf(sql);
    const c = classify(stmt, walkStatement(stmt, { maxNodes: 50_000, maxDepth: 1000 }, newFacts()));
    const req = writeRequest(sql);
    const codes = (budget?: number): string[] =>
      judgeWrites([stmt], c, 'execute', req, writePolicyFor(), budget === undefined ? undefined : newBudget(budget)).map((r) => r.code);
    expect(codes()).toContain('WRITE_NOT_PLANNABLE');
    expect(codes(10)).toEqual(['STATEMENT_TOO_COMPLEX']);
    const plan = planWrite(stmtOf('UPDATE app.orders SET status = $$x$$ WHERE id = 7'), writeCatalog(), ['app', 'public'], { budget: newBudget(4) });
    expect('reasons' in plan ? plan.reasons.map((r) => r.code) : plan).toEqual(['STATEMENT_TOO_COMPLEX']);
  });

  it('the review probe (max_ast_nodes raised to 150 000) is refused by check and execute, not allowed', () => {
    for (const tool of ['execute', 'check'] as const) {
      const d = guard.decide(writeRequest(PROBE, { tool }));
      expect(d.decision, tool).toBe('block');
      expect(d.reasons.map((r) => r.code).some((c) => c === 'WRITE_NOT_PLANNABLE' || c === 'STATEMENT_TOO_COMPLEX'), tool).toBe(true);
    }
  }, 60_000);

  it('guard.max_ast_nodes has an upper bound, the one the budgets assume', () => {
    expect(KNOB_CAPS.max_ast_nodes).toBe(MAX_AST_NODES_CAP);
    expect(guardSchema.safeParse({ max_ast_nodes: MAX_AST_NODES_CAP }).success).toBe(true);
    expect(guardSchema.safeParse({ max_ast_nodes: MAX_AST_NODES_CAP + 1 }).success).toBe(false);
    expect(guardSchema.safeParse({ max_statement_bytes: 1_000_001 }).success).toBe(false);
    expect(guardSchema.safeParse({ decision_cache_size: 1_000_001 }).success).toBe(false);
  });
});
