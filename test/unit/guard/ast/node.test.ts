/**
 * Reading a wrapped node outside the traversal core (src/guard/ast/node.ts): the tag is a NodeTag
 * of the installed parser, at run time and in the types, so the readers' switches and tag
 * comparisons (classify, resolve, the write analysis, the tautology evaluator, the mask walk) are
 * checked by the compiler: a misspelt or removed tag is a compile error (`npm run typecheck` runs
 * this file; the @ts-expect-error lines fail it if the check ever goes away).
 */
import { describe, expect, it } from 'vitest';
import { unwrapNode } from '../../../../src/guard/ast/node.js';
import { unwrap } from '../../../../src/guard/write/ast.js';

describe('unwrapNode', () => {
  it('reads a node of the installed parser as [tag, body]', () => {
    const body = { ival: { ival: 1 } };
    expect(unwrapNode({ A_Const: body })).toEqual(['A_Const', body]);
  });

  it('reads anything else as not a node (undefined): unknown tags, lower-case keys, several keys, non-object bodies', () => {
    expect(unwrapNode({ NoSuchNode: {} })).toBeUndefined();
    expect(unwrapNode({ '?': {} })).toBeUndefined();
    expect(unwrapNode({ sval: {} })).toBeUndefined();
    expect(unwrapNode({ A_Const: {}, ColumnRef: {} })).toBeUndefined();
    expect(unwrapNode({ A_Const: [] })).toBeUndefined();
    expect(unwrapNode({ A_Const: null })).toBeUndefined();
    expect(unwrapNode([{ A_Const: {} }])).toBeUndefined();
    expect(unwrapNode('A_Const')).toBeUndefined();
    expect(unwrap({ NoSuchNode: { sval: 'x' } })).toEqual(['', {}]);
  });

  it('types the tag as NodeTag: comparing it with a tag the parser does not have does not compile', () => {
    const u = unwrapNode({ SelectStmt: {} });
    // @ts-expect-error 'SelectStmnt' is not a NodeTag
    expect(u?.[0] === 'SelectStmnt').toBe(false);
    const [t] = unwrap({ ColumnRef: {} });
    const kind = (tag: typeof t): string => {
      switch (tag) {
        case 'ColumnRef':
          return 'column';
        // @ts-expect-error 'ColumnRefs' is not a NodeTag
        case 'ColumnRefs':
          return 'never';
        default:
          return 'other';
      }
    };
    expect(kind(t)).toBe('column');
  });
});
