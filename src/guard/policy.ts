/**
 * The policy engine: from a parsed text and a GuardRequest to a Decision.
 *
 * Guarantees:
 * - fails closed: input problems, parse trees that are too large or deep, unknown node types,
 *   MULTI_STATEMENT, UNSUPPORTED_PARAMETERS and AMBIGUOUS_STRING_LITERAL (literals.ts) block; a
 *   missing policy is DATABASE_NOT_ALLOWED;
 * - every reason is collected (not just the first), deduplicated by code and message, each with
 *   a message naming its subject (identifiers only, never SQL literals) and a concrete fix;
 * - per tool: `query` allows reads and EXPLAIN of reads (EXPLAIN ANALYZE of a write is
 *   EXPLAIN_ANALYZE_WRITE); `explain` gets the bare statement (reads; writes without ANALYZE only
 *   under read-write); `execute` runs writes only under read-write; `check` answers as query
 *   (reads) or execute (writes); describe/status/revert take no SQL;
 * - observe mode returns 'allow' with the reasons listed and `observed: true`, except for
 *   reasons no gateway can run past: input problems, unknown statements, transaction and session
 *   control (they would subvert the gateway's own transaction and session hardening) and a
 *   database the policy does not reach.
 * Does not: cache (cache.ts), parse (parse.ts) or do any I/O.
 */
import type { DatabasePolicy } from '../config/schema.js';
import { writeAnalysisBudget } from './ast/budget.js';
import { classify, mostSevere, type Classification } from './classify.js';
import { hasAmbiguousStringLiteral } from './literals.js';
import { REASONS, reason, type Reason, type ReasonCode } from './reasons.js';
import { type RelationContext } from './relations.js';
import type { Decision, GuardRequest, ParsedStatement, StatementKind, ToolName } from './types.js';
import { newFacts, walkStatement, type Facts, type WalkLimits } from './walk.js';
import { judgeWrites } from './write/rules.js';
import { hiddenNames } from './visibility.js';

import { functionRules, objectRules } from './object-rules.js';
import { Reasons } from './reason-list.js';
/** Reasons that observe mode never waives. */
const ALWAYS_ENFORCED: ReadonlySet<ReasonCode> = new Set<ReasonCode>([
  'DATABASE_NOT_ALLOWED',
  'UNKNOWN_DATABASE',
  'UNKNOWN_STATEMENT',
  'TRANSACTION_CONTROL',
  'SESSION_CONTROL',
  'INTERNAL_ERROR',
]);

const SQL_TOOLS: ReadonlySet<ToolName> = new Set<ToolName>(['query', 'explain', 'check', 'execute']);

export type DecisionCore = Omit<Decision, 'fingerprint' | 'normalized' | 'identity' | 'elapsedUs' | 'cached'>;


/** Decision for text that failed the input checks or did not parse. */
export function inputDecision(parsed: ParsedStatement): DecisionCore {
  const d: DecisionCore = {
    decision: 'block',
    kind: 'unknown',
    relations: [],
    functions: [],
    reasons: parsed.reasons,
    observed: false,
    statementCount: 0,
    needsCatalogRefresh: false,
  };
  if (parsed.position !== undefined) d.position = parsed.position;
  return d;
}

function walkAll(stmts: readonly unknown[], limits: WalkLimits): Facts {
  if (stmts.length === 1) return walkStatement(stmts[0], limits, newFacts());
  const facts = newFacts();
  for (const s of stmts) {
    if (facts.tooComplex) break;
    walkStatement(s, limits, facts);
  }
  return facts;
}

/** What a kind refusal names: a statement's classification, or the label of an EXPLAINed statement's kind. */
type KindSubject = { kind: StatementKind; type: Classification['type'] | InnerLabel };
type InnerLabel = StatementKind | 'EXECUTE/DECLARE';

function kindReason(c: KindSubject, facts: Facts): Reason | undefined {
  switch (c.kind) {
    case 'ddl':
      return reason('DDL_NOT_ALLOWED', `${stmtLabel(c.type)} changes the schema`);
    case 'dcl':
      return reason('DCL_NOT_ALLOWED', `${stmtLabel(c.type)} changes privileges or roles`);
    case 'transaction':
      return reason('TRANSACTION_CONTROL', `${stmtLabel(c.type)} controls the transaction, which the gateway owns`);
    case 'session':
      return reason('SESSION_CONTROL', `${stmtLabel(c.type)} changes or reads session state, which the gateway pins`);
    case 'utility':
      if (c.type === 'CopyStmt' && facts.copyProgram) {
        return reason('UTILITY_NOT_ALLOWED', 'COPY with a server file or PROGRAM reads or writes the database server');
      }
      return reason('UTILITY_NOT_ALLOWED', `${stmtLabel(c.type)} is a utility command`);
    case 'unknown':
      return reason('UNKNOWN_STATEMENT', `${stmtLabel(c.type)} is not a statement the guard can judge`);
    default:
      return undefined;
  }
}

/** 'SelectStmt' → 'SELECT'-ish labels for messages (node type names are safe to show). */
function stmtLabel(type: string): string {
  const labels: Record<string, string> = {
    SelectStmt: 'SELECT', InsertStmt: 'INSERT', UpdateStmt: 'UPDATE', DeleteStmt: 'DELETE', MergeStmt: 'MERGE',
    ExplainStmt: 'EXPLAIN', CreateTableAsStmt: 'CREATE TABLE AS', TransactionStmt: 'Transaction control (BEGIN/COMMIT/ROLLBACK…)',
    VariableSetStmt: 'SET/RESET', VariableShowStmt: 'SHOW', DiscardStmt: 'DISCARD', CopyStmt: 'COPY', DoStmt: 'DO',
    CallStmt: 'CALL', PrepareStmt: 'PREPARE', ExecuteStmt: 'EXECUTE', DeclareCursorStmt: 'DECLARE CURSOR',
    FetchStmt: 'FETCH/MOVE', ClosePortalStmt: 'CLOSE', LockStmt: 'LOCK', VacuumStmt: 'VACUUM/ANALYZE',
    ListenStmt: 'LISTEN', NotifyStmt: 'NOTIFY', UnlistenStmt: 'UNLISTEN', LoadStmt: 'LOAD', CheckPointStmt: 'CHECKPOINT',
    DropStmt: 'DROP', CreateStmt: 'CREATE TABLE', TruncateStmt: 'TRUNCATE', GrantStmt: 'GRANT/REVOKE',
  };
  return labels[type] ?? type.replace(/Stmt$/, '');
}

function writeReason(c: Classification, policyName: string, mode: DatabasePolicy['mode']): Reason {
  if (c.writeKind === 'select_into') return reason('SELECT_INTO', 'SELECT INTO creates a table');
  if (c.writeKind === 'create_table_as') return reason('DDL_NOT_ALLOWED', 'CREATE TABLE AS creates a table');
  if (c.dataModifyingCte) {
    return reason('DATA_MODIFYING_CTE', `a WITH clause contains ${(c.writeKind ?? 'a write').toUpperCase()}`);
  }
  const what = (c.writeKind ?? 'write').toUpperCase();
  return mode === 'read-write'
    ? reason('WRITE_NOT_ALLOWED', `${what} writes data; the query tool only reads`, 'Use the execute tool for writes.')
    : reason('WRITE_NOT_ALLOWED', `${what} writes data and policy '${policyName}' is ${mode}`);
}

/** Statement-kind rules for one tool. */
function toolRules(tool: ToolName, c: Classification, facts: Facts, req: GuardRequest, policy: DatabasePolicy, out: Reasons): void {
  const mode = policy.mode;
  const name = req.policyName;
  const k = kindReason(c, facts);
  if (k) {
    out.add(k);
    return;
  }
  switch (tool) {
    case 'query':
      if (c.kind === 'read') {
        if (mode === 'explain-only') {
          out.add(reason('EXPLAIN_ONLY', `policy '${name}' is explain-only: it returns plans, not rows`, 'Use the explain tool (or EXPLAIN …) to see the plan.'));
        }
        if (facts.locking) out.add(reason('LOCKING_CLAUSE', 'FOR UPDATE/SHARE takes row locks; the query tool only reads'));
      } else if (c.kind === 'write') {
        out.add(writeReason(c, name, mode));
      } else if (c.kind === 'explain') {
        explainRules(c.explain?.analyze === true, c, facts, req, policy, out, true);
      }
      return;
    case 'explain':
      if (c.kind === 'explain') {
        out.add(reason('UTILITY_NOT_ALLOWED', 'the explain tool adds EXPLAIN itself', 'Send the statement without EXPLAIN; set the analyze option of the tool instead.'));
        return;
      }
      explainRules(req.analyze === true, c, facts, req, policy, out, false);
      return;
    case 'execute':
      if (c.kind === 'read' || c.kind === 'explain') {
        out.add(reason('NOT_A_WRITE', 'the statement only reads', c.kind === 'explain' ? 'Use the explain tool for plans.' : undefined));
        return;
      }
      if (c.writeKind === 'select_into' || c.writeKind === 'create_table_as') {
        out.add(writeReason(c, name, mode));
        return;
      }
      if (mode !== 'read-write') {
        out.add(reason('WRITE_NOT_ALLOWED', `${(c.writeKind ?? 'write').toUpperCase()} writes data and policy '${name}' is ${mode}`));
      }
      return;
    default:
  }
}

/** Rules for EXPLAIN of a statement (EXPLAIN in the query tool, or the explain tool). */
function explainRules(
  analyze: boolean,
  c: Classification,
  facts: Facts,
  req: GuardRequest,
  policy: DatabasePolicy,
  out: Reasons,
  wrapped: boolean,
): void {
  const inner: StatementKind = wrapped ? (c.explain?.inner ?? 'unknown') : c.kind;
  if (inner === 'read') {
    if (facts.locking && analyze) out.add(reason('LOCKING_CLAUSE', 'EXPLAIN ANALYZE of FOR UPDATE/SHARE takes row locks'));
    return;
  }
  if (inner === 'write') {
    if (c.writeKind === 'select_into' || c.writeKind === 'create_table_as') {
      out.add(analyze ? reason('EXPLAIN_ANALYZE_WRITE', `EXPLAIN ANALYZE would execute ${c.writeKind === 'select_into' ? 'SELECT INTO' : 'CREATE TABLE AS'}`) : writeReason(c, req.policyName, policy.mode));
      return;
    }
    const what = c.dataModifyingCte ? `a data-modifying WITH (${(c.writeKind ?? 'write').toUpperCase()})` : (c.writeKind ?? 'write').toUpperCase();
    if (analyze) {
      out.add(reason('EXPLAIN_ANALYZE_WRITE', `EXPLAIN ANALYZE would execute ${what}`));
    } else if (policy.mode !== 'read-write') {
      out.add(reason('WRITE_NOT_ALLOWED', `the plan of ${what} is only shown under a read-write policy; policy '${req.policyName}' is ${policy.mode}`));
    }
    return;
  }
  const k = kindReason({ kind: inner, type: innerType(c) }, facts);
  if (k) out.add(k);
}

function innerType(c: Classification): InnerLabel {
  switch (c.explain?.inner) {
    case 'utility':
      return 'EXECUTE/DECLARE';
    default:
      return c.explain?.inner ?? 'unknown';
  }
}

function toolAllowed(policy: DatabasePolicy, tool: ToolName): boolean {
  const switches = policy.tools as Record<string, boolean | undefined>;
  return switches[tool] !== false;
}

/** Judge a parsed text. */
export function judge(req: GuardRequest, parsed: ParsedStatement, limits: WalkLimits): DecisionCore {
  if (!parsed.ok) return inputDecision(parsed);
  const out = new Reasons();
  const stmts = parsed.stmts;
  const facts = walkAll(stmts, limits);
  const base: DecisionCore = {
    decision: 'block',
    kind: 'unknown',
    relations: [],
    functions: [],
    reasons: out.list,
    observed: false,
    statementCount: stmts.length,
    needsCatalogRefresh: false,
    stmt: stmts[0],
  };

  if (!textRules(req, stmts.length, facts, limits, out)) return finish(base, req, out);
  const classes = stmts.map((s) => classify(s, stmts.length === 1 ? facts : walkStatement(s, limits, newFacts())));
  const c = mostSevere(classes);
  base.kind = c.kind;
  if (c.writeKind) base.writeKind = c.writeKind;
  if (c.explain) base.explain = c.explain;

  if (facts.unknownTypes.length > 0) {
    const types = [...new Set(facts.unknownTypes)].slice(0, 5).join(', ');
    out.add(reason('UNKNOWN_STATEMENT', `the statement contains constructs the guard does not know (${types})`));
  }
  if (facts.params > 0 && req.parameters !== true) {
    out.add(reason('UNSUPPORTED_PARAMETERS', `the statement uses ${facts.params} $n parameter reference(s)`));
  }

  const policy = req.policy;
  if (policy === undefined) {
    out.add(reason('DATABASE_NOT_ALLOWED', `principal ${req.principal} has no policy for database ${req.database}`));
    return finish(base, req, out);
  }

  const tool = judgedTool(req, policy, c, base, out);
  if (tool === undefined) return finish(base, req, out);
  for (const cl of classes) toolRules(tool, cl, facts, req, policy, out);
  const rules = functionRules(policy);
  const ctx: RelationContext = {
    policy,
    policyName: req.policyName,
    searchPath: req.searchPath,
    catalog: req.catalog,
    functionRules: rules,
    ...(req.reservedSchemas !== undefined ? { reservedSchemas: req.reservedSchemas } : {}),
  };
  const hidden = hiddenNames(facts, ctx, rules);
  // guarded writes (src/guard/write): NO_WHERE, TAUTOLOGICAL_WHERE, and the execute rules; not
  // when a hidden object is named (their catalog lookups could consult it, visibility.ts)
  if (hidden.reasons.length === 0) for (const r of judgeWrites(stmts, c, tool, req, policy, writeAnalysisBudget(limits.maxNodes))) out.add(r);

  const relations = new Set<string>();
  const functions = new Set<string>();
  const unknown = objectRules(facts, req, policy, out, relations, functions, stmts, ctx, hidden);
  base.relations = [...relations].sort();
  base.functions = [...functions].sort();
  base.needsCatalogRefresh = unknown;
  return finish(base, req, out);
}

/**
 * Rules on the text as a whole: more than one statement, an ambiguous string literal, a tree
 * too large or deep. Returns false when the tree is too complex to judge further.
 */
function textRules(req: GuardRequest, count: number, facts: Facts, limits: WalkLimits, out: Reasons): boolean {
  if (count > 1) {
    out.add(reason('MULTI_STATEMENT', `the text contains ${count} statements`));
  }
  if (hasAmbiguousStringLiteral(req.sql)) {
    out.add(reason('AMBIGUOUS_STRING_LITERAL', 'a string literal has a backslash before a quote, which servers with standard_conforming_strings off read as an escape'));
  }
  if (facts.tooComplex) {
    out.add(
      reason(
        'STATEMENT_TOO_COMPLEX',
        facts.tooComplex === 'nodes'
          ? `the parse tree has more than ${limits.maxNodes} nodes`
          : `the parse tree is nested deeper than ${limits.maxDepth} levels`,
      ),
    );
    return false;
  }
  return true;
}

/**
 * The tool the statement is judged as (check: query for reads, execute for writes, recorded in
 * `base.judgedAs`), with TOOL_NOT_ALLOWED where the policy disables it; undefined for a tool that
 * takes no SQL (judging stops there).
 */
function judgedTool(req: GuardRequest, policy: DatabasePolicy, c: Classification, base: DecisionCore, out: Reasons): ToolName | undefined {
  let tool = req.tool;
  if (!SQL_TOOLS.has(tool)) {
    out.add(reason('TOOL_NOT_ALLOWED', `the ${tool} tool takes no SQL statement`, 'Use query, explain, check or execute for statements.'));
    return undefined;
  }
  if (!toolAllowed(policy, tool)) {
    out.add(reason('TOOL_NOT_ALLOWED', `the ${tool} tool is disabled by policy '${req.policyName}' on database ${req.database}`));
  }
  if (tool === 'check') {
    tool = c.kind === 'write' ? 'execute' : 'query';
    base.judgedAs = tool;
    if (!toolAllowed(policy, tool)) {
      out.add(reason('TOOL_NOT_ALLOWED', `the ${tool} tool is disabled by policy '${req.policyName}' on database ${req.database}`));
    }
  }
  return tool;
}

function finish(base: DecisionCore, req: GuardRequest, out: Reasons): DecisionCore {
  base.reasons = out.list;
  if (out.list.length === 0) {
    base.decision = 'allow';
    return base;
  }
  if (req.observe && out.list.every((r) => !ALWAYS_ENFORCED.has(r.code) && REASONS[r.code].category !== 'input')) {
    base.decision = 'allow';
    base.observed = true;
    return base;
  }
  base.decision = 'block';
  return base;
}
