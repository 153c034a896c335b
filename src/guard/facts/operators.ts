/**
 * Which operators each operator-bearing syntax makes PostgreSQL look up by name through the
 * search_path (a user-defined operator of that name there can be picked), as total tables over
 * the parser's enums: a parser upgrade that adds an A_Expr or SubLink kind is a compile error
 * here until someone decides what it looks up.
 *
 * Guarantees: every A_Expr_Kind and SubLinkType has an explicit entry; `x IN (SELECT …)`
 * (ANY_SUBLINK with no operator name) records `=` as PostgreSQL's transformSubLink looks it up;
 * an unknown kind (a tree from a newer parser) is judged by its operator name if it has one.
 * Also the guard walk's handlers for A_Expr, SubLink, SortBy (USING op), CASE x WHEN and JOIN
 * USING / NATURAL (`=`).
 * Does not: judge the operators (functions.ts does).
 */
import type { A_Expr_Kind, SubLinkType } from '@pgsql/types';
import type { NodeVisit } from '../ast/traverse.js';
import { nameList } from '../names.js';
import { regMix, regMixAll } from './regtypes.js';
import { ANY_OPERAND, type GuardWalk } from './state.js';

/** 'named': the node's own `name` list; a list: those operators, looked up by name. */
export const A_EXPR_OPERATORS: Readonly<Record<A_Expr_Kind, 'named' | readonly string[]>> = {
  AEXPR_OP: 'named',
  AEXPR_OP_ANY: 'named',
  AEXPR_OP_ALL: 'named',
  AEXPR_DISTINCT: 'named',
  AEXPR_NOT_DISTINCT: 'named',
  AEXPR_NULLIF: 'named',
  AEXPR_IN: 'named',
  AEXPR_LIKE: 'named',
  AEXPR_ILIKE: 'named',
  AEXPR_SIMILAR: 'named',
  // BETWEEN is `>=` and `<=`, NOT BETWEEN `<` and `>` (the grammar keeps only the keyword)
  AEXPR_BETWEEN: ['>=', '<='],
  AEXPR_BETWEEN_SYM: ['>=', '<='],
  AEXPR_NOT_BETWEEN: ['<', '>'],
  AEXPR_NOT_BETWEEN_SYM: ['<', '>'],
};

/**
 * 'named': operName when present; 'named-or-eq': operName, else `=` (IN (SELECT …) has no
 * operName, yet PostgreSQL looks `=` up by name); 'none': the form compares nothing.
 */
export const SUBLINK_OPERATORS: Readonly<Record<SubLinkType, 'named' | 'named-or-eq' | 'none'>> = {
  ANY_SUBLINK: 'named-or-eq',
  ALL_SUBLINK: 'named',
  ROWCOMPARE_SUBLINK: 'named',
  EXISTS_SUBLINK: 'none',
  EXPR_SUBLINK: 'none',
  MULTIEXPR_SUBLINK: 'none',
  ARRAY_SUBLINK: 'none',
  CTE_SUBLINK: 'none',
};

/** Operators an A_Expr body looks up (an unknown kind: its own name). */
export function aExprOperators(body: Record<string, unknown>, out: string[][]): void {
  const how = A_EXPR_OPERATORS[body.kind as A_Expr_Kind] ?? 'named';
  if (how === 'named') {
    const op = nameList(body.name);
    if (op) out.push(op);
  } else {
    for (const op of how) out.push([op]);
  }
}

/** Operators a SubLink body looks up (an unknown kind: its operName if any). */
export function subLinkOperators(body: Record<string, unknown>, out: string[][]): void {
  const how = SUBLINK_OPERATORS[body.subLinkType as SubLinkType] ?? 'named';
  const op = nameList(body.operName);
  if (op && op.length > 0) out.push(op);
  else if (how === 'named-or-eq') out.push(['=']);
}

// Guard-walk handlers (src/guard/facts/index.ts) for the operator-bearing kinds.

/**
 * How an A_Expr's operands meet its operator, for type-based resolution (resolve.ts): 'paired'
 * compares lexpr and rexpr as written; 'nullif' too, and its result is one of the two (their
 * types mix); 'list': the right side is a list, an array or BETWEEN bounds (any operand type).
 */
export const A_EXPR_OPERANDS: Readonly<Record<A_Expr_Kind, 'paired' | 'nullif' | 'list'>> = {
  AEXPR_OP: 'paired',
  AEXPR_OP_ANY: 'list',
  AEXPR_OP_ALL: 'list',
  AEXPR_DISTINCT: 'paired',
  AEXPR_NOT_DISTINCT: 'paired',
  AEXPR_NULLIF: 'nullif',
  AEXPR_IN: 'list',
  AEXPR_LIKE: 'paired',
  AEXPR_ILIKE: 'paired',
  AEXPR_SIMILAR: 'paired',
  AEXPR_BETWEEN: 'list',
  AEXPR_NOT_BETWEEN: 'list',
  AEXPR_BETWEEN_SYM: 'list',
  AEXPR_NOT_BETWEEN_SYM: 'list',
};

export function aExpr(n: NodeVisit<GuardWalk>): void {
  const facts = n.state.facts;
  const before = facts.operators.length;
  aExprOperators(n.body, facts.operators);
  // the operands, for type-based resolution of the operator (resolve.ts)
  const shape = A_EXPR_OPERANDS[n.body.kind as A_Expr_Kind] as (typeof A_EXPR_OPERANDS)[A_Expr_Kind] | undefined; // undefined: a kind this parser does not have
  const operands = { left: n.body.lexpr ?? undefined, right: shape === 'paired' || shape === 'nullif' ? n.body.rexpr : ANY_OPERAND };
  for (let i = before; i < facts.operators.length; i++) facts.operatorArgs.set(facts.operators[i] as string[], operands);
  if (shape === 'nullif') regMixAll([n.body.lexpr, n.body.rexpr], facts);
}

export function subLink(n: NodeVisit<GuardWalk>): void {
  subLinkOperators(n.body, n.state.facts.operators);
}

/** ORDER BY … USING op. */
export function sortBy(n: NodeVisit<GuardWalk>): void {
  const op = nameList(n.body.useOp);
  if (op && op.length > 0) n.state.facts.operators.push(op);
}

/** CASE x WHEN y …: each WHEN compares with the `=` operator found through the search_path. */
export function caseExpr(n: NodeVisit<GuardWalk>): void {
  const b = n.body;
  const facts = n.state.facts;
  if (b.arg !== undefined && b.arg !== null) facts.operators.push(['=']);
  for (const w of Array.isArray(b.args) ? b.args : []) regMix((w as { CaseWhen?: { result?: unknown } }).CaseWhen?.result, facts);
  regMix(b.defresult, facts);
}

/** JOIN … USING (c) and NATURAL JOIN compare the columns with the `=` operator found by name. */
export function joinExpr(n: NodeVisit<GuardWalk>): void {
  const b = n.body;
  if (b.isNatural === true || (Array.isArray(b.usingClause) && b.usingClause.length > 0)) n.state.facts.operators.push(['=']);
}
