/**
 * The guard's write rules (issue #5), applied inside Guard.decide so `check` shows them and
 * `execute` enforces them.
 *
 * Guarantees:
 * - shape rules, for every INSERT/UPDATE/DELETE/MERGE anywhere in the text (top level, every
 *   statement of a multi-statement text, data-modifying WITH at any depth, under EXPLAIN [ANALYZE]),
 *   whenever the tool is execute, or check: UPDATE/DELETE without WHERE → NO_WHERE; an always-true
 *   WHERE (or MERGE … ON) → TAUTOLOGICAL_WHERE (tautology.ts lists what is detected);
 * - execute rules, for a single statement under a read-write policy: execute runs exactly one
 *   top-level write — a data-modifying WITH (in a SELECT or in the write's own WITH) and a write
 *   under EXPLAIN are WRITE_NOT_PLANNABLE; the kind must be in writes.kinds
 *   (WRITE_KIND_NOT_ALLOWED); the target must pass writes.tables (deny wins; empty allow = every
 *   table the read rules allow, which the guard checks separately) → WRITE_TABLE_NOT_ALLOWED;
 *   RETURNING is refused (RETURNING_NOT_ALLOWED: rows come back only through the masked query
 *   tool); WHERE CURRENT OF is WRITE_NOT_PLANNABLE; a write that cannot be recorded for undo
 *   (reversible.ts) is NOT_REVERSIBLE unless writes.allow_irreversible.
 * Does not: measure the blast radius or apply thresholds (the executor does, with
 * thresholds.ts), or do I/O.
 */
import type { DatabasePolicy } from '../../config/schema.js';
import type { Classification } from '../classify.js';
import { firstDenyMatch, firstMatch } from '../patterns.js';
import { reason, type Reason } from '../reasons.js';
import { nameRules } from '../relations.js';
import type { CatalogSnapshot, CatalogWriteInfo, GuardRequest, ToolName } from '../types.js';
import { TooComplexError, writeAnalysisBudget, type Budget } from '../ast/budget.js';
import { RefusedNodeError } from '../ast/traverse.js';
import { asArray, findWrites, isObj, unwrap, type FoundWrite } from './ast.js';
import { irreversibility, updatedColumns } from './reversible.js';
import { writeReach } from './reach.js';
import { predicateContext, writeTarget, type WriteTargetInfo } from './target.js';
import { isTautology } from './tautology.js';

const KIND_LABEL = { insert: 'INSERT', update: 'UPDATE', delete: 'DELETE', merge: 'MERGE' } as const;

/** NO_WHERE / TAUTOLOGICAL_WHERE for every write in the statements. */
export function writeShapeReasons(stmts: readonly unknown[], catalog: CatalogSnapshot, searchPath: readonly string[], budget: Budget = writeAnalysisBudget()): Reason[] {
  const out: Reason[] = [];
  for (const stmt of stmts) {
    for (const w of findWrites(stmt, budget)) {
      const r = shapeReason(w, catalog, searchPath, budget);
      if (r) out.push(r);
    }
  }
  return out;
}

function shapeReason(w: FoundWrite, catalog: CatalogSnapshot, searchPath: readonly string[], budget: Budget): Reason | undefined {
  const t = writeTarget(w, catalog, searchPath);
  const pctx = (): ReturnType<typeof predicateContext> => ({ ...predicateContext(w, t, catalog, searchPath), budget });
  const on = t?.display ?? 'the table';
  const what = `${KIND_LABEL[w.kind]} on ${on}`;
  if (w.kind === 'update' || w.kind === 'delete') {
    if (w.body.whereClause === undefined) {
      return reason('NO_WHERE', `the ${what} has no WHERE clause: it would change every row`);
    }
    if (isTautology(w.body.whereClause, pctx())) {
      return reason('TAUTOLOGICAL_WHERE', `the WHERE clause of the ${what} is always true: it would change every row`);
    }
  }
  if (w.kind === 'merge' && w.body.joinCondition !== undefined && isTautology(w.body.joinCondition, pctx())) {
    return reason('TAUTOLOGICAL_WHERE', `the ON condition of the ${what} is always true: every row matches`, 'Join the source on the target key (ON t.id = s.id).');
  }
  return undefined;
}

export interface WriteRuleContext {
  policy: DatabasePolicy;
  policyName: string;
  catalog: CatalogSnapshot;
  searchPath: readonly string[];
  /** The write analysis' shared budget (one per decision). */
  budget?: Budget;
}

/** The execute rules for one statement (see the module header). */
export function executeWriteReasons(stmt: unknown, ctx: WriteRuleContext): Reason[] {
  const out: Reason[] = [];
  const budget = ctx.budget ?? writeAnalysisBudget();
  const writes = findWrites(stmt, budget);
  if (writes.length === 0) return out;
  const rules = ctx.policy.writes;
  const [topType] = unwrap(stmt);
  if (topType === 'ExplainStmt') {
    out.push(reason('WRITE_NOT_PLANNABLE', 'the write is wrapped in EXPLAIN', 'Send the write itself to execute; use the explain tool (without analyze) for its plan.'));
    return out;
  }
  const top = writes[0] as FoundWrite;
  if (!top.top || writes.length > 1) {
    const nested = writes.filter((w) => !w.top).map((w) => KIND_LABEL[w.kind]);
    out.push(
      reason(
        'WRITE_NOT_PLANNABLE',
        `a data-modifying WITH (${[...new Set(nested)].join(', ')}) cannot be measured and recorded`,
        'Send each write as its own statement; WITH clauses of a write may only contain SELECTs.',
      ),
    );
    if (!top.top) return out;
  }
  if (!rules.kinds.includes(top.kind)) {
    out.push(
      reason(
        'WRITE_KIND_NOT_ALLOWED',
        `${KIND_LABEL[top.kind]} is not allowed by policy '${ctx.policyName}' (writes.kinds: ${rules.kinds.map((k) => k.toUpperCase()).join(', ') || 'none'})`,
      ),
    );
  }
  const t = writeTarget(top, ctx.catalog, ctx.searchPath);
  if (t !== undefined && t.schema !== undefined) {
    const deny = firstDenyMatch(rules.tables.deny, t.schema, t.name);
    if (deny !== undefined) {
      out.push(reason('WRITE_TABLE_NOT_ALLOWED', `${t.display} is not writable under policy '${ctx.policyName}' (matches writes.tables deny pattern ${deny})`));
    } else if (rules.tables.allow.length > 0 && firstMatch(rules.tables.allow, t.schema, t.name) === undefined) {
      out.push(reason('WRITE_TABLE_NOT_ALLOWED', `${t.display} is not on the writable-table list of policy '${ctx.policyName}'`));
    }
  }
  if (t !== undefined) {
    for (const hidden of hiddenCascadeTargets(top, t.rel?.write, ctx)) {
      out.push(reason('DENIED_TABLE', `the ${KIND_LABEL[top.kind]} on ${t.display} also changes ${hidden} through a cascading foreign key, and policy '${ctx.policyName}' hides that table`));
    }
  }
  if (hasReturning(top)) out.push(reason('RETURNING_NOT_ALLOWED', `the ${KIND_LABEL[top.kind]} has a RETURNING clause`));
  if (unwrap(top.body.whereClause)[0] === 'CurrentOfExpr') {
    out.push(reason('WRITE_NOT_PLANNABLE', 'WHERE CURRENT OF needs a cursor, which the gateway does not keep', 'Select the rows by primary key instead.'));
  }
  if (rules.allow_irreversible && t !== undefined && t.rel !== undefined) out.push(...reachReasons(top, t, ctx));
  if (!rules.allow_irreversible && t !== undefined && t.rel !== undefined) {
    for (const why of irreversibility(top, t, ctx.catalog, ctx.searchPath, budget)) {
      out.push(reason('NOT_REVERSIBLE', `the ${KIND_LABEL[top.kind]} on ${t.display} cannot be recorded for undo: ${why}`));
    }
  }
  return out;
}

const ACTING: ReadonlySet<string> = new Set(['cascade', 'set null', 'set default']);

/**
 * Under allow_irreversible (otherwise NOT_REVERSIBLE already refuses these writes): what the
 * write reaches beyond its target must pass the policy too — tables written through a view or
 * by a cascading foreign key pass writes.tables; every trigger that fires and every rule the
 * write meets must be trusted by name (writes.trusted_triggers / trusted_rules), since where
 * they write cannot be known from the catalog.
 */
function reachReasons(top: FoundWrite, t: WriteTargetInfo, ctx: WriteRuleContext): Reason[] {
  const rules = ctx.policy.writes;
  const reach = writeReach(top, t, ctx.catalog);
  const out: Reason[] = [];
  const what = `the ${KIND_LABEL[top.kind]} on ${t.display}`;
  for (const w of reach.written) {
    const rel = ctx.catalog.relations.get(w.table);
    const dot = w.table.indexOf('.');
    const [schema, name] = rel ? [rel.schema, rel.name] : [w.table.slice(0, dot), w.table.slice(dot + 1)];
    const via = w.via === 'view' ? 'through the view' : 'through a cascading foreign key';
    const deny = firstDenyMatch(rules.tables.deny, schema, name);
    if (deny !== undefined) out.push(reason('WRITE_TABLE_NOT_ALLOWED', `${what} writes ${w.table} ${via}, which policy '${ctx.policyName}' does not let it write (writes.tables deny pattern ${deny})`));
    else if (rules.tables.allow.length > 0 && firstMatch(rules.tables.allow, schema, name) === undefined) {
      out.push(reason('WRITE_TABLE_NOT_ALLOWED', `${what} writes ${w.table} ${via}, which is not on the writable-table list of policy '${ctx.policyName}'`));
    }
  }
  const trustedTriggers = new Set(rules.trusted_triggers);
  for (const x of reach.triggers) {
    if (trustedTriggers.has(`${x.table}.${x.trigger}`)) continue;
    out.push(
      reason(
        'WRITE_TRIGGER_UNTRUSTED',
        `${what} fires trigger ${x.trigger} on ${x.table} (function ${x.function}), whose writes cannot be followed`,
        `Ask an operator to check where ${x.function} writes and, if only where policy '${ctx.policyName}' allows, add ${x.table}.${x.trigger} to writes.trusted_triggers.`,
      ),
    );
  }
  const trustedRules = new Set(rules.trusted_rules);
  for (const x of reach.rules) {
    if (trustedRules.has(`${x.table}.${x.rule}`)) continue;
    out.push(
      reason(
        'WRITE_RULE_UNTRUSTED',
        `${what} is rewritten by rule ${x.rule} on ${x.table}, whose writes cannot be followed`,
        `Ask an operator to check rule ${x.rule} and, if it writes only where policy '${ctx.policyName}' allows, add ${x.table}.${x.rule} to writes.trusted_rules.`,
      ),
    );
  }
  return out;
}

/**
 * Tables a DELETE (or an UPDATE of referenced columns) changes through ON DELETE / ON UPDATE
 * CASCADE, SET NULL or SET DEFAULT foreign keys, transitively, that the read rules hide: the
 * database changes them whatever the policy says (allow_irreversible lets such writes run).
 */
function hiddenCascadeTargets(w: FoundWrite, info: CatalogWriteInfo | undefined, ctx: WriteRuleContext): string[] {
  if (info === undefined || (w.kind !== 'delete' && w.kind !== 'update')) return [];
  const set = w.kind === 'update' ? updatedColumns(w) : undefined;
  const first = info.referencedBy.filter((fk) => (set === undefined ? ACTING.has(fk.onDelete) : ACTING.has(fk.onUpdate) && fk.columns.some((c) => set.has(c))));
  const rctx = { policy: ctx.policy, policyName: ctx.policyName, searchPath: ctx.searchPath, catalog: ctx.catalog };
  const out: string[] = [];
  const seen = new Set<string>();
  const todo = first.map((fk) => fk.table);
  while (todo.length > 0 && seen.size < 1000) {
    const key = todo.pop() as string;
    if (seen.has(key)) continue;
    seen.add(key);
    const rel = ctx.catalog.relations.get(key);
    const dot = key.indexOf('.');
    const [schema, name] = rel ? [rel.schema, rel.name] : [key.slice(0, dot), key.slice(dot + 1)];
    if (nameRules(schema, name, rctx).length > 0) out.push(key);
    // a cascaded delete (or a SET NULL/DEFAULT update) of that table cascades on in turn
    for (const fk of rel?.write?.referencedBy ?? []) if (ACTING.has(fk.onDelete) || ACTING.has(fk.onUpdate)) todo.push(fk.table);
  }
  return out.sort();
}

export function hasReturning(w: FoundWrite): boolean {
  const rc = w.body.returningClause;
  if (isObj(rc) && asArray(rc.exprs).length > 0) return true;
  return asArray(w.body.returningList).length > 0;
}

/**
 * The guard hook (policy.ts): every write reason for a parsed text. `tool` is the effective tool
 * (check is judged as execute for writes, as query otherwise). All of it spends one `budget`;
 * running it out is STATEMENT_TOO_COMPLEX (never a verdict from a partial walk).
 */
export function judgeWrites(
  stmts: readonly unknown[],
  c: Classification,
  tool: ToolName,
  req: Pick<GuardRequest, 'tool' | 'policyName' | 'catalog' | 'searchPath'>,
  policy: DatabasePolicy,
  budget: Budget = writeAnalysisBudget(),
): Reason[] {
  if (tool !== 'execute' && req.tool !== 'check') return [];
  try {
    const out = writeShapeReasons(stmts, req.catalog, req.searchPath, budget);
    const writeLike = c.kind === 'write' || (c.kind === 'explain' && c.explain?.inner === 'write');
    if (tool === 'execute' && policy.mode === 'read-write' && stmts.length === 1 && writeLike && c.writeKind !== 'select_into' && c.writeKind !== 'create_table_as') {
      out.push(...executeWriteReasons(stmts[0], { policy, policyName: req.policyName, catalog: req.catalog, searchPath: req.searchPath, budget }));
    }
    return out;
  } catch (err) {
    if (err instanceof TooComplexError) return [reason('STATEMENT_TOO_COMPLEX', `the write analysis ran out of its budget: ${err.message}`)];
    if (err instanceof RefusedNodeError) return [reason('UNKNOWN_STATEMENT', err.message)];
    throw err;
  }
}
