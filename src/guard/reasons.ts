/**
 * The catalogue of reason codes: every refusal and every error an agent can see carries one
 * of these stable UPPER_SNAKE codes, a message and a fix. docs/reasons.md is checked against
 * this file by a test, so the docs cannot drift.
 *
 * Guarantees: codes are stable identifiers (never renamed once released); `fix` is written
 * for an agent to act on. Messages built from this catalogue must never include SQL
 * literals, tokens or DSNs.
 *
 * Size (#15 item 5): the file (~560 lines) is the reason catalogue, one entry per code (summary,
 * fix, category); it is data, generated into docs/reasons.md, and stays one leaf module.
 */

export type ReasonCategory =
  | 'input' // the text itself: parse errors, size, multiple statements
  | 'statement' // statement kinds the policy does not allow
  | 'relation' // tables, views, schemas, catalogs
  | 'function' // functions and procedures
  | 'access' // principal, database, tool
  | 'runtime' // what happened while running an allowed statement
  | 'write' // guarded writes (issue #5)
  | 'gateway' // the gateway itself: shutdown, audit, internal
  | 'http'; // refusals of the HTTP layer before the MCP exchange (src/http/errors.ts)

/** JSON-RPC 2.0 error codes of HTTP-level refusals; -32000…-32099 is the implementation-defined server range. */
export const JSONRPC = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  SERVER_ERROR: -32000,
  UNAUTHORIZED: -32001,
  INTERNAL_ERROR: -32603,
} as const;

/** How the HTTP layer answers a code it refuses a request with (src/http/errors.ts). */
export interface HttpAnswer {
  readonly status: number;
  readonly rpc: number;
  /** The body's message when it differs from the summary. */
  readonly message?: string;
}

export interface ReasonDefinition {
  readonly category: ReasonCategory;
  /** One line: what the code means. */
  readonly summary: string;
  /** The default fix an agent can act on; call sites may give a more specific one. */
  readonly fix: string;
  /** Present for the codes the HTTP layer answers with itself: status and JSON-RPC code. */
  readonly http?: HttpAnswer;
}

export const REASONS = {
  // input
  PARSE_ERROR: {
    category: 'input',
    summary: 'The text is not valid PostgreSQL syntax.',
    fix: 'Fix the syntax error at the reported position and send one PostgreSQL statement.',
  },
  EMPTY_STATEMENT: {
    category: 'input',
    summary: 'The text contains no statement.',
    fix: 'Send exactly one SQL statement.',
  },
  MULTI_STATEMENT: {
    category: 'input',
    summary: 'The text contains more than one statement.',
    fix: 'Send one statement per call; split the text at the semicolons and call the tool once for each.',
  },
  INVALID_INPUT: {
    category: 'input',
    summary: 'The text contains bytes PostgreSQL cannot accept (such as a NUL byte).',
    fix: 'Remove control characters such as NUL (\\0) from the statement.',
  },
  STATEMENT_TOO_LARGE: {
    category: 'input',
    summary: 'The statement is longer than the configured maximum.',
    fix: 'Send a shorter statement; move long value lists into a table or a predefined tool.',
  },
  STATEMENT_TOO_COMPLEX: {
    category: 'input',
    summary: 'The parse tree is larger or deeper than the guard will evaluate.',
    fix: 'Simplify the statement: fewer nested expressions or terms.',
  },
  UNSUPPORTED_PARAMETERS: {
    category: 'input',
    summary: 'The statement uses $n parameters, which this tool does not bind.',
    fix: 'Inline the values as literals, or use a predefined tool that takes parameters.',
  },
  AMBIGUOUS_STRING_LITERAL: {
    category: 'input',
    summary: "A '…' string literal has a backslash before a quote: a server with standard_conforming_strings off would read it as an escape and split the text differently.",
    fix: "Write the literal as E'…' (a backslash as \\\\, a quote as ''), or remove the backslash before the quote.",
  },

  // statement kinds
  WRITE_NOT_ALLOWED: {
    category: 'statement',
    summary: 'The statement writes data, and this tool or policy only reads.',
    fix: 'Use a SELECT. If a write is intended, use the execute tool with a principal whose policy allows writes.',
  },
  DATA_MODIFYING_CTE: {
    category: 'statement',
    summary: 'A WITH clause contains INSERT, UPDATE, DELETE or MERGE.',
    fix: 'Remove the data-modifying statement from the WITH clause; reads may only contain SELECTs.',
  },
  SELECT_INTO: {
    category: 'statement',
    summary: 'SELECT INTO creates a table.',
    fix: 'Remove the INTO clause and read the rows directly.',
  },
  EXPLAIN_ANALYZE_WRITE: {
    category: 'statement',
    summary: 'EXPLAIN ANALYZE would execute a write.',
    fix: 'Use EXPLAIN without ANALYZE for writes, or use the check tool for the write.',
  },
  DDL_NOT_ALLOWED: {
    category: 'statement',
    summary: 'Schema changes (CREATE, ALTER, DROP, TRUNCATE, COMMENT…) are not allowed.',
    fix: 'pgwarden does not run DDL for agents; ask an operator to apply the migration.',
  },
  DCL_NOT_ALLOWED: {
    category: 'statement',
    summary: 'Privilege and role changes (GRANT, REVOKE, CREATE/ALTER ROLE…) are never allowed.',
    fix: 'Privileges are managed by operators outside pgwarden.',
  },
  TRANSACTION_CONTROL: {
    category: 'statement',
    summary: 'Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT…) is managed by the gateway.',
    fix: 'Send only the statement itself; pgwarden opens and closes the transaction.',
  },
  SESSION_CONTROL: {
    category: 'statement',
    summary: 'Session changes (SET, RESET, DISCARD, SET ROLE, SET SESSION AUTHORIZATION…) are not allowed.',
    fix: 'Remove the session command; settings are pinned by the gateway per principal.',
  },
  UTILITY_NOT_ALLOWED: {
    category: 'statement',
    summary: 'Utility commands (COPY, VACUUM, LOCK, LISTEN/NOTIFY, PREPARE, DECLARE, DO, CALL, LOAD…) are not allowed.',
    fix: 'Express the request as a single SELECT.',
  },
  LOCKING_CLAUSE: {
    category: 'statement',
    summary: 'FOR UPDATE / FOR SHARE takes row locks, which a read-only policy does not allow.',
    fix: 'Remove the FOR UPDATE/SHARE clause.',
  },
  UNKNOWN_STATEMENT: {
    category: 'statement',
    summary: 'The parse tree contains a node the guard does not know; it fails closed.',
    fix: 'Rewrite the statement with common SQL constructs, or report the construct to the operator.',
  },
  EXPLAIN_ONLY: {
    category: 'statement',
    summary: 'The policy is explain-only: the plan is returned instead of rows.',
    fix: 'No change needed; ask an operator for a read-only policy to see rows.',
  },
  MASK_REWRITE_UNSUPPORTED: {
    category: 'statement',
    summary: 'The statement reads masked columns in a way the masking rewrite cannot prove safe (a relation named in a string, EXPLAIN VERBOSE of a hashed column, statement text views, a masked table whose column list is unknown…).',
    fix: 'Reference masked tables in FROM/JOIN only, without EXPLAIN VERBOSE.',
  },
  MASKED_COLUMN_WRITE: {
    category: 'statement',
    summary: 'A write names, sets or returns a masked column of the table it writes, or uses that table\'s whole row (t, t.*, ROW(t.*), to_jsonb(t), (t).col): its outcome would depend on raw masked values.',
    fix: 'Name only unmasked columns of the written table, list the columns of an INSERT, and do not use the table alias or alias.* as a value.',
  },
  MASKED_CONSTRAINT: {
    category: 'statement',
    summary: 'A write would make PostgreSQL check a unique, exclusion, check or foreign-key constraint over a masked column; whether it succeeds would reveal raw masked values.',
    fix: 'Do not set the constraint\'s columns in this write (or delete from a table whose key is masked); ask an operator to run it.',
  },
  MASKED_COLUMN_PREDICATE: {
    category: 'statement',
    summary: 'The policy refuses predicates, joins, grouping, ordering or expressions over this masked column.',
    fix: 'Select the masked column only as a plain output column; filter, join and sort on unmasked columns.',
  },
  NOT_A_WRITE: {
    category: 'statement',
    summary: 'The execute tool runs writes only, and the statement does not write.',
    fix: 'Use the query tool for reads.',
  },

  // relations
  DENIED_TABLE: {
    category: 'relation',
    summary: 'The statement reads a table or view the policy denies.',
    fix: 'Remove the denied relation; call describe to list what this principal may read.',
  },
  DENIED_SCHEMA: {
    category: 'relation',
    summary: 'The statement reads from a schema the policy does not expose.',
    fix: 'Use tables from the exposed schemas; call describe to list them.',
  },
  SYSTEM_CATALOG: {
    category: 'relation',
    summary: 'System catalogs (pg_catalog, information_schema, pg_toast) are hidden by policy.',
    fix: 'Use the describe tool to discover schemas, tables and columns.',
  },
  UNKNOWN_RELATION: {
    category: 'relation',
    summary: 'The relation does not exist in the database as resolved with the pinned search_path.',
    fix: 'Check the name with describe; qualify it with its schema.',
  },
  VIEW_NOT_ALLOWED: {
    category: 'relation',
    summary: 'The relation is a view and the policy does not allow views, or the view reads a denied relation.',
    fix: 'Query the base tables directly; call describe to list what is allowed.',
  },

  MASKED_VIEW: {
    category: 'relation',
    summary: 'The view (or materialized view) reads a table with masked columns, or calls a function that could; views are not a side door around masks.',
    fix: 'Query the base tables directly: their masked columns come back masked.',
  },

  // functions
  UNSAFE_FUNCTION: {
    category: 'function',
    summary: 'The statement calls a function with side effects, file, network, admin, lock, sleep or dynamic-SQL access.',
    fix: 'Remove the function call; it is denied wherever it appears.',
  },
  FUNCTION_NOT_ALLOWED: {
    category: 'function',
    summary: 'The function is not on the policy allow-list, or is a user-defined function the policy does not allow.',
    fix: 'Use built-in functions, or ask an operator to allow the function in the policy.',
  },

  // access
  UNKNOWN_DATABASE: {
    category: 'access',
    summary: 'No database with that name is configured.',
    fix: 'Use one of the databases listed by the status tool.',
  },
  DATABASE_NOT_ALLOWED: {
    category: 'access',
    summary: "The principal's policy does not reach this database.",
    fix: 'Use one of the databases listed by the status tool.',
  },
  TOOL_NOT_ALLOWED: {
    category: 'access',
    summary: "The principal's policy disables this tool on this database.",
    fix: 'Use another tool (status lists what is enabled), or ask an operator to enable it.',
  },
  UNAUTHORIZED: {
    category: 'access',
    summary: 'The request carried no valid bearer token (missing, malformed, unknown or expired).',
    fix: 'Send Authorization: Bearer <token> with a token configured for a principal; ask the operator for a new one if it expired.',
  },
  INVALID_ARGUMENTS: {
    category: 'input',
    summary: "The tool's arguments do not match its input schema (a missing, unknown or out-of-range argument); nothing ran.",
    fix: "Send arguments that match the tool's input schema (tools/list shows it) and retry.",
  },
  UNKNOWN_RESOURCE: {
    category: 'access',
    summary: 'No resource with that URI exists, or it is not visible to this principal.',
    fix: 'List resources (resources/list) and the templates (resources/templates/list) to find what this principal may read.',
  },
  UNKNOWN_TABLE: {
    category: 'access',
    summary: 'describe was asked for a table that does not exist or is not visible to this principal.',
    fix: 'Call describe without a table to list the tables this principal may see.',
  },

  // runtime
  STATEMENT_TIMEOUT: {
    category: 'runtime',
    summary: 'The statement ran longer than the statement timeout and was cancelled.',
    fix: 'Make the query cheaper: add selective WHERE conditions, use indexed columns, aggregate less data.',
  },
  LOCK_TIMEOUT: {
    category: 'runtime',
    summary: 'The statement waited too long for a lock.',
    fix: 'Retry later; another transaction holds a lock on the relation.',
  },
  QUERY_CANCELED: {
    category: 'runtime',
    summary: 'The statement was cancelled (client went away, or the gateway is shutting down).',
    fix: 'Retry the call.',
  },
  RESULT_TOO_LARGE: {
    category: 'runtime',
    summary: 'A single row (or a message of the database, e.g. an error quoting a huge value) is larger than the byte cap.',
    fix: 'Select fewer or smaller columns (e.g. left(col, 200)).',
  },
  RESULT_BUDGET_EXHAUSTED: {
    category: 'runtime',
    summary: 'The gateway holds as many result bytes for all calls as it may; this read could not get room in time.',
    fix: 'Retry in a few seconds; select fewer or smaller columns (e.g. left(col, 200)) or fewer rows to need less.',
  },
  PERMISSION_DENIED: {
    category: 'runtime',
    summary: "The database refused the statement under the principal's role (grants or row-level security).",
    fix: 'Use relations the role may read; call describe to list them.',
  },
  READ_ONLY_VIOLATION: {
    category: 'runtime',
    summary: 'The database refused a write inside the read-only transaction.',
    fix: 'Use a statement that only reads.',
  },
  DATABASE_ERROR: {
    category: 'runtime',
    summary: 'The database reported an error running the statement (see sqlstate).',
    fix: 'Read the sqlstate and message, correct the statement and retry.',
  },
  DATABASE_UNAVAILABLE: {
    category: 'runtime',
    summary: 'The database cannot be reached right now.',
    fix: 'Retry in a few seconds; if it persists, the operator must check the database.',
  },
  POOL_EXHAUSTED: {
    category: 'runtime',
    summary: 'Every connection the gateway may open to this database is busy with other calls; the database itself is reachable.',
    fix: 'Retry in a moment; if it keeps happening, the operator can raise databases.<name>.pool.max (and the server\'s max_connections) or lower the concurrency of agents.',
  },

  // guarded writes (issue #5)
  WRITE_KIND_NOT_ALLOWED: {
    category: 'write',
    summary: 'The policy does not allow this kind of write (INSERT, UPDATE, DELETE or MERGE) through execute.',
    fix: 'Use a write kind listed in writes.kinds of the policy (the status tool shows it), or ask an operator.',
  },
  WRITE_TABLE_NOT_ALLOWED: {
    category: 'write',
    summary: 'The target table is readable but not writable under the policy (writes.tables).',
    fix: 'Write only to tables the policy lists as writable; ask an operator to allow this one.',
  },
  NO_WHERE: {
    category: 'write',
    summary: 'UPDATE or DELETE without a WHERE clause would change every row of the table.',
    fix: 'Add a WHERE clause that selects exactly the rows to change (for example by primary key).',
  },
  TAUTOLOGICAL_WHERE: {
    category: 'write',
    summary: 'The WHERE clause is always true (1=1, true, x = x, x OR true, NOT false, a NOT NULL column IS NOT NULL…), so it selects every row.',
    fix: 'Replace the always-true condition with one that selects exactly the rows to change (for example by primary key).',
  },
  RETURNING_NOT_ALLOWED: {
    category: 'write',
    summary: 'execute returns the row count and an undo id, not rows: a RETURNING clause is not accepted (it would bypass column masking).',
    fix: 'Remove the RETURNING clause; read the changed rows afterwards with the query tool.',
  },
  NOT_REVERSIBLE: {
    category: 'write',
    summary: 'The write cannot be recorded for undo (no primary key, user triggers, rules, cascading foreign keys, volatile functions, upsert, MERGE, primary-key updates, views, partitioned or foreign tables…), and the policy does not allow irreversible writes.',
    fix: 'Rewrite the write as a plain INSERT, UPDATE or DELETE on a table with a primary key, or ask an operator to run it (allow_irreversible).',
  },
  WRITE_NOT_PLANNABLE: {
    category: 'write',
    summary: 'The write has a shape the planner cannot measure and record exactly (a data-modifying WITH, a write inside EXPLAIN, WHERE CURRENT OF…).',
    fix: 'Send one plain INSERT, UPDATE, DELETE (or MERGE) statement; read-only WITH clauses are fine.',
  },
  UNCOUNTABLE_WRITE: {
    category: 'write',
    summary: 'The blast radius of the write cannot be counted without side effects; the policy holds or blocks such writes.',
    fix: 'Rewrite the write so its rows can be counted (plain UPDATE/DELETE with a WHERE, INSERT … VALUES or INSERT … SELECT), or wait for an operator.',
  },
  BLAST_RADIUS_EXCEEDED: {
    category: 'write',
    summary: 'The write would change more rows than the policy allows at all (writes.block_above_rows).',
    fix: 'Narrow the WHERE clause and change the rows in smaller batches, or ask an operator.',
  },
  HELD_FOR_APPROVAL: {
    category: 'write',
    summary: 'The write would change more rows than the policy lets an agent change alone (writes.confirm_above_rows); it is held until an operator approves it.',
    fix: 'Wait for an operator to approve it (poll the status tool with the approval id), or narrow the WHERE clause.',
  },
  CAPTURE_TOO_LARGE: {
    category: 'write',
    summary: 'The before-images needed to undo the write exceed the capture limit (writes.max_capture_rows / max_capture_bytes).',
    fix: 'Change fewer rows per statement (narrow the WHERE clause and run it in batches).',
  },
  UNDO_NOT_FOUND: {
    category: 'write',
    summary: 'No recorded write has this undo id for this principal and database.',
    fix: 'Use the undo id returned by execute; the status tool lists recent writes.',
  },
  UNDO_CONFLICT: {
    category: 'write',
    summary: 'Rows changed by the write have changed again since, so reverting would overwrite newer data; nothing was reverted.',
    fix: 'Inspect the listed rows with the query tool and fix them with a new write, or ask an operator.',
  },
  UNDO_ALREADY_REVERTED: {
    category: 'write',
    summary: 'The write was already reverted (a revert runs at most once).',
    fix: 'No action needed.',
  },
  UNDO_EXPIRED: {
    category: 'write',
    summary: 'The journal entry is older than the retention period and was deleted.',
    fix: 'Repair the rows with a new write.',
  },
  APPROVAL_NOT_FOUND: {
    category: 'write',
    summary: 'No held write has this approval id.',
    fix: 'Use an approval id from the held result or from the status tool.',
  },
  APPROVAL_EXPIRED: {
    category: 'write',
    summary: 'The held write expired before an operator approved it; nothing ran.',
    fix: 'Send the write again if it is still needed.',
  },
  APPROVAL_NOT_PENDING: {
    category: 'write',
    summary: 'The held write was already approved, rejected or executed.',
    fix: 'No action needed; the status tool shows its outcome.',
  },
  APPROVAL_REJECTED: {
    category: 'write',
    summary: 'An operator rejected the held write; nothing ran.',
    fix: 'Do not retry the same write; ask the operator why.',
  },
  APPROVAL_RECHECK_FAILED: {
    category: 'write',
    summary: 'At approval time the write no longer passes the current policy, or its blast radius grew past the figure shown for approval; nothing ran.',
    fix: 'Send the write again so it is measured and judged anew.',
  },
  CONFIRMATION_INVALID: {
    category: 'write',
    summary: 'The in-client confirmation is missing, expired, already used, or does not match this principal and statement.',
    fix: 'Send the write again and confirm it when the client asks.',
  },
  REVERT_NEEDS_OPERATOR: {
    category: 'write',
    summary: 'The revert would change more rows than the policy lets an agent change alone (writes.confirm_above_rows); an agent cannot revert it by itself.',
    fix: 'Ask an operator to revert it (POST /admin/undo/<undo id>/revert or `pgwarden revert <undo id>`).',
  },
  WRITE_TRIGGER_UNTRUSTED: {
    category: 'write',
    summary: 'The write fires a trigger whose effects the gateway cannot follow (it may write to tables the policy forbids); nothing ran.',
    fix: 'Write to a table without such triggers, or ask an operator to list the trigger (schema.table.trigger) in writes.trusted_triggers after checking where it writes.',
  },
  WRITE_RULE_UNTRUSTED: {
    category: 'write',
    summary: 'The write is rewritten by a rule (CREATE RULE) whose effects the gateway cannot follow; nothing ran.',
    fix: 'Write to the table the rule targets directly, or ask an operator to list the rule (schema.table.rule) in writes.trusted_rules after checking where it writes.',
  },
  CATALOG_CHANGED: {
    category: 'write',
    summary: 'Definitions the write depends on (triggers, rules, views, foreign keys, inheritance of the tables it reaches) changed between the check and the write; it was rolled back.',
    fix: 'Send the write again: it is judged under the definitions in force now.',
  },
  PENDING_APPROVALS_LIMIT: {
    category: 'write',
    summary: 'This principal already has as many held writes waiting for an operator as the gateway allows (count or total size); nothing was held.',
    fix: 'Wait until an operator approves or rejects the held writes (see the status tool), or withdraw the need by narrowing the write below writes.confirm_above_rows.',
  },
  WRITE_SET_CHANGED: {
    category: 'write',
    summary: 'The write changed rows that were not captured for undo (rows matching the WHERE appeared between capture and write); it was rolled back.',
    fix: 'Retry; if it keeps happening, narrow the WHERE clause to rows other sessions are not changing.',
  },

  // gateway
  SHUTTING_DOWN: {
    category: 'gateway',
    summary: 'The gateway is shutting down and takes no new calls.',
    fix: 'Retry; another replica (or the restarted gateway) will answer.',
    http: { status: 503, rpc: JSONRPC.SERVER_ERROR },
  },
  RATE_LIMITED: {
    category: 'gateway',
    summary: 'Too many calls in the window for this principal or address.',
    fix: 'Wait for the number of seconds in Retry-After, then retry.',
    http: { status: 429, rpc: JSONRPC.SERVER_ERROR, message: 'Too many requests.' },
  },
  AUDIT_UNAVAILABLE: {
    category: 'gateway',
    summary: 'The audit log cannot be written and the gateway is configured to refuse calls it cannot audit (on_failure: fail-closed).',
    fix: 'Retry later; the operator must restore the audit sink (disk space, permissions, path).',
  },
  GUARD_BUSY: {
    category: 'gateway',
    summary: 'The gateway is already judging as many long statements as it may (guard.judging.workers and .queue); this one was not queued.',
    fix: 'Retry in a few seconds, or send a shorter statement.',
  },
  INTERNAL_ERROR: {
    category: 'gateway',
    summary: 'The gateway hit an unexpected error; nothing was run or the statement was rolled back.',
    fix: 'Retry; if it persists, report the request id to the operator.',
    http: { status: 500, rpc: JSONRPC.INTERNAL_ERROR, message: 'Internal error.' },
  },

  // http: refused by the HTTP layer before the MCP exchange (src/http/errors.ts answers them)
  UNAUTHENTICATED: {
    category: 'http',
    summary: 'Authentication required.',
    fix: 'Send "Authorization: Bearer <token>" with a token configured for your principal.',
    http: { status: 401, rpc: JSONRPC.UNAUTHORIZED },
  },
  INVALID_TOKEN: {
    category: 'http',
    summary: 'The bearer token is not valid.',
    fix: 'Check the token (or ask the operator for a new one) and send it as "Authorization: Bearer <token>".',
    http: { status: 401, rpc: JSONRPC.UNAUTHORIZED },
  },
  FORBIDDEN_HOST: {
    category: 'http',
    summary: 'The Host header is not allowed.',
    fix: 'Connect using a host name listed in server.allowed_hosts.',
    http: { status: 403, rpc: JSONRPC.SERVER_ERROR },
  },
  FORBIDDEN_ORIGIN: {
    category: 'http',
    summary: 'The Origin header is not allowed.',
    fix: 'Browser clients must run on an origin listed in server.allowed_origins.',
    http: { status: 403, rpc: JSONRPC.SERVER_ERROR },
  },
  NOT_FOUND: {
    category: 'http',
    summary: 'Not found.',
    fix: 'MCP is served with POST /mcp; probes are GET /health, /livez, /ready and /readyz.',
    http: { status: 404, rpc: JSONRPC.INVALID_REQUEST },
  },
  METHOD_NOT_ALLOWED: {
    category: 'http',
    summary: 'Method not allowed.',
    fix: 'This server is stateless: send every MCP message with POST /mcp.',
    http: { status: 405, rpc: JSONRPC.SERVER_ERROR },
  },
  PAYLOAD_TOO_LARGE: {
    category: 'http',
    summary: 'The request body is larger than the server accepts.',
    fix: 'Send a smaller request (see server.body_limit_bytes).',
    http: { status: 413, rpc: JSONRPC.INVALID_REQUEST },
  },
  UNSUPPORTED_MEDIA_TYPE: {
    category: 'http',
    summary: 'The request body must be application/json.',
    fix: 'Send the JSON-RPC message with "Content-Type: application/json".',
    http: { status: 415, rpc: JSONRPC.INVALID_REQUEST },
  },
  INVALID_JSON: {
    category: 'http',
    summary: 'Parse error: the body is not valid JSON.',
    fix: 'Send one JSON-RPC 2.0 message (or batch) as valid JSON.',
    http: { status: 400, rpc: JSONRPC.PARSE_ERROR },
  },
  INVALID_REQUEST: {
    category: 'http',
    summary: 'Invalid request.',
    fix: 'Send one JSON-RPC 2.0 message as the POST body.',
    http: { status: 400, rpc: JSONRPC.INVALID_REQUEST },
  },
} as const satisfies Record<string, ReasonDefinition>;

export type ReasonCode = keyof typeof REASONS;

/** A reason attached to a decision or an error: a stable code, a message and a fix. */
export interface Reason {
  code: ReasonCode;
  message: string;
  fix: string;
}

/** Build a reason from the catalogue; `message`/`fix` default to the catalogue's text. */
export function reason(code: ReasonCode, message?: string, fix?: string): Reason {
  const def: ReasonDefinition = REASONS[code];
  return { code, message: message ?? def.summary, fix: fix ?? def.fix };
}

export function isReasonCode(value: string): value is ReasonCode {
  return Object.prototype.hasOwnProperty.call(REASONS, value);
}
