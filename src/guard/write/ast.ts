/**
 * Small, typed-enough helpers over libpg-query's JSON parse trees for the write rules and planner.
 *
 * Guarantees: helpers never mutate their input; `findWrites` and `sameExpr` visit nodes
 * iteratively (no recursion) and spend a Budget (ast/budget.ts): when it runs out they throw
 * TooComplexError (the caller fails closed with STATEMENT_TOO_COMPLEX), never a partial answer;
 * `findWrites` is a visitor of the traversal core (ast/traverse.ts): a kind the raw parser cannot
 * produce, or a malformed node, throws RefusedNodeError (UNKNOWN_STATEMENT);
 * `sameExpr` ignores only `location` fields.
 * Why `sameExpr` is not a visitor of the core: it compares two trees in lockstep, which the core
 * (one tree, one visitor) does not do, and it makes no decision per node kind — every field of
 * every shape, known or not, is compared as data — so there is no table that could miss a kind:
 * an unknown or malformed shape can only make two trees equal when they are identical. Its
 * callers (tautology.ts) also require `deterministic`, a core visitor that refuses non-raw kinds.
 * Does not: resolve names against the catalog (target.ts) or judge anything.
 */
import { spend, writeAnalysisBudget, type Budget } from '../ast/budget.js';
import { unwrapNode } from '../ast/node.js';
import type { NodeTag } from '../ast/tags.js';
import { DML_STATEMENTS, type DmlKind, type DmlTag } from '../nodes.js';
import { descendRaw, THROW_ON_REFUSE, traverse, visitorTable, type NodeVisit, type Visitor } from '../ast/traverse.js';

/** A parse-tree object (a node body or a wrapped node). */
export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `{ Type: body }` → [Type, body]; anything else (not a node of the installed parser) → ['', {}] (ast/node.ts unwrapNode). */
export function unwrap(node: unknown): [NodeTag | '', Obj] {
  return unwrapNode(node) ?? ['', {}];
}

export function asArray(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The sval of a `{ String: { sval } }` node. */
export function str(node: unknown): string | undefined {
  const [t, b] = unwrap(node);
  return t === 'String' ? String(b.sval ?? '') : undefined;
}

/** Operator / qualified name list → last element (e.g. ['pg_catalog', '='] → '='). */
export function lastName(list: unknown): string | undefined {
  const arr = asArray(list);
  return arr.length === 0 ? undefined : str(arr[arr.length - 1]);
}

/** Names of a list of String nodes, or undefined if any element is not a String. */
export function names(list: unknown): string[] | undefined {
  const out: string[] = [];
  for (const x of asArray(list)) {
    const s = str(x);
    if (s === undefined) return undefined;
    out.push(s);
  }
  return out;
}

/** Fields that record character positions in the text (never meaning). */
function isPositionKey(k: string): boolean {
  return k === 'location' || k.endsWith('_location') || k === 'rexpr_list_start' || k === 'rexpr_list_end' || k === 'stmt_len';
}

/** Deep structural equality of two parse (sub)trees, ignoring position fields (`location`…). */
export function sameExpr(a: unknown, b: unknown, budget: Budget = writeAnalysisBudget()): boolean {
  const stack: [unknown, unknown][] = [[a, b]];
  while (stack.length > 0) {
    spend(budget);
    const [x, y] = stack.pop() as [unknown, unknown];
    if (x === y) continue;
    if (Array.isArray(x)) {
      if (!Array.isArray(y) || x.length !== y.length) return false;
      for (let i = 0; i < x.length; i++) stack.push([x[i], y[i]]);
      continue;
    }
    if (isObj(x)) {
      if (!isObj(y)) return false;
      const kx = Object.keys(x).filter((k) => !isPositionKey(k));
      const ky = Object.keys(y).filter((k) => !isPositionKey(k));
      if (kx.length !== ky.length) return false;
      for (const k of kx) {
        if (!(k in y)) return false;
        stack.push([x[k], y[k]]);
      }
      continue;
    }
    return false;
  }
  return true;
}

export interface FoundWrite {
  kind: DmlKind;
  type: string;
  body: Obj;
  /** The write is the statement itself (not inside WITH, EXPLAIN or a subquery). */
  top: boolean;
  /** The write sits under an EXPLAIN. */
  underExplain: boolean;
}

/** The statement frame is the root (flag of findWrites' walk). */
const W_TOP = 1;
/** Below an EXPLAIN. */
const W_EXPLAIN = 2;

function dmlWrite(n: NodeVisit<FoundWrite[]>): void {
  const kind = DML_STATEMENTS[n.tag as DmlTag];
  n.state.push({ kind, type: n.tag, body: n.body, top: (n.frameFlags & W_TOP) !== 0, underExplain: (n.frameFlags & W_EXPLAIN) !== 0 });
}

/** findWrites as a visitor of the traversal core: DML statements are recorded, EXPLAIN marks its subtree. */
const FIND_WRITES: Visitor<FoundWrite[]> = {
  table: visitorTable<FoundWrite[]>(descendRaw(), {
    InsertStmt: dmlWrite,
    UpdateStmt: dmlWrite,
    DeleteStmt: dmlWrite,
    MergeStmt: dmlWrite,
    ExplainStmt: (n) => {
      n.flags |= W_EXPLAIN;
    },
  }),
  inherit: W_EXPLAIN,
  listInherit: W_EXPLAIN,
  ...THROW_ON_REFUSE,
};

/**
 * Every INSERT/UPDATE/DELETE/MERGE in a statement, the statement itself first when it is one:
 * data-modifying CTEs at any depth and writes wrapped in EXPLAIN included. One pass of the
 * traversal core: spends `budget` and throws TooComplexError when it runs out, RefusedNodeError
 * on a kind the raw parser cannot produce (never a partial list).
 */
export function findWrites(stmt: unknown, budget: Budget = writeAnalysisBudget()): FoundWrite[] {
  return traverse(stmt, FIND_WRITES, [], budget, W_TOP);
}
