/**
 * Node-kind exhaustiveness (issue #15): every kind of the installed parser has exactly one role,
 * the generated field tables are current, the walkers refuse every kind the raw parser cannot
 * produce, and every raw kind occurs in at least one corpus case (so the descent into it is
 * pinned by a verdict). A parser upgrade that adds a kind fails here (and fails to compile in
 * src/guard/ast/tags.ts) until someone decides what it means.
 */
import { readFileSync } from 'node:fs';
import { parseSync } from 'libpg-query';
import { beforeAll, describe, expect, it } from 'vitest';
import { INLINE_FIELDS, NODE_TYPES } from '../../../../src/guard/ast/fields.js';
import { render } from '../../../../src/guard/ast/gen-fields.js';
import { NODE_ROLE, tagsWithRole, type NodeTag } from '../../../../src/guard/ast/tags.js';
import { REFUSE, RefusedNodeError } from '../../../../src/guard/ast/traverse.js';
import { RESOLVER_SCAN } from '../../../../src/guard/resolve.js';
import { findWrites } from '../../../../src/guard/write/ast.js';
import { volatileCalls } from '../../../../src/guard/write/reversible.js';
import { deterministic } from '../../../../src/guard/write/tautology.js';
import { writeCatalog } from '../write/fixtures.js';
import { KNOWN_NODES, STATEMENT_CLASS } from '../../../../src/guard/nodes.js';
import { loadParser } from '../../../../src/guard/parse.js';
import { newFacts, walkStatement } from '../../../../src/guard/walk.js';
import { loadCorpus } from '../../../corpus/index.js';
import { loadLeakCorpus } from '../../../corpus/leaks/index.js';
import { loadWriteCorpus } from '../../../corpus/writes/index.js';

const LIMITS = { maxNodes: 50_000, maxDepth: 1000 };

/** Every node kind in the parse trees of every corpus text. */
function kindsInCorpus(): Set<string> {
  const seen = new Set<string>();
  const texts = [...loadCorpus().map((c) => c.sql), ...loadLeakCorpus().flatMap((c) => (c.sql === undefined ? [] : [c.sql])), ...loadWriteCorpus().map((c) => c.sql)];
  for (const sql of texts) {
    if (sql.length > 100_000) continue;
    let tree: unknown;
    try {
      tree = parseSync(sql);
    } catch {
      continue;
    }
    const stack: [unknown, string][] = [[(tree as { stmts?: unknown }).stmts, '']];
    while (stack.length > 0) {
      const [v, inlineTag] = stack.pop() as [unknown, string];
      if (v === null || typeof v !== 'object') continue;
      if (Array.isArray(v)) {
        for (const x of v) stack.push([x, '']);
        continue;
      }
      let tag = inlineTag;
      let body = v as Record<string, unknown>;
      if (tag === '') {
        const keys = Object.keys(v);
        if (keys.length === 1 && /^[A-Z]/.test(keys[0] as string)) {
          tag = keys[0] as string;
          body = (v as Record<string, Record<string, unknown>>)[tag] as Record<string, unknown>;
        }
      }
      if (tag !== '') seen.add(tag);
      if (body === null || typeof body !== 'object') continue;
      for (const k of Object.keys(body)) {
        const it = tag === '' ? undefined : INLINE_FIELDS[tag]?.[k];
        stack.push([body[k], it !== undefined && !Array.isArray(body[k]) ? it : '']);
      }
    }
  }
  return seen;
}

describe('every node kind of the installed parser is classified and handled explicitly', () => {
  beforeAll(async () => {
    await loadParser();
  });

  it('NODE_ROLE covers exactly the generated NODE_TYPES of @pgsql/types', () => {
    expect(Object.keys(NODE_ROLE).sort()).toEqual([...NODE_TYPES].sort());
  });

  it('the statement and raw roles are the guard tables (STATEMENT_CLASS, KNOWN_NODES)', () => {
    expect(Object.keys(STATEMENT_CLASS).sort()).toEqual(tagsWithRole('statement'));
    expect([...KNOWN_NODES].sort()).toEqual(tagsWithRole('raw'));
    expect(tagsWithRole('statement').length + tagsWithRole('raw').length + tagsWithRole('post-analysis').length + tagsWithRole('result-wrapper').length).toBe(NODE_TYPES.size);
  });

  it('src/guard/ast/fields.ts is what its generator renders today', () => {
    expect(readFileSync(new URL('../../../../src/guard/ast/fields.ts', import.meta.url), 'utf8')).toBe(render());
  });

  it('the guard walk refuses every kind the raw parser cannot produce, wherever it sits', () => {
    const refused = (tag: NodeTag): string[] => {
      const inExpr = { SelectStmt: { targetList: [{ ResTarget: { val: { [tag]: {} } } }] } };
      return walkStatement(inExpr, LIMITS, newFacts()).unknownTypes;
    };
    for (const tag of [...tagsWithRole('post-analysis'), ...tagsWithRole('result-wrapper')]) {
      expect(refused(tag), tag).toContain(tag);
      expect(walkStatement({ [tag]: {} }, LIMITS, newFacts()).unknownTypes, tag).toContain(tag);
    }
    for (const tag of tagsWithRole('raw')) expect(refused(tag), tag).not.toContain(tag);
  });

  it('the write analysis walkers refuse them too (they throw: UNKNOWN_STATEMENT, never a partial answer)', () => {
    const ctx = { isNotNullColumn: () => false, isVolatileFunction: () => false };
    for (const tag of [...tagsWithRole('post-analysis'), ...tagsWithRole('result-wrapper'), 'NoSuchNode', 'lowercase']) {
      const expr = { [tag]: {} };
      const update = { UpdateStmt: { relation: { relname: 'orders', inh: true }, whereClause: expr } };
      expect(() => findWrites(update), tag).toThrow(RefusedNodeError);
      expect(() => deterministic(expr, ctx), tag).toThrow(RefusedNodeError);
      const w = { kind: 'update' as const, type: 'UpdateStmt', body: update.UpdateStmt, top: true, underExplain: false };
      expect(() => volatileCalls(w, writeCatalog(), ['app']), tag).toThrow(RefusedNodeError);
    }
  });

  it("the resolver's statement scan refuses them too (its table: REFUSE exactly for the non-raw kinds)", () => {
    for (const tag of Object.keys(NODE_ROLE) as NodeTag[]) {
      const raw = NODE_ROLE[tag] === 'raw' || NODE_ROLE[tag] === 'statement';
      expect(RESOLVER_SCAN.table[tag] === REFUSE, tag).toBe(!raw);
    }
  });

  it('every raw kind occurs in at least one corpus case', () => {
    const seen = kindsInCorpus();
    expect(tagsWithRole('raw').filter((t) => !seen.has(t))).toEqual([]);
    // nothing post-analysis can come out of the parser
    expect([...seen].filter((t) => NODE_ROLE[t as NodeTag] !== 'raw' && NODE_ROLE[t as NodeTag] !== 'statement')).toEqual([]);
  });
});
