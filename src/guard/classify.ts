/**
 * Statement classification: what kind of statement a parse tree is, after looking inside
 * EXPLAIN, CTEs and subqueries.
 *
 * Guarantees: a SELECT that contains a data-modifying statement anywhere (WITH … DELETE at any
 * depth) is a write; SELECT INTO and CREATE TABLE AS are writes; EXPLAIN reports its inner kind
 * and whether ANALYZE executes it (option forms: EXPLAIN ANALYZE, (ANALYZE), (ANALYZE true|on|1),
 * an unrecognized value counts as ANALYZE — fail closed); a read that contains any other nested
 * statement, or a node type the guard does not classify, is 'unknown'.
 * Does not: apply policy (policy.ts).
 */
import type { ObjectType } from '@pgsql/types';
import { unwrapNode } from './ast/node.js';
import type { NodeTag } from './ast/tags.js';
import { CREATE_TABLE_AS_OBJECT, DML_STATEMENTS, STATEMENT_CLASS, type DmlTag } from './nodes.js';
import type { ExplainInfo, StatementKind, WriteKind } from './types.js';
import type { Facts } from './walk.js';

export interface Classification {
  kind: StatementKind;
  /** Node type of the statement (e.g. SelectStmt, ExplainStmt); '<malformed>' when it is not a node of the installed parser. */
  type: NodeTag | '<malformed>';
  writeKind?: WriteKind;
  explain?: ExplainInfo;
  /** The write comes from a data-modifying WITH (the top statement is a SELECT). */
  dataModifyingCte?: boolean;
}

function nodeType(node: unknown): [NodeTag | '<malformed>', Record<string, unknown>] {
  return unwrapNode(node) ?? ['<malformed>', {}];
}

/** Whether an EXPLAIN option list asks for ANALYZE. */
export function explainAnalyze(options: unknown): boolean {
  if (!Array.isArray(options)) return false;
  let analyze = false;
  for (const o of options) {
    const d = (o as { DefElem?: { defname?: string; arg?: Record<string, Record<string, unknown>> } }).DefElem;
    if (!d || d.defname !== 'analyze') continue;
    analyze = defBoolean(d.arg);
  }
  return analyze;
}

function defBoolean(arg: Record<string, Record<string, unknown>> | undefined): boolean {
  if (arg === undefined) return true;
  if (arg.Boolean) return arg.Boolean.boolval === true;
  if (arg.Integer) return (arg.Integer.ival ?? 0) !== 0;
  if (arg.String) {
    const v = String(arg.String.sval ?? '').toLowerCase();
    if (v === 'false' || v === 'off' || v === 'no' || v === '0') return false;
    return true;
  }
  return true; // unrecognized form: assume it executes
}

export function classify(stmt: unknown, facts: Facts): Classification {
  const [type, body] = nodeType(stmt);
  const cls = type === '<malformed>' ? undefined : STATEMENT_CLASS[type];
  // not a statement node of the installed parser (or malformed): unknown, refused (UNKNOWN_STATEMENT)
  if (cls === undefined) return { kind: 'unknown', type };
  switch (type) {
    case 'SelectStmt': {
      if (body.intoClause) return { kind: 'write', type, writeKind: 'select_into' };
      const nested = facts.nestedWrites[0];
      if (nested) return { kind: 'write', type, writeKind: nested, dataModifyingCte: true };
      if (facts.nestedStatements.length > 0) return { kind: 'unknown', type };
      return { kind: 'read', type };
    }
    case 'CreateTableAsStmt':
      if (CREATE_TABLE_AS_OBJECT[body.objtype as ObjectType] !== 'table') return { kind: 'ddl', type }; // a materialized view (or a form this parser cannot make)
      return { kind: 'write', type, writeKind: body.is_select_into ? 'select_into' : 'create_table_as' };
    case 'ExplainStmt': {
      const inner = classify(body.query, facts);
      const out: Classification = { kind: 'explain', type, explain: { analyze: explainAnalyze(body.options), inner: inner.kind } };
      if (inner.writeKind) out.writeKind = inner.writeKind;
      if (inner.dataModifyingCte) out.dataModifyingCte = true;
      return out;
    }
    default: {
      // every other statement kind: a DML statement is a write of its kind, any other takes its
      // class from STATEMENT_CLASS (total over the statement tags: kinds.test.ts)
      const dml = DML_STATEMENTS[type as DmlTag] as WriteKind | undefined;
      if (dml) return { kind: 'write', type, writeKind: dml };
      return { kind: cls, type };
    }
  }
}

const SEVERITY: Readonly<Record<StatementKind, number>> = {
  read: 0,
  explain: 1,
  write: 2,
  utility: 3,
  session: 4,
  transaction: 5,
  ddl: 6,
  dcl: 7,
  unknown: 8,
};

/** The most severe of several statements' classifications (multi-statement text). */
export function mostSevere(list: readonly Classification[]): Classification {
  let best = list[0] as Classification;
  for (const c of list) if (SEVERITY[c.kind] > SEVERITY[best.kind]) best = c;
  return best;
}
