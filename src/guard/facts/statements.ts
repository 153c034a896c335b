/**
 * Statement-level facts of the guard walk: nested statements and writes, CTE scoping, DML targets,
 * relations named in FROM / by DDL / as creation targets, locking, parameters, COPY.
 *
 * Guarantees: CTE names shadow relation names only within their scope (the WITH's statement, later
 * CTEs of the same WITH, every CTE of a WITH RECURSIVE); schema-qualified names never match a CTE;
 * a DML target is always a real relation (never a CTE); RangeVars under a utility/DDL/DCL
 * statement are recorded with role 'other'.
 * Does not: judge the statement class (classify.ts) or the relations (relations.ts).
 */
import type { ObjectType, SQLValueFunctionOp } from '@pgsql/types';
import { SKIP, type NodeVisit, type Scope, inScope } from '../ast/traverse.js';
import { CREATE_TABLE_AS_OBJECT, DML_STATEMENTS, STATEMENT_CLASS, type DmlKind, type DmlTag } from '../nodes.js';
import { regMix, regMixAll } from './regtypes.js';
import { F_CREATE_TARGET, F_OTHER, F_ROOT, F_WRITE_TARGET, type GuardWalk } from './state.js';


/** Every statement: nested writes and statements below the root, and the utility flag. */
export function statement(n: NodeVisit<GuardWalk>): void {
  const t = n.tag;
  const cls = STATEMENT_CLASS[t];
  const facts = n.state.facts;
  if ((n.frameFlags & F_ROOT) === 0) {
    const dml = DML_STATEMENTS[t as DmlTag] as DmlKind | undefined;
    if (dml) facts.nestedWrites.push(dml);
    else if (t !== 'SelectStmt') facts.nestedStatements.push(t);
  }
  if (cls !== 'read' && cls !== 'write' && cls !== 'explain') n.flags |= F_OTHER;
  if (t === 'CreateTableAsStmt' && CREATE_TABLE_AS_OBJECT[n.body.objtype as ObjectType] !== 'table') n.flags |= F_OTHER; // a materialized view (or a form this parser cannot make)
}

/** WITH: each CTE sees the CTEs before it (all of them under RECURSIVE); the statement sees all. */
function withClause(n: NodeVisit<GuardWalk>): void {
  const w = n.body.withClause as { ctes?: unknown[]; recursive?: boolean } | undefined;
  if (!w) return;
  n.state.budget.spent++; // the WithClause itself
  const scope = n.scope;
  const ctes = Array.isArray(w.ctes) ? w.ctes : [];
  const names = ctes.map((c) => ((c as { CommonTableExpr?: { ctename?: string } }).CommonTableExpr?.ctename ?? ''));
  const bodyScope: Scope = { names, parent: scope };
  for (let i = ctes.length - 1; i >= 0; i--) {
    const cteScope: Scope | undefined = w.recursive ? bodyScope : i === 0 ? scope : { names: names.slice(0, i), parent: scope };
    n.push(ctes[i], '', cteScope, n.flags);
  }
  n.scope = bodyScope;
  n.skip1 = 'withClause';
}

export function selectStmt(n: NodeVisit<GuardWalk>): void {
  statement(n);
  withClause(n);
  const b = n.body;
  const facts = n.state.facts;
  if (b.lockingClause) facts.locking = true;
  // outputs of a sub-select, CTE or set-operation branch meet other values in the outer query
  if ((n.frameFlags & F_ROOT) === 0 && Array.isArray(b.targetList)) {
    for (const rt of b.targetList) regMix((rt as { ResTarget?: { val?: unknown } }).ResTarget?.val, facts);
  }
  if (Array.isArray(b.valuesLists)) {
    for (const row of b.valuesLists) regMixAll((row as { List?: { items?: unknown } }).List?.items, facts);
  }
}

/** INSERT / UPDATE / DELETE / MERGE: the target is a real relation, never a CTE. */
export function dmlStmt(n: NodeVisit<GuardWalk>): void {
  statement(n);
  withClause(n);
  const rel = n.body.relation;
  if (rel && typeof rel === 'object') {
    n.push(rel, 'RangeVar', undefined, n.flags | F_WRITE_TARGET);
    n.skip2 = 'relation';
  }
}

/** EXPLAIN: the explained statement is a root (its class is judged, not "nested"). */
export function explainStmt(n: NodeVisit<GuardWalk>): void {
  statement(n);
  if (explainOption(n.body.options, 'settings')) n.state.facts.explainSettings = true;
  if (n.body.query) n.push(n.body.query, '', n.scope, n.flags | F_ROOT);
  n.skip1 = 'query';
}

export function copyStmt(n: NodeVisit<GuardWalk>): void {
  statement(n);
  if (n.body.is_program || typeof n.body.filename === 'string') n.state.facts.copyProgram = true;
}

/** SELECT INTO / CREATE TABLE AS target: a new relation, not looked up. */
export function intoClause(n: NodeVisit<GuardWalk>): void {
  if (n.body.rel) n.push(n.body.rel, 'RangeVar', undefined, n.flags | F_CREATE_TARGET);
  n.skip1 = 'rel';
}

export function rangeVar(n: NodeVisit<GuardWalk>): void {
  const b = n.body;
  const f = n.frameFlags;
  const relations = n.state.facts.relations;
  const schema = b.schemaname as string | undefined;
  const name = (b.relname as string | undefined) ?? '';
  const catalog = b.catalogname as string | undefined;
  const parts = catalog !== undefined ? [catalog, schema ?? '', name] : schema !== undefined ? [schema, name] : [name];
  if (f & F_CREATE_TARGET) relations.push({ parts, role: 'create' });
  else if (f & F_WRITE_TARGET) relations.push(b.inh === true ? { parts, role: 'write' } : { parts, role: 'write', only: true });
  else if (f & F_OTHER) relations.push({ parts, role: 'other' });
  else if (!(schema === undefined && catalog === undefined && inScope(n.scope, name))) {
    relations.push(b.inh === true ? { parts, role: 'read' } : { parts, role: 'read', only: true });
  }
}

/** Whether an EXPLAIN option list turns `name` on (`(SETTINGS)`, `(SETTINGS true)`, `(SETTINGS on)` …). */
function explainOption(options: unknown, name: string): boolean {
  if (!Array.isArray(options)) return false;
  for (const o of options) {
    const d = (o as { DefElem?: { defname?: string; arg?: unknown } }).DefElem;
    if (d?.defname?.toLowerCase() !== name) continue;
    const arg = d.arg as { Boolean?: { boolval?: boolean }; String?: { sval?: string }; Integer?: { ival?: number }; A_Const?: unknown } | undefined;
    if (arg === undefined) return true;
    if (arg.Boolean !== undefined) return arg.Boolean.boolval === true;
    if (arg.String !== undefined) return !['false', 'off', 'no', '0'].includes((arg.String.sval ?? '').toLowerCase());
    if (arg.Integer !== undefined) return (arg.Integer.ival ?? 0) !== 0;
    return true; // anything else: assume on (fail closed)
  }
  return false;
}

/**
 * SQLValueFunction operations that name the session or the server (a fact the policy judges);
 * undefined for the date/time ones. SYSTEM_USER is not here: libpg-query 18 parses it as a call
 * of pg_catalog.system_user (judged as a function; builtins.ts lists it).
 */
export const SESSION_VALUE_OPS: Readonly<Record<SQLValueFunctionOp, string | undefined>> = {
  SVFOP_CURRENT_USER: 'CURRENT_USER',
  SVFOP_CURRENT_ROLE: 'CURRENT_ROLE',
  SVFOP_SESSION_USER: 'SESSION_USER',
  SVFOP_USER: 'USER',
  SVFOP_CURRENT_CATALOG: 'CURRENT_CATALOG',
  SVFOP_CURRENT_SCHEMA: 'CURRENT_SCHEMA',
  SVFOP_CURRENT_DATE: undefined,
  SVFOP_CURRENT_TIME: undefined,
  SVFOP_CURRENT_TIME_N: undefined,
  SVFOP_CURRENT_TIMESTAMP: undefined,
  SVFOP_CURRENT_TIMESTAMP_N: undefined,
  SVFOP_LOCALTIME: undefined,
  SVFOP_LOCALTIME_N: undefined,
  SVFOP_LOCALTIMESTAMP: undefined,
  SVFOP_LOCALTIMESTAMP_N: undefined,
};

/** CURRENT_USER, CURRENT_SCHEMA …: facts about the session or server (no children to walk). */
export function sqlValueFunction(n: NodeVisit<GuardWalk>): typeof SKIP {
  const op = SESSION_VALUE_OPS[n.body.op as SQLValueFunctionOp] as string | undefined;
  if (op !== undefined) n.state.facts.sessionValues.push(op);
  return SKIP;
}

export function paramRef(n: NodeVisit<GuardWalk>): typeof SKIP {
  n.state.facts.params++;
  return SKIP;
}
