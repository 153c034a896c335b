/**
 * Building DbOperationInfo from a guard Decision, so the gateway passes codes and identifiers
 * only: operation and summary from the parse-tree classification, db.collection.name only for
 * a single relation (semantic conventions), normalized SQL (scrubbed again before it is recorded;
 * read from the decision only when a span records it).
 */
import type { Decision } from '../guard/types.js';
import { operationName, querySummary } from './sanitize.js';
import type { DbOperationInfo } from './types.js';

export function dbOperationInfo(
  database: string,
  decision: Pick<Decision, 'kind' | 'relations' | 'normalized'> & Partial<Pick<Decision, 'writeKind'>>,
  options: { summary?: string | undefined; operation?: string | undefined } = {},
): DbOperationInfo {
  const single = decision.relations.length === 1 ? decision.relations[0] : undefined;
  return {
    database,
    operation: options.operation ?? operationName(decision),
    ...(single !== undefined ? { collection: single } : {}),
    summary: options.summary ?? querySummary(decision),
    // a getter: the guard computes normalized text on first read, and only a recorded span needs it
    get normalizedSql(): string {
      return decision.normalized;
    },
  };
}
