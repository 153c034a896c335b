/**
 * The write corpus (test/corpus/writes) through the pure guard and planner, as policy `writer`
 * (read-write) over the demo catalog with write facts: every block case is refused with its
 * codes; every hold/allow case passes the static rules and yields a reversible WritePlan (its
 * threshold verdict is checked against a real database in test/integration/write-plan).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Guard, loadParser } from '../../../../src/guard/index.js';
import { isWritePlan, planWrite } from '../../../../src/guard/write/index.js';
import { loadWriteCorpus, loadWritePolicy } from '../../../corpus/writes/index.js';
import { writeCatalog, writeRequest } from './fixtures.js';

const cases = loadWriteCorpus();
const wp = loadWritePolicy();

describe('write corpus (pure guard, policy writer)', () => {
  let guard: Guard;
  beforeAll(async () => {
    await loadParser();
    guard = new Guard({ cacheSize: 0, maxStatementBytes: 100_000, maxAstNodes: 50_000 });
  });

  it('has cases of every expectation', () => {
    const n = (e: string): number => cases.filter((c) => c.expect === e).length;
    expect(n('block')).toBeGreaterThanOrEqual(100);
    expect(n('hold')).toBeGreaterThanOrEqual(15);
    expect(n('allow')).toBeGreaterThanOrEqual(20);
  });

  for (const c of cases) {
    it(`${c.expect} ${c.id}: ${c.why}`, () => {
      const d = guard.decide(writeRequest(c.sql, { tool: c.tool, policy: wp.policy, policyName: wp.policyName, searchPath: wp.searchPath }));
      const got = d.reasons.map((r) => r.code);
      if (c.expect === 'block') {
        expect(d.decision, `reasons: ${got.join(', ')}`).toBe('block');
        for (const code of c.codes) expect(got, `sql: ${c.sql}`).toContain(code);
        return;
      }
      expect(got, `sql: ${c.sql}`).toEqual([]);
      expect(d.decision).toBe('allow');
      const plan = planWrite(d, writeCatalog(), wp.searchPath);
      if (!isWritePlan(plan)) throw new Error(`not plannable: ${plan.reasons.map((r) => r.message).join('; ')}`);
      expect(plan.reversible, plan.irreversibleReasons.join('; ')).toBe(true);
      expect(plan.executeSql).toMatch(/ RETURNING [a-z_"]+\.\*$/);
      expect(plan.countSql !== undefined || plan.rowsFromAst !== undefined).toBe(true);
    });
  }
});
