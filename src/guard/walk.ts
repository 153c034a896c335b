/**
 * The guard walk: one pass of the traversal core (src/guard/ast/traverse.ts) with the guard's
 * visitor (src/guard/facts/) over a raw parse tree, collecting every fact the policy needs.
 *
 * Guarantees:
 * - every node is visited: wrapped nodes (`{ Type: {...} }`), inline typed fields (from the
 *   generated INLINE_FIELDS table: InsertStmt.relation, SelectStmt.larg, …) and plain arrays;
 * - node count and depth are bounded (`maxNodes`, `maxDepth`, one budget shared by the
 *   statements of one text): past either the walk stops and reports `tooComplex` (the caller
 *   fails closed with STATEMENT_TOO_COMPLEX);
 * - unknown / malformed nodes: a kind that is not a statement or raw kind of the installed parser
 *   (ast/tags.ts NODE_ROLE), or a malformed node, is reported in `unknownTypes` and its subtree
 *   skipped (deny by default: UNKNOWN_STATEMENT);
 * - CTE names shadow relation names only within their scope (the WITH's statement, later CTEs
 *   of the same WITH, and every CTE of a WITH RECURSIVE); schema-qualified names never match a CTE;
 * - relations are collected from FROM/JOIN/subqueries/CTE bodies/LATERAL/set operations/TABLE,
 *   DML targets, regclass-typed literals (`'x'::regclass`), each with whether it says ONLY;
 *   functions from FuncCall anywhere, regproc/regprocedure literals and TABLESAMPLE methods;
 *   operators from A_Expr (BETWEEN as `>=`/`<=`), SubLink (IN (SELECT …) as `=`), ORDER BY … USING,
 *   CASE x WHEN (`=`) and JOIN … USING / NATURAL JOIN (`=`).
 * Does not: resolve names against the catalog or apply policy (relations.ts, functions.ts,
 * policy.ts); literal values are recorded only where they are names (regclass/regproc text).
 */
import { TooComplexError } from './ast/budget.js';
import { traverse } from './ast/traverse.js';
import { GUARD_VISITOR } from './facts/index.js';
import { F_ROOT, type Facts, type GuardWalk, type WalkLimits } from './facts/state.js';

export { newFacts, type Facts, type FunctionRef, type RelationRef, type RelationRole, type WalkLimits } from './facts/state.js';
export { literalString, REG_TYPES } from './facts/regtypes.js';

/**
 * Walk one statement (a wrapped node such as `{ SelectStmt: {...} }`) and add its facts to
 * `facts` (several statements may share one Facts, and with it one node budget).
 */
export function walkStatement(root: unknown, limits: WalkLimits, facts: Facts): Facts {
  const state: GuardWalk = {
    facts,
    budget: { maxNodes: limits.maxNodes, maxDepth: limits.maxDepth, spent: facts.nodeCount, deepest: facts.maxDepth },
  };
  try {
    traverse(root, GUARD_VISITOR, state, state.budget, F_ROOT);
  } catch (err) {
    if (!(err instanceof TooComplexError)) throw err;
    facts.tooComplex = err.limit;
  }
  facts.nodeCount = state.budget.spent;
  facts.maxDepth = state.budget.deepest;
  return facts;
}
