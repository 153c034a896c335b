/**
 * The one node budget of the AST walkers, and the error that ends a walk when it runs out.
 *
 * Guarantees: `spend` throws TooComplexError once more than `maxNodes` units are spent — a walker
 * never stops early and returns a partial answer; the guard turns the error into
 * STATEMENT_TOO_COMPLEX (policy.ts, index.ts, write/plan.ts). One Budget is shared by every walker
 * that judges one statement after the guard walk (findWrites, volatileCalls, deterministic,
 * sameExpr), so re-reading subtrees cannot multiply the work without bound.
 * Does not: decide the limits (config `guard.max_ast_nodes`, capped at MAX_AST_NODES_CAP).
 */

/** Upper bound of `guard.max_ast_nodes` (config schema): every default budget below assumes it. */
export const MAX_AST_NODES_CAP = 200_000;

/** Upper bound of the walk depth (the guard's maxAstDepth, default 1000). */
export const MAX_AST_DEPTH_CAP = 10_000;

/**
 * The write analysis reads a statement the guard walk accepted several times (findWrites for the
 * shape rules and again for the execute rules, volatile calls, the tautology evaluator's
 * deterministic/sameExpr over overlapping subtrees): its budget is this many times the walk's
 * node limit, so an accepted statement of ordinary shape never runs it out.
 */
export const WRITE_ANALYSIS_FACTOR = 8;

export class TooComplexError extends Error {
  constructor(
    readonly limit: 'nodes' | 'depth',
    readonly max: number,
  ) {
    super(limit === 'nodes' ? `the parse tree needs more than ${max} node visits to judge` : `the parse tree is nested deeper than ${max} levels`);
    this.name = 'TooComplexError';
  }
}

export interface Budget {
  readonly maxNodes: number;
  readonly maxDepth: number;
  /** Units spent so far. */
  spent: number;
  /** Deepest node reached so far (the traversal core keeps it). */
  deepest: number;
}

export function newBudget(maxNodes: number, maxDepth: number = MAX_AST_DEPTH_CAP): Budget {
  return { maxNodes, maxDepth, spent: 0, deepest: 0 };
}

/** The budget of the write analysis for a statement walked under `maxNodes`. */
export function writeAnalysisBudget(maxNodes: number = MAX_AST_NODES_CAP): Budget {
  return newBudget(maxNodes * WRITE_ANALYSIS_FACTOR);
}

/** Spend one unit (a node or list visited); throws TooComplexError past the limit. */
export function spend(b: Budget): void {
  if (++b.spent > b.maxNodes) throw new TooComplexError('nodes', b.maxNodes);
}
