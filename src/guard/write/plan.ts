/**
 * The write planner (pure): from the parse tree of one top-level write to a WritePlan — the SQL
 * that measures its blast radius, captures its before-images and runs it with RETURNING.
 *
 * Guarantees:
 * - every SQL text is produced by pgsql-deparser from a transformed DEEP CLONE of the agent's tree
 *   (Decision.stmt is never mutated); nothing of the agent's text is spliced; identifiers are
 *   quoted by the deparser;
 * - every text is verified before it is returned: it re-parses (libpg-query) to exactly one
 *   statement whose tree equals the transformed tree (locations aside); any difference fails
 *   closed with WRITE_NOT_PLANNABLE;
 * - UPDATE t SET … [FROM f] WHERE w / DELETE FROM t [USING u] WHERE w:
 *     countSql   = [WITH …] SELECT pg_catalog.count(*) FROM t [AS a] WHERE w
 *                  or, with FROM/USING, … FROM t [AS a] WHERE EXISTS (SELECT 1 FROM f WHERE w)
 *                  (each target row counted once, as the write changes it at most once);
 *     captureSql = [WITH …] SELECT a.* FROM t [AS a] WHERE <same> FOR UPDATE OF a;
 *   INSERT … VALUES: rowsFromAst (DEFAULT VALUES: 1); INSERT … SELECT: countSql =
 *   [WITH …] SELECT pg_catalog.count(*) FROM (<select>) AS s (an upper bound with ON CONFLICT);
 *   MERGE: uncountable;
 * - executeSql = the statement with `RETURNING a.*` (a: the alias, else the table name); MERGE
 *   (irreversible, run only under allow_irreversible) gets no RETURNING (PostgreSQL < 17).
 * Does not: run anything, apply thresholds, or decide whether the policy allows the write
 * (the guard's rules.ts does; planWrite refuses only what it cannot plan).
 */
import { parseSync } from '../pgquery.js';
import { deparserLibrary } from '../deparser.js';
import { reason, type Reason } from '../reasons.js';
import type { CatalogSnapshot, Decision } from '../types.js';
import type { WritePlan } from '../write-plan.js';
import { TooComplexError, writeAnalysisBudget, type Budget } from '../ast/budget.js';
import { RefusedNodeError } from '../ast/traverse.js';
import { asArray, findWrites, isObj, sameExpr, unwrap, type FoundWrite, type Obj } from './ast.js';
import { definitionsDigest, writeReach } from './reach.js';
import { irreversibility } from './reversible.js';
import { hasReturning } from './rules.js';
import { writeTarget, type WriteTargetInfo } from './target.js';

export type PlanResult = WritePlan | { reasons: Reason[] };

export function isWritePlan(r: PlanResult): r is WritePlan {
  return !('reasons' in r);
}

export interface PlanOptions {
  /** Re-parse every produced text and compare trees (default true; only benchmarks turn it off). */
  verify?: boolean;
  /** The node budget of the analysis (default: the write-analysis budget at the config's cap). */
  budget?: Budget;
}

function notPlannable(message: string, fix?: string): { reasons: Reason[] } {
  return { reasons: [reason('WRITE_NOT_PLANNABLE', message, fix)] };
}

function isDecision(x: unknown): x is Decision {
  return isObj(x) && 'decision' in x && 'reasons' in x;
}

const S = (sval: string): Obj => ({ String: { sval } });

function countTarget(): Obj {
  return {
    ResTarget: { val: { FuncCall: { funcname: [S('pg_catalog'), S('count')], agg_star: true, funcformat: 'COERCE_EXPLICIT_CALL' } } },
  };
}

function select(fields: Obj): Obj {
  return { SelectStmt: { ...fields, limitOption: 'LIMIT_OPTION_DEFAULT', op: 'SETOP_NONE' } };
}

/** WHERE of the count/capture: w, or EXISTS (SELECT 1 FROM others WHERE w). */
function targetPredicate(body: Obj, others: unknown[]): unknown {
  if (others.length === 0) return body.whereClause;
  const inner: Obj = { targetList: [{ ResTarget: { val: { A_Const: { ival: { ival: 1 } } } } }], fromClause: others };
  if (body.whereClause !== undefined) inner.whereClause = body.whereClause;
  return { SubLink: { subLinkType: 'EXISTS_SUBLINK', subselect: select(inner) } };
}

function withPart(body: Obj): Obj {
  return body.withClause === undefined ? {} : { withClause: body.withClause };
}

/** Deparse a tree and check it re-parses to the same tree. */
function emit(tree: Obj, verify: boolean): string | undefined {
  let sql: string;
  try {
    sql = deparserLibrary().deparseSync(tree as never, { pretty: false });
  } catch {
    return undefined;
  }
  if (!verify) return sql;
  try {
    const parsed = parseSync(sql);
    const stmts = parsed.stmts ?? [];
    if (stmts.length !== 1) return undefined;
    return sameExpr(stmts[0]?.stmt, tree) ? sql : undefined;
  } catch {
    return undefined;
  }
}

function returningAll(refName: string): Obj {
  return { exprs: [{ ResTarget: { val: { ColumnRef: { fields: [S(refName), { A_Star: {} }] } } } }] };
}

function isPlainValues(sel: unknown): number | undefined {
  const [t, b] = unwrap(sel);
  if (t !== 'SelectStmt') return undefined;
  const lists = asArray(b.valuesLists);
  if (lists.length === 0) return undefined;
  for (const k of ['sortClause', 'limitCount', 'limitOffset', 'withClause', 'lockingClause']) if (b[k] !== undefined) return undefined;
  return lists.length;
}

/**
 * Plan one write. Accepts the guard's Decision (its `stmt`) or the statement node itself.
 * Returns a WritePlan, or reasons when the statement is not exactly one plannable top-level write.
 */
export function planWrite(input: Decision | unknown, catalog: CatalogSnapshot, searchPath: readonly string[], opts: PlanOptions = {}): PlanResult {
  try {
    return planWithin(input, catalog, searchPath, opts.verify !== false, opts.budget ?? writeAnalysisBudget());
  } catch (err) {
    // a tree too large to analyse is refused, never planned from a partial walk
    if (err instanceof TooComplexError) return { reasons: [reason('STATEMENT_TOO_COMPLEX', `the write analysis ran out of its budget: ${err.message}`)] };
    if (err instanceof RefusedNodeError) return { reasons: [reason('UNKNOWN_STATEMENT', err.message)] };
    throw err;
  }
}

function planWithin(input: Decision | unknown, catalog: CatalogSnapshot, searchPath: readonly string[], verify: boolean, budget: Budget): PlanResult {
  const stmt = isDecision(input) ? input.stmt : input;
  if (stmt === undefined) return notPlannable('there is no parsed statement to plan');
  const writes = findWrites(stmt, budget);
  const top = writes[0];
  if (top === undefined) return { reasons: [reason('NOT_A_WRITE', 'the statement does not write')] };
  if (!top.top || writes.length > 1) return notPlannable('only one top-level INSERT, UPDATE, DELETE or MERGE can be planned (no data-modifying WITH, no EXPLAIN)');
  if (hasReturning(top)) return { reasons: [reason('RETURNING_NOT_ALLOWED', `the ${top.kind.toUpperCase()} has a RETURNING clause`)] };
  const t = writeTarget(top, catalog, searchPath);
  if (t === undefined || t.schema === undefined || t.rel === undefined) return notPlannable('the target relation is not in the catalog', 'Check the table name with describe.');
  if (unwrap(top.body.whereClause)[0] === 'CurrentOfExpr') return notPlannable('WHERE CURRENT OF cannot be planned');

  const irreversibleReasons = irreversibility(top, t, catalog, searchPath, budget);
  const body = structuredClone(top.body);
  const plan: WritePlan = {
    kind: top.kind,
    target: targetOf(t),
    executeSql: '',
    reversible: irreversibleReasons.length === 0,
    irreversibleReasons,
  };
  if (t.rel.estimatedRows !== undefined && t.rel.estimatedRows >= 0) plan.tableEstimatedRows = t.rel.estimatedRows;
  const relations = writeReach(top, t, catalog).relations;
  plan.definitions = { relations, digest: definitionsDigest(relations, (k) => catalog.relations.get(k)?.write) };

  const measured = measure(top, body, t, verify, plan);
  if (measured !== undefined) return measured;

  const exec: Obj = { ...body };
  if (top.kind !== 'merge') exec.returningClause = returningAll(t.refName);
  const executeSql = emit({ [top.type]: exec }, verify);
  if (executeSql === undefined) return notPlannable(`the ${top.kind.toUpperCase()} could not be rewritten with RETURNING`);
  plan.executeSql = executeSql;
  return plan;
}

function targetOf(t: WriteTargetInfo): WritePlan['target'] {
  const info = t.rel?.write;
  const target: WritePlan['target'] = { schema: t.schema as string, name: t.name, primaryKey: [...(info?.primaryKey ?? [])] };
  if (t.alias !== undefined) target.alias = t.alias;
  if (info !== undefined) {
    target.generatedColumns = [...info.generated];
    target.identityAlwaysColumns = [...info.identityAlways];
  }
  return target;
}

/** Fill countSql / rowsFromAst / uncountableReason / captureSql; returns reasons on failure. */
function measure(top: FoundWrite, body: Obj, t: WriteTargetInfo, verify: boolean, plan: WritePlan): { reasons: Reason[] } | undefined {
  switch (top.kind) {
    case 'merge':
      plan.uncountableReason = 'MERGE: the rows it changes depend on its WHEN clauses and are not counted in this version';
      return undefined;
    case 'insert': {
      const sel = body.selectStmt;
      if (sel === undefined) {
        plan.rowsFromAst = 1; // DEFAULT VALUES
      } else {
        const n = isPlainValues(sel);
        if (n !== undefined) plan.rowsFromAst = n;
        else {
          const count = select({
            ...withPart(body),
            targetList: [countTarget()],
            fromClause: [{ RangeSubselect: { subquery: sel, alias: { aliasname: 's' } } }],
          });
          const sql = emit(count, verify);
          if (sql === undefined) return notPlannable('the INSERT … SELECT could not be turned into a count');
          plan.countSql = sql;
        }
      }
      if (body.onConflictClause !== undefined) plan.countIsUpperBound = true;
      return undefined;
    }
    case 'update':
    case 'delete': {
      const others = asArray(top.kind === 'update' ? body.fromClause : body.usingClause);
      const from = [{ RangeVar: body.relation }];
      const where = targetPredicate(body, others);
      const base: Obj = { ...withPart(body), fromClause: from };
      if (where !== undefined) base.whereClause = where;
      const count = emit(select({ ...base, targetList: [countTarget()] }), verify);
      const capture = emit(
        select({
          ...base,
          targetList: [{ ResTarget: { val: { ColumnRef: { fields: [S(t.refName), { A_Star: {} }] } } } }],
          lockingClause: [{ LockingClause: { lockedRels: [{ RangeVar: { relname: t.refName, inh: true, relpersistence: 'p' } }], strength: 'LCS_FORUPDATE', waitPolicy: 'LockWaitBlock' } }],
        }),
        verify,
      );
      if (count === undefined || capture === undefined) return notPlannable(`the ${top.kind.toUpperCase()} could not be turned into a count and a capture`);
      plan.countSql = count;
      plan.captureSql = capture;
      return undefined;
    }
    default:
      return notPlannable('unknown write kind');
  }
}
