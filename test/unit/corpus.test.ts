/**
 * The adversarial corpus through the pure guard: every must-block case is blocked with the
 * expected reason codes, every must-allow case is allowed with no reasons. Judged as policy
 * `analyst` on database `demo` (test/corpus/policy.yaml) over the demo catalog fixture.
 *
 * A failure here is an engine bug (or a broken fixture): the corpus is never weakened to pass.
 * Cases marked `known_gap` are expected to fail (it.fails) so a fix shows up as a failure that
 * asks for the marker to be removed.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModule, parseSync } from 'libpg-query';
import { Guard, loadParser } from '../../src/guard/index.js';
import type { Decision } from '../../src/guard/types.js';
import { corpusCounts, loadCorpus, loadCorpusPolicy, verdictProblem } from '../corpus/index.js';
import type { CorpusCase } from '../corpus/index.js';
import { demoCatalog, guardRequest } from './guard/fixtures/catalog.js';

const cases = loadCorpus();
const corpusPolicy = loadCorpusPolicy();

function judge(guard: Guard, c: CorpusCase): Decision {
  return guard.decide(
    guardRequest(c.sql, {
      tool: c.tool,
      principal: 'corpus-analyst',
      database: corpusPolicy.database,
      policy: corpusPolicy.policy,
      policyName: corpusPolicy.policyName,
      observe: false,
      searchPath: corpusPolicy.searchPath,
      catalog: demoCatalog(),
      policyVersion: 1,
    }),
  );
}

describe('corpus fixtures', () => {
  it('has at least 300 must-block and 150 must-allow cases', () => {
    const counts = corpusCounts(cases);
    const byClass = new Map<string, number>();
    for (const c of cases) byClass.set(`${c.expect}/${c.class}`, (byClass.get(`${c.expect}/${c.class}`) ?? 0) + 1);
    console.log(
      `corpus: ${counts.block} must-block, ${counts.allow} must-allow\n${[...byClass]
        .map(([k, n]) => `  ${k}: ${n}`)
        .join('\n')}`,
    );
    expect(counts.block).toBeGreaterThanOrEqual(300);
    expect(counts.allow).toBeGreaterThanOrEqual(150);
  });

  it('marks exactly the cases that do not parse as parse_error (checked with libpg-query)', async () => {
    await loadModule();
    const wrong: string[] = [];
    for (const c of cases) {
      // Generated cases (sizes, depths), NUL bytes and empty texts are judged by the guard itself.
      if (c.class === 'generated' || c.sql.includes('\0') || c.codes.includes('EMPTY_STATEMENT')) continue;
      let parsed = true;
      try {
        parseSync(c.sql);
      } catch {
        parsed = false;
      }
      if (parsed === c.parseError) wrong.push(`${c.id}: ${parsed ? 'parses but is marked parse_error' : 'does not parse'}`);
    }
    expect(wrong).toEqual([]);
  });

  it('policy.yaml is the analyst policy described in the corpus brief', () => {
    const p = corpusPolicy.policy;
    expect(corpusPolicy.searchPath).toEqual(['app', 'public']);
    expect(p.mode).toBe('read-only');
    expect(p.schemas).toEqual(['app']);
    expect(p.tables.deny).toEqual(['internal.*']);
    expect(p.functions.mode).toBe('denylist');
    expect(p.catalogs).toBe(false);
    expect(p.views).toBe(true);
  });
});

describe('corpus through the pure guard (policy analyst, database demo)', () => {
  let guard: Guard;
  beforeAll(async () => {
    await loadParser();
    guard = new Guard({ cacheSize: 0, maxStatementBytes: 100_000, maxAstNodes: 50_000 });
  });

  for (const c of cases) {
    const name = `${c.expect} ${c.id}: ${c.why}`;
    const run = (): void => {
      const problem = verdictProblem(c, judge(guard, c));
      if (problem !== undefined) expect.fail(problem);
    };
    if (c.knownGap !== undefined) it.fails(`${name} [known gap: ${c.knownGap}]`, run);
    else it(name, run);
  }

  it('summary: every verdict (printed for the report)', () => {
    const failures: string[] = [];
    for (const c of cases) {
      if (c.knownGap !== undefined) continue;
      const problem = verdictProblem(c, judge(guard, c));
      if (problem !== undefined) failures.push(problem);
    }
    const gaps = cases.filter((c) => c.knownGap !== undefined);
    const counts = corpusCounts(cases);
    console.log(
      `corpus verdicts: ${cases.length - failures.length - gaps.length}/${cases.length} right ` +
        `(${counts.block} block, ${counts.allow} allow), ${failures.length} wrong, ${gaps.length} known gaps` +
        (failures.length ? `\n\n${failures.join('\n\n')}` : ''),
    );
    expect(failures.length).toBe(0);
  });
});
