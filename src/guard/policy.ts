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
import { effectiveSearchPath, isSafeSetting, judgeFunction, judgeOperator, judgeTablesample, NAME_LOOKUP_FUNCTIONS, REGCLASS_ARGS, REGPROC_ARGS, TYPENAME_ARGS, type FunctionRules } from './functions.js';
import { hasAmbiguousStringLiteral } from './literals.js';
import { matchesAny } from './patterns.js';
import { Resolver } from './resolve.js';
import { displayIdent, displayQualified, splitQualifiedName } from './names.js';
import { REASONS, reason, type Reason, type ReasonCode } from './reasons.js';
import { allowedSchemas, DEFAULT_RESERVED_SCHEMAS, relationRules, resolveRelation, type RelationContext } from './relations.js';
import type { CatalogRelation, Decision, GuardRequest, ParsedStatement, StatementKind, ToolName } from './types.js';
import { newFacts, REG_TYPES, walkStatement, type Facts, type FunctionRef, type RelationRef, type WalkLimits } from './walk.js';
import { judgeWrites } from './write/rules.js';
import { columnUse, exposedRegColumns } from './regcolumns.js';
import { functionHidden, hiddenNames, schemaHidden, type HiddenNames } from './visibility.js';

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

class Reasons {
  readonly list: Reason[] = [];
  private readonly seen = new Set<string>();
  add(r: Reason): void {
    const k = `${r.code}\u0000${r.message}`;
    if (this.seen.has(k)) return;
    this.seen.add(k);
    this.list.push(r);
  }
}

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

function functionRules(policy: DatabasePolicy): FunctionRules {
  return { ...policy.functions, catalogs: policy.catalogs };
}

/** What the object rules share while judging one statement (objectRules and its parts). */
interface ObjectScope {
  facts: Facts;
  req: GuardRequest;
  policy: DatabasePolicy;
  out: Reasons;
  rules: FunctionRules;
  resolver: () => Resolver | undefined;
  ctx: RelationContext;
  /** Relations to judge: the statement's, plus those named in text arguments (appended). */
  refs: RelationRef[];
}

/**
 * Relation, function and operator rules; returns whether anything was unknown to the snapshot.
 * In order: casts of reg types, catalog facts, functions (always), then — unless the statement
 * names something the policy hides, where the guard stops at the visibility refusals —
 * operators and relations.
 */
function objectRules(
  facts: Facts,
  req: GuardRequest,
  policy: DatabasePolicy,
  out: Reasons,
  relations: Set<string>,
  functions: Set<string>,
  stmts: readonly unknown[],
  ctx: RelationContext,
  hidden: HiddenNames,
): boolean {
  const scope: ObjectScope = { facts, req, policy, out, rules: ctx.functionRules ?? functionRules(policy), resolver: lazyResolver(facts, req, stmts), ctx, refs: facts.relations.slice() };
  if (!policy.catalogs) regValueRules(scope);
  if (!policy.catalogs) catalogFacts(facts, ctx, out);
  // the statement names something the policy hides: built-in functions are still judged (by name,
  // pg_catalog candidates only), then the guard stops at the visibility refusals, so that no
  // lookup by argument types, of operators or of other relations consults the hidden object
  const stop = hidden.reasons.length > 0;
  let unknown = functionRefRules(scope, functions, stop);
  if (stop) {
    for (const r of hidden.reasons) out.add(r);
    for (const r of hidden.relations) relations.add(r);
    // the visible relations it names are still listed (resolved among visible schemas only)
    for (const ref of facts.relations) {
      if (hidden.refs.has(ref) || ref.literal === true || ref.role === 'type' || ref.role === 'create') continue;
      const r = resolveRelation(ref.parts, req.catalog, req.searchPath);
      relations.add(r.schema === undefined ? ref.parts.join('.') : `${r.schema}.${r.name}`);
    }
    return unknown;
  }
  operatorRules(scope);
  if (relationRefRules(scope, relations, stmts)) unknown = true;
  return unknown;
}

/** Reg-type values computed at run time or mixed with other values (`catalogs: false` only). */
function regValueRules({ facts, req, out }: ObjectScope): void {
  if (facts.dynamicRegCasts.length > 0) {
    const types = [...new Set(facts.dynamicRegCasts)].join(', ');
    out.add(
      reason(
        'SYSTEM_CATALOG',
        `a cast to ${types} of a value computed at run time (or of a numeric OID) resolves names from the system catalogs, hidden by policy '${req.policyName}'`,
        'Name the object in a string literal, or use the describe tool to discover schemas, tables and columns.',
      ),
    );
  }

  if (facts.regValueMixes.length > 0) {
    const types = [...new Set(facts.regValueMixes)].join(', ');
    out.add(
      reason(
        'SYSTEM_CATALOG',
        `a ${types} value is combined with other values (UNION, VALUES, a sub-select, CASE, COALESCE, ARRAY or a function argument), which converts them through the system catalogs hidden by policy '${req.policyName}'`,
        'Use object-identifier values only in comparisons or in functions that take a relation name (pg_relation_size …), or cast them to text first.',
      ),
    );
  }
}

/**
 * Every function reference (calls, regproc literals, TABLESAMPLE methods, and functions named
 * by to_regproc('…') arguments, appended while iterating); `stop`: only built-ins by name (see
 * objectRules). Returns whether a name was unknown to the snapshot.
 */
function functionRefRules(scope: ObjectScope, functions: Set<string>, stop: boolean): boolean {
  const { facts, req, policy, out, rules, resolver, ctx } = scope;
  let unknown = false;
  const fnRefs: FunctionRef[] = facts.functions.slice();
  for (let fi = 0; fi < fnRefs.length; fi++) {
    const f = fnRefs[fi] as FunctionRef;
    if (stop && functionHidden(f, rules, ctx) !== undefined) continue;
    // current_setting('TimeZone'): a setting on the safe list, named in a literal
    const catalogSafe = f.kind === 'call' && f.parts[f.parts.length - 1] === 'current_setting' && isSafeSetting(f.literalArgs[0]);
    const v =
      f.kind === 'tablesample'
        ? judgeTablesample(f.parts, rules, req.policyName)
        : judgeFunction(f.parts, req.catalog, req.searchPath, rules, req.policyName, {
            catalogSafe,
            userCandidatesThatMatter: (candidates) => {
              if (stop) return new Set();
              const r = resolver();
              return r === undefined ? new Set(candidates) : r.userFunctionsThatMatter(candidates, f.kind === 'call' ? facts.callArgs.get(f) : undefined);
            },
          });
    if (f.kind === 'regproc' && !v.ok && v.unknown) {
      // a function name from a string literal that does not resolve: never echo it
      out.add(reason('FUNCTION_NOT_ALLOWED', 'a function named in a string literal does not exist', 'Check the function name.'));
      unknown = true;
      continue;
    }
    functions.add(v.resolved);
    if (v.ok && !policy.catalogs && v.resolved === 'pg_catalog.age' && f.kind === 'call' && xidAge(f, facts, req, resolver)) {
      out.add(
        reason(
          'SYSTEM_CATALOG',
          `function pg_catalog.age of a transaction id reveals the server's transaction counter, hidden by policy '${req.policyName}'`,
          'Use age() of timestamps or dates only; leave out xmin/xid values.',
        ),
      );
    }
    if (!v.ok) {
      if (v.unknown) unknown = true;
      out.add(functionRefusal(f, v, req.policyName));
    }
    // relation and function names passed as text to name parameters
    if (f.kind === 'call' && v.resolved.startsWith('pg_catalog.')) nameArguments(f, policy, req.policyName, scope.refs, fnRefs, out);
  }
  return unknown;
}

/** The refusal of a function reference the rules did not allow, with the fix for its code. */
function functionRefusal(f: FunctionRef, v: Extract<ReturnType<typeof judgeFunction>, { ok: false }>, policyName: string): Reason {
  const label = f.kind === 'regproc' ? `function ${v.resolved} (named in a regproc literal)` : f.kind === 'tablesample' ? `TABLESAMPLE method ${v.resolved}` : `function ${v.resolved}`;
  return reason(
    v.code,
    `${label} ${v.why}`,
    v.code === 'UNSAFE_FUNCTION'
      ? `Remove ${v.resolved}: it is denied wherever it appears.`
      : v.code === 'SYSTEM_CATALOG'
        ? 'Use the describe tool to discover schemas, tables and columns.'
        : v.unknown
          ? 'Check the function name; use built-in functions (qualify user functions with their schema only if the policy allows them).'
          : `Remove ${v.resolved} or ask an operator to add it to functions.allow of policy '${policyName}'.`,
  );
}

/** Every operator, resolved by argument types where the snapshot has them. */
function operatorRules({ facts, req, out, rules, resolver }: ObjectScope): void {
  for (const op of facts.operators) {
    const r = req.catalog.typeInfo !== undefined ? resolver() : undefined;
    const v = judgeOperator(op, req.catalog, rules, req.policyName, r === undefined ? undefined : (name, schema) => r.userOperatorsThatMatter(name, schema, facts.operatorArgs.get(op)));
    if (!v.ok) {
      out.add(reason(v.code, `${v.resolved} ${v.why}`, `Use built-in operators, or ask an operator to add it to functions.allow of policy '${req.policyName}'.`));
    }
  }
}

/** Every relation (and type) reference; returns whether a name was unknown to the snapshot. */
function relationRefRules(scope: ObjectScope, relations: Set<string>, stmts: readonly unknown[]): boolean {
  const { req, policy, out, ctx } = scope;
  let unknown = false;
  let use: ReturnType<typeof columnUse> | undefined;
  for (const ref of scope.refs) {
    const r = resolveRelation(ref.parts, req.catalog, req.searchPath);
    if (ref.role === 'type' && r.rel === undefined) {
      typeRefRules(scope, ref, r);
      continue;
    }
    if (ref.literal && r.rel === undefined) {
      // a name from a string literal that does not resolve: never echo it (it may be any text)
      if (!ref.optional) {
        out.add(reason('UNKNOWN_RELATION', 'a relation named in a string literal does not exist', 'Check the name with describe; qualify it with its schema.'));
        unknown = true;
      }
      continue;
    }
    relations.add(r.schema === undefined ? ref.parts.join('.') : `${r.schema}.${r.name}`);
    if (ref.role === 'create') continue;
    const res = relationRules(r, ref, ctx);
    if (res.unknown) unknown = true;
    for (const x of res.reasons) out.add(x);
    if (!policy.catalogs && r.rel !== undefined && res.reasons.length === 0 && (ref.role === 'read' || ref.role === 'write')) {
      // a stored regclass/regrole … value prints a name from the system catalogs (regcolumns.ts)
      use ??= columnUse(stmts);
      for (const c of exposedRegColumns(r.rel, use, req.catalog)) {
        out.add(
          reason(
            'SYSTEM_CATALOG',
            `column ${displayIdent(c.column)} of ${r.display} has type ${c.type}, whose values print names from the system catalogs hidden by policy '${req.policyName}'`,
            `Leave ${displayIdent(c.column)} out (name the columns you need instead of *), or ask an operator to enable catalogs.`,
          ),
        );
      }
    }
  }
  return unknown;
}

/**
 * A type name that is not a row type: one in a schema the policy hides runs that schema's code
 * (a domain's CHECK, a type's input or cast function); a domain or array over a reg type
 * converts through the catalogs (`catalogs: false`).
 */
function typeRefRules({ req, policy, out, ctx }: ObjectScope, ref: RelationRef, r: ReturnType<typeof resolveRelation>): void {
  if (r.schema !== undefined && schemaHidden(r.schema, ctx)) {
    out.add(reason('DENIED_SCHEMA', `type ${displayQualified(r.schema, r.name)} is in schema ${displayIdent(r.schema)}, which policy '${req.policyName}' does not expose`, 'Use built-in types, or types of the exposed schemas.'));
  } else if (!policy.catalogs && !ref.literal) {
    const reg = regTypeBehind(ref.parts, req);
    if (reg !== undefined) {
      out.add(
        reason(
          'SYSTEM_CATALOG',
          `type ${displayIdent(ref.parts[ref.parts.length - 1] ?? '')} is a domain or array over ${reg}, whose values convert through the system catalogs hidden by policy '${req.policyName}'`,
          'Use built-in types; use the describe tool to discover objects.',
        ),
      );
    }
  }
}

/**
 * Catalog and server facts that are not function calls (`catalogs: false` only): SQL value
 * functions naming the session's roles, schema or database, EXPLAIN (SETTINGS), and string
 * literals cast to regnamespace/regrole/aclitem/regconfig/regdictionary/regcollation (their input
 * looks the name up: an existence oracle). A regnamespace literal naming an exposed schema, and a
 * text-search configuration, dictionary or collation named unqualified or in pg_catalog or an
 * exposed schema, stay allowed: the answer then depends on nothing the policy hides.
 */
function catalogFacts(facts: Facts, ctx: RelationContext, out: Reasons): void {
  const name = ctx.policyName;
  if (facts.sessionValues.length > 0) {
    const what = [...new Set(facts.sessionValues)].join(', ');
    out.add(reason('SYSTEM_CATALOG', `${what} names the session's database role, schema or database, hidden by policy '${name}'`, 'Remove it; the status tool says which principal and database you use.'));
  }
  if (facts.explainSettings) {
    out.add(reason('SYSTEM_CATALOG', `EXPLAIN (SETTINGS) lists the server's modified settings, hidden by policy '${name}'`, 'Remove the SETTINGS option.'));
  }
  const exposed = allowedSchemas(ctx);
  const reserved = ctx.reservedSchemas ?? DEFAULT_RESERVED_SCHEMAS;
  const visible = (schema: string): boolean => schema === 'pg_catalog' || (exposed.includes(schema) && !reserved.includes(schema));
  for (const { type, text } of facts.regNames) {
    const parts = splitQualifiedName(text);
    let ok: boolean;
    switch (type) {
      case 'regnamespace':
        ok = parts !== undefined && parts.length === 1 && visible(parts[0] as string);
        break;
      case 'regconfig':
      case 'regdictionary':
      case 'regcollation':
        ok = parts !== undefined && (parts.length === 1 || (parts.length === 2 && visible(parts[0] as string)));
        break;
      default: // regrole, aclitem: role names are catalog facts
        ok = false;
    }
    if (!ok) {
      out.add(
        reason(
          'SYSTEM_CATALOG',
          `a string literal cast to ${type} looks a name up in the system catalogs (whether it exists is a catalog fact), hidden by policy '${name}'`,
          type === 'regnamespace' ? 'Name only exposed schemas; use the describe tool to list them.' : 'Remove the cast; use the describe tool to discover objects.',
        ),
      );
    }
  }
}

/**
 * Whether a call of pg_catalog.age may be age(xid) (the server's transaction counter minus the
 * argument): by argument types when the snapshot has them (any picked candidate taking xid), else
 * by spelling (xmin/xmax/cmin/cmax or a cast to xid/xid8 among the arguments).
 */
function xidAge(f: FunctionRef, facts: Facts, req: GuardRequest, resolver: () => Resolver | undefined): boolean {
  const args = facts.callArgs.get(f) ?? [];
  if (args.length !== 1) return false;
  const r = req.catalog.typeInfo !== undefined ? resolver() : undefined;
  if (r !== undefined) {
    const candidates = (req.catalog.functions.get('age') ?? []).filter((c) => c.schema === 'pg_catalog');
    if (candidates.some((c) => c.args === undefined)) return true;
    return r.picks(candidates, args).some((c) => (c.args ?? []).some((a) => r.isType(a, 'xid') || r.isType(a, 'xid8')));
  }
  return /"sval":"(xmin|xmax|cmin|cmax|xid|xid8)"/.test(JSON.stringify(args));
}

/**
 * The type-based candidate resolver for this statement (resolve.ts), built on first use: most
 * statements never need it (no candidate outside pg_catalog on the path).
 */
function lazyResolver(facts: Facts, req: GuardRequest, stmts: readonly unknown[]): () => Resolver | undefined {
  let built = false;
  let resolver: Resolver | undefined;
  return () => {
    if (!built) {
      built = true;
      const rels: CatalogRelation[] = [];
      for (const ref of facts.relations) {
        if (ref.role !== 'read' && ref.role !== 'write') continue;
        const r = resolveRelation(ref.parts, req.catalog, req.searchPath).rel;
        if (r !== undefined) rels.push(r);
      }
      const last = (parts: readonly string[]): string => parts[parts.length - 1] ?? '';
      const rules = req.policy === undefined ? undefined : functionRules(req.policy);
      resolver = Resolver.for(req.catalog, req.searchPath, rels, stmts, {
        functions: [...new Set(facts.functions.map((f) => last(f.parts)))],
        operators: [...new Set(facts.operators.map(last))],
        allowed: (schema, name) => rules !== undefined && (matchesAny(rules.allow, schema, name) || rules.allow.includes(name)),
      });
    }
    return resolver;
  };
}

/**
 * The object-identifier type (regclass, regrole …, aclitem) behind a type name — a domain over
 * one, an array of one, or a chain of both (CREATE DOMAIN public.rc AS regclass; public.rc[]) —
 * or undefined. Needs the snapshot's type information; resolves like PostgreSQL (pg_catalog
 * first unless the search_path lists it).
 */
function regTypeBehind(parts: readonly string[], req: GuardRequest): string | undefined {
  const info = req.catalog.typeInfo;
  const name = parts[parts.length - 1];
  if (info === undefined || name === undefined) return undefined;
  const schemas = parts.length >= 2 ? [parts[parts.length - 2] as string] : effectiveSearchPath(req.searchPath);
  const all = info.typesByName.get(name) ?? [];
  let t = schemas.map((s) => all.find((x) => x.schema === s)).find((x) => x !== undefined);
  for (let i = 0; t !== undefined && i < 16; i++) {
    if (t.schema === 'pg_catalog' && REG_TYPES.has(t.name)) return t.name;
    if (t.base === 0 || (t.kind !== 'd' && t.category !== 'A')) return undefined;
    t = info.types.get(t.base);
  }
  return undefined;
}

function splitRegclassText(text: string): string[] {
  return splitQualifiedName(text) ?? [text];
}

/**
 * Arguments that name relations (pg_relation_size('t'), regclass('t'), to_regclass('t')) or
 * functions (to_regproc('f')): literals are resolved and judged like references; anything computed
 * at run time (or a numeric OID) is a catalog lookup that follows the catalogs switch.
 */
function nameArguments(f: FunctionRef, policy: DatabasePolicy, policyName: string, refs: RelationRef[], regprocRefs: FunctionRef[], out: Reasons): void {
  const fname = f.parts[f.parts.length - 1] ?? '';
  const relIdx = REGCLASS_ARGS[fname];
  const procIdx = REGPROC_ARGS[fname];
  const typeIdx = TYPENAME_ARGS[fname];
  const idx = relIdx ?? procIdx ?? typeIdx ?? (NAME_LOOKUP_FUNCTIONS.has(fname) ? [0] : undefined);
  if (!idx) return;
  for (const i of idx) {
    if (i >= f.literalArgs.length) continue;
    const text = f.literalArgs[i];
    if (text === undefined || /^\s*[0-9]+\s*$/.test(text)) {
      if (!policy.catalogs) {
        out.add(
          reason(
            'SYSTEM_CATALOG',
            `function pg_catalog.${fname} is given an object computed at run time (or a numeric OID), a system catalog lookup hidden by policy '${policyName}'`,
            'Name the relation in a string literal, or use the describe tool.',
          ),
        );
      }
      continue;
    }
    if (relIdx) {
      const parts = splitRegclassText(text);
      refs.push(fname === 'to_regclass' ? { parts, role: 'regclass', optional: true, literal: true } : { parts, role: 'regclass', literal: true });
    } else if (procIdx) {
      regprocRefs.push({ parts: splitQualifiedName(text) ?? [text], kind: 'regproc', literalArgs: [] });
    } else if (typeIdx) {
      const parts = splitQualifiedName(text);
      if (parts) refs.push({ parts, role: 'type', optional: true, literal: true });
    }
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

  if (stmts.length > 1) {
    out.add(reason('MULTI_STATEMENT', `the text contains ${stmts.length} statements`));
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
    return finish(base, req, out);
  }
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

  let tool = req.tool;
  if (!SQL_TOOLS.has(tool)) {
    out.add(reason('TOOL_NOT_ALLOWED', `the ${tool} tool takes no SQL statement`, 'Use query, explain, check or execute for statements.'));
    return finish(base, req, out);
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
