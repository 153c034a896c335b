/**
 * summarizeQuery: a short, literal-free `db.query.summary` for telemetry (OpenTelemetry
 * semantic conventions): the operation and the relations, e.g. `SELECT app.orders app.customers`.
 *
 * Guarantees: built only from the statement kind and resolved relation names (identifiers), never
 * from the SQL text; bounded length. Does not: describe refused input beyond its kind.
 */
import type { Decision } from './types.js';

const OPERATION: Record<string, string> = {
  read: 'SELECT',
  explain: 'EXPLAIN',
  ddl: 'DDL',
  dcl: 'DCL',
  transaction: 'TRANSACTION',
  session: 'SET',
  utility: 'UTILITY',
  unknown: 'UNKNOWN',
};

/** The DB operation name of each write kind (shared with telemetry). */
export const WRITE_OPERATION: Readonly<Record<string, string>> = {
  insert: 'INSERT',
  update: 'UPDATE',
  delete: 'DELETE',
  merge: 'MERGE',
  select_into: 'SELECT INTO',
  create_table_as: 'CREATE TABLE AS',
};

export function summarizeQuery(decision: Pick<Decision, 'kind' | 'writeKind' | 'explain' | 'relations' | 'statementCount'>, maxLength = 255): string {
  let op: string;
  if (decision.statementCount === 0) op = 'INVALID';
  else if (decision.kind === 'write') op = WRITE_OPERATION[decision.writeKind ?? ''] ?? 'WRITE';
  else if (decision.kind === 'explain') {
    const inner = decision.explain?.inner === 'write' ? (WRITE_OPERATION[decision.writeKind ?? ''] ?? 'WRITE') : (OPERATION[decision.explain?.inner ?? 'unknown'] ?? 'UNKNOWN');
    op = `${decision.explain?.analyze ? 'EXPLAIN ANALYZE' : 'EXPLAIN'} ${inner}`;
  } else op = OPERATION[decision.kind] ?? 'UNKNOWN';
  if (decision.statementCount > 1) op = `${op} (+${decision.statementCount - 1})`;
  let out = op;
  for (const r of decision.relations) {
    if (out.length + r.length + 1 > maxLength) {
      out += ' …';
      break;
    }
    out += ` ${r}`;
  }
  return out;
}
