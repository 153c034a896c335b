/**
 * Golden facts: every SQL text of every corpus (test/corpus block/allow/generated, the leak
 * corpus, the write corpus) and the guard fixtures, run through
 * - the guard walk (walkStatement: facts, arrays sorted),
 * - the mask walk (walkForMasks over the mask fixture catalog, masks of the leak corpus: sites,
 *   targets and qualified columns as paths into the statement, sets sorted),
 * - the write analysis (findWrites: kind/type/top/underExplain/path; per write volatileCalls,
 *   deterministic() and truthSet() of its WHERE),
 * and compared with test/unit/guard/ast/__snapshots__/golden-facts.txt, one line per statement.
 *
 * Why: the walkers are being refactored onto one traversal core (issue #15). A refactor must
 * leave this file byte-identical; a deliberate fix changes exactly the lines it should.
 *
 * Updating it deliberately: run
 *     npx vitest run test/unit/guard/ast/golden.test.ts -u
 * then read `git diff test/unit/guard/ast/__snapshots__/golden-facts.txt`: every changed line must
 * be explained by the fix, and the commit message must say which facts changed and why. Never
 * update it to make a refactor pass.
 *
 * Format: `<case id>[#stmt] {json}`. Arrays of facts are sorted (order is not a guarantee of the
 * walkers); long repeated arrays are kept exact as `value ×count`. Paths are `.field` / `[i]` from
 * the statement node (the wrapped `{ Type: … }`), so mask sites compare by position, not identity.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { loadCorpus } from '../../../corpus/index.js';
import { LEAK_MASKS, loadLeakCorpus } from '../../../corpus/leaks/index.js';
import { loadWriteCorpus } from '../../../corpus/writes/index.js';
import { loadParser, parseText } from '../../../../src/guard/parse.js';
import { newFacts, walkStatement, type Facts } from '../../../../src/guard/walk.js';
import { walkForMasks, type WalkResult } from '../../../../src/mask/rewrite.js';
import { findWrites } from '../../../../src/guard/write/ast.js';
import { volatileCalls } from '../../../../src/guard/write/reversible.js';
import { isVolatile } from '../../../../src/guard/write/target.js';
import { deterministic, truthSet, type PredicateContext } from '../../../../src/guard/write/tautology.js';
import { ALLOWED_QUERIES, ANALYTIC_40, SHORT_QUERY } from '../fixtures/queries.js';
import { maskCatalog } from '../../mask/fixtures.js';
import { writeCatalog } from '../write/fixtures.js';

const SEARCH_PATH = ['app', 'public'];
const PARSE_LIMITS = { maxStatementBytes: 100_000, maxNesting: 256, maxChainTokens: 1000 };
const WALK_LIMITS = { maxNodes: 50_000, maxDepth: 1000 };
const MASKED_TABLES = new Set(
  [...Object.keys(LEAK_MASKS).map((k) => k.split('.').slice(0, 2).join('.')), 'app.customers_eu'],
);

/** Every SQL text with a stable id, in a stable order. */
function allTexts(): [string, string][] {
  const out: [string, string][] = [];
  for (const c of loadCorpus()) out.push([c.id, c.sql]);
  for (const c of loadLeakCorpus()) if (c.sql !== undefined) out.push([`leaks/${c.id}`, c.sql]);
  for (const c of loadWriteCorpus()) out.push([c.id, c.sql]);
  out.push(['fixtures/SHORT_QUERY', SHORT_QUERY], ['fixtures/ANALYTIC_40', ANALYTIC_40]);
  ALLOWED_QUERIES.forEach((q, i) => out.push([`fixtures/ALLOWED_QUERIES#${i + 1}`, q]));
  return out;
}

/** Sorted, with runs of one value written `value ×n`. */
function bag(items: Iterable<unknown>): string[] {
  const strs = [...items].map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).sort();
  const out: string[] = [];
  for (let i = 0; i < strs.length; ) {
    let j = i;
    while (j < strs.length && strs[j] === strs[i]) j++;
    out.push(j - i > 1 ? `${strs[i]} ×${j - i}` : (strs[i] as string));
    i = j;
  }
  return out;
}

/** Object/array identity → path from the root, iteratively (trees may be very deep). */
function pathsOf(root: unknown): Map<unknown, string> {
  const paths = new Map<unknown, string>();
  const stack: [unknown, string][] = [[root, '']];
  while (stack.length > 0) {
    const [v, p] = stack.pop() as [unknown, string];
    if (v === null || typeof v !== 'object' || paths.has(v)) continue;
    paths.set(v, p);
    if (Array.isArray(v)) v.forEach((x, i) => stack.push([x, `${p}[${i}]`]));
    else for (const k of Object.keys(v)) stack.push([(v as Record<string, unknown>)[k], `${p}.${k}`]);
  }
  return paths;
}

/** Drop empty and false entries so lines stay short. */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined || v === false || v === 0 || (Array.isArray(v) && v.length === 0)) continue;
    out[k] = v;
  }
  return out;
}

function guardFacts(f: Facts): Record<string, unknown> {
  return compact({
    nodes: f.nodeCount,
    depth: f.maxDepth,
    tooComplex: f.tooComplex,
    unknown: bag(f.unknownTypes),
    relations: bag(f.relations),
    functions: bag(f.functions),
    operators: bag(f.operators.map((o) => o.join('.'))),
    params: f.params,
    locking: f.locking,
    nestedWrites: bag(f.nestedWrites),
    nestedStatements: bag(f.nestedStatements),
    copyProgram: f.copyProgram,
    dynamicRegCasts: bag(f.dynamicRegCasts),
    regValueMixes: bag(f.regValueMixes),
  });
}

function maskFacts(r: WalkResult, paths: Map<unknown, string>): Record<string, unknown> {
  const at = (o: unknown): string => paths.get(o) ?? '<not in tree>';
  return compact({
    sites: bag(r.sites.map((s) => `${at(s.container)}${typeof s.slot === 'number' ? `[${s.slot}]` : `.${s.slot}`} ${s.key}${s.sample ? ' sampled' : ''} rv=${at(s.rangeVar)}`)),
    targets: bag(r.targets.map((t) => `${t.key} as ${t.alias}`)),
    starQualifiers: bag(r.starQualifiers),
    strays: bag(r.strays),
    textual: bag(r.textual),
    explainOptions: bag(r.explainOptions),
    nonProjected: bag(r.nonProjectedColumns),
    allColumns: bag(r.allColumns),
    using: bag(r.usingColumns),
    natural: r.natural,
    returningStar: r.returningStar,
    singleNames: bag(r.singleNames),
    assigned: bag(r.assignedColumns),
    insertAll: r.insertAllColumns,
    qualified: bag(r.qualifiedColumns.map(at)),
  });
}

function writeFacts(stmt: unknown, paths: Map<unknown, string>): Record<string, unknown>[] {
  const catalog = writeCatalog();
  const ctx: PredicateContext = {
    isNotNullColumn: (fields) => fields[fields.length - 1] === 'id',
    isVolatileFunction: (parts) => isVolatile(parts, catalog, SEARCH_PATH),
  };
  return findWrites(stmt).map((w) => {
    const where = w.body.whereClause;
    const ts = where === undefined ? undefined : truthSet(where, ctx);
    return compact({
      kind: w.kind,
      type: w.type,
      at: paths.get(w.body) ?? '<not in tree>',
      top: w.top,
      underExplain: w.underExplain,
      volatile: volatileCalls(w, catalog, SEARCH_PATH),
      whereDeterministic: where === undefined ? undefined : deterministic(where, ctx) ? 'yes' : 'no',
      whereTruth: ts === undefined ? undefined : `${ts.true ? 'T' : ''}${ts.false ? 'F' : ''}${ts.null ? 'N' : ''}`,
    });
  });
}

function factsLines(): string {
  const lines: string[] = [];
  const maskCtx = { catalog: maskCatalog(), searchPath: SEARCH_PATH, isMasked: (k: string) => MASKED_TABLES.has(k) };
  for (const [id, sql] of allTexts()) {
    const parsed = parseText(sql, PARSE_LIMITS);
    if (!parsed.ok) {
      lines.push(`${id} unparsed ${bag(parsed.reasons.map((r) => r.code)).join(',')}`);
      continue;
    }
    parsed.stmts.forEach((stmt, i) => {
      const sid = parsed.stmts.length > 1 ? `${id}#${i + 1}` : id;
      const facts = walkStatement(stmt, WALK_LIMITS, newFacts());
      const paths = pathsOf(stmt);
      const line: Record<string, unknown> = { guard: guardFacts(facts) };
      // the mask walk and the write analysis run only on statements the guard walked in full
      if (facts.tooComplex === undefined) {
        line.mask = maskFacts(walkForMasks(stmt, maskCtx), paths);
        line.writes = writeFacts(stmt, paths);
      }
      lines.push(`${sid} ${JSON.stringify(compact(line))}`);
    });
  }
  return `${lines.join('\n')}\n`;
}

describe('golden facts of the walkers over every corpus text', () => {
  beforeAll(async () => {
    await loadParser();
  });

  it('guard walk, mask walk and write analysis are unchanged', async () => {
    await expect(factsLines()).toMatchFileSnapshot('__snapshots__/golden-facts.txt');
  }, 120_000);
});
