/**
 * Generator for docs/reasons.md from the reason catalogue (src/guard/reasons.ts).
 *
 *   npx tsx src/guard/docs.ts > docs/reasons.md
 *
 * test/unit/guard/docs.test.ts fails when the checked-in file differs from this output, so the
 * docs cannot drift from the catalogue.
 *
 * Size (#15 item 5): renderReasonsDoc (~84 lines) is a document template (docs/reasons.md), not a
 * decision; it reads as the page it prints.
 */
import { pathToFileURL } from 'node:url';
import { ALLOWED_BUILTINS } from './builtins.js';
import { BUILTIN_DENIED_FUNCTIONS, NEVER_ALLOWED_CATALOG_FUNCTIONS, SAFE_SETTINGS, SESSION_TEXT_FUNCTIONS } from './functions.js';
import { REASONS, type ReasonCategory, type ReasonCode, type ReasonDefinition } from './reasons.js';
import { NEVER_READABLE_CATALOG_RELATIONS, SENSITIVE_CATALOG_RELATIONS } from './relations.js';

const CATEGORY_TITLES: Record<ReasonCategory, string> = {
  input: 'Input: the text itself',
  statement: 'Statement kinds',
  relation: 'Relations: tables, views, schemas, catalogs',
  function: 'Functions and operators',
  access: 'Access: principal, database, tool',
  runtime: 'Runtime: while running an allowed statement',
  write: 'Guarded writes',
  gateway: 'The gateway itself',
  http: 'HTTP: refused before the MCP exchange',
};

function cell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

export function renderReasonsDoc(): string {
  const lines: string[] = [
    '<!-- GENERATED from src/guard/reasons.ts by `npx tsx src/guard/docs.ts > docs/reasons.md`; do not edit by hand.',
    '     test/unit/guard/docs.test.ts fails when this file and the catalogue drift apart. -->',
    '',
    '# Reason codes',
    '',
    'Every refusal and every error an agent sees carries a stable `code`, a `message` naming the',
    'subject (identifiers only, never SQL literals) and a `fix` the agent can act on. Codes are never',
    'renamed once released. The fixes below are the defaults; the guard often gives a more specific',
    'one (e.g. naming an allowed table to use instead).',
    '',
    'Codes the HTTP layer answers with itself (before or outside an MCP exchange) show their HTTP status;',
    'their JSON-RPC error body carries the code as `error.data.code` with the fix and the request id.',
    '',
  ];
  const byCategory = new Map<ReasonCategory, ReasonCode[]>();
  for (const code of Object.keys(REASONS) as ReasonCode[]) {
    const cat = REASONS[code].category;
    const list = byCategory.get(cat) ?? [];
    list.push(code);
    byCategory.set(cat, list);
  }
  for (const [cat, codes] of byCategory) {
    lines.push(`## ${CATEGORY_TITLES[cat]}`, '', '| code | meaning | fix |', '|---|---|---|');
    for (const code of codes) {
      const d = REASONS[code];
      const def: ReasonDefinition = d;
      const status = def.http ? ` (HTTP ${def.http.status})` : '';
      lines.push(`| \`${code}\` | ${cell(d.summary)}${status} | ${cell(d.fix)} |`);
    }
    lines.push('');
  }
  lines.push(
    '## How the guard applies them',
    '',
    '- A decision lists every reason that applies (deduplicated), not only the first.',
    '- Observe mode (`observe: true` in a policy) returns `allow` with the reasons listed, except for input',
    '  problems, `UNKNOWN_STATEMENT`, `TRANSACTION_CONTROL`, `SESSION_CONTROL` and `DATABASE_NOT_ALLOWED`,',
    '  which are always enforced (the gateway cannot run past them safely).',
    '- Unqualified names resolve like PostgreSQL: `pg_catalog` first (unless the pinned search_path lists it',
    '  elsewhere), then the search_path; a function or operator in a schema off that path is never a candidate',
    '  of an unqualified name. Candidates outside `pg_catalog` (extensions, user code) count only where',
    '  PostgreSQL could pick them for the argument types the guard can establish (literals, casts, column types,',
    "  result types of nested calls; an argument of unknown type may be any type the statement can produce): an",
    "  extension's `=`(citext, citext) or `strpos(citext, citext)` does not count for text arguments, while a",
    '  user-defined `=`(text, text) or `lower(text)` earlier on the path than `pg_catalog`, or a better match',
    '  (`lower(varchar)` for a varchar argument), is `FUNCTION_NOT_ALLOWED` unless `functions.allow` names it.',
    "  Among several candidates the guard replays PostgreSQL's tie-breaks (exact matches, preferred types, the",
    "  string category for unknown literals) whenever the argument types are known, for every combination of",
    "  the types an argument may have: `split_part('a', 'b', id)` picks `pg_catalog`'s even with citext installed.",
    '- `UNSAFE_FUNCTION` is the built-in deny set; `functions.deny` extends it and only an explicit',
    '  `functions.allow` entry (`name` or `schema.name`, no wildcard) lifts an entry from it.',
    `- Built-in deny set: ${[...BUILTIN_DENIED_FUNCTIONS.exact].sort().map((n) => `\`${n}\``).join(', ')};`,
    `  and every name starting with ${BUILTIN_DENIED_FUNCTIONS.prefixes.map((n) => `\`${n}\``).join(', ')};`,
    `  and names matching ${BUILTIN_DENIED_FUNCTIONS.patterns.map((r) => `\`${r.source}\``).join(', ')}.`,
    '- With `catalogs: false`, a pg_catalog function is allowed only if it is on the reviewed allow list of',
    `  built-ins that need no catalog access (src/guard/builtins.ts: ${Object.keys(ALLOWED_BUILTINS).join(', ')});`,
    '  every other pg_catalog function — catalog introspection, server and connection identity (`version()`,',
    '  `inet_server_addr()`, `pg_backend_pid()`, WAL and snapshot positions, sizes, statistics), internals, and',
    '  any function a newer server adds before it is classified — is `SYSTEM_CATALOG`. So are casts of run-time',
    '  values or numeric OIDs to `regclass`/`regproc`/`regrole`/… and to their array types (`_regclass`,',
    '  `regclass[]`) and to domains over them, string literals cast to `regrole`/`aclitem` (and to `regnamespace` naming an unexposed',
    '  schema), `CURRENT_USER`/`SESSION_USER`/`USER`/`CURRENT_ROLE`/`SYSTEM_USER`/`CURRENT_CATALOG`/`CURRENT_SCHEMA`,',
    '  `EXPLAIN (SETTINGS)`, and `current_setting` of any setting outside the safe list',
    `  (${[...SAFE_SETTINGS].sort().map((n) => `\`${n}\``).join(', ')}) or named other than by a string literal.`,
    '  Also `SYSTEM_CATALOG` under `catalogs: false`: outputting a column whose type is a reg type (or an array or',
    '  domain over one; named, `*` or a whole-row reference), and `age()` of a transaction id (`age(xmin)`).',
    `- Even with \`catalogs: true\`, these stay hidden unless \`tables.allow\` names them exactly: ${[...SENSITIVE_CATALOG_RELATIONS].sort().map((n) => `\`${n}\``).join(', ')}.`,
    `- Never readable, whatever the policy (\`catalogs: true\` and \`tables.allow\`/\`functions.allow\` naming them included): ${[...NEVER_READABLE_CATALOG_RELATIONS, ...[...NEVER_ALLOWED_CATALOG_FUNCTIONS].map((f) => `${f}()`)].sort().map((n) => `\`${n}\``).join(', ')} (the connection's prepared statements: the read path's statement cache).`,
    `- Other sessions' statement text stays hidden even with \`catalogs: true\` (every principal shares the gateway's login role): the functions ${[...SESSION_TEXT_FUNCTIONS].sort().map((n) => `\`${n}\``).join(', ')} open only when \`functions.allow\` names them.`,
    '- A view is checked against every relation it reads and every function it calls (transitively); a refusal',
    '  of a view or of an inheritance parent does not name the hidden relation behind it.',
    '- Refusals do not depend on what the policy hides. A relation, row type, type, function or operator named in',
    '  a schema the policy does not expose (and an unqualified relation name that an exposed schema\'s rules',
    '  refuse) is refused from its name and the policy alone: the same code, message and fix whether the object',
    "  exists or not, whatever its kind, columns or flags (`src/guard/visibility.ts`); names from string literals",
    "  (`'s.t'::regclass`, `to_regclass('s.t')`, `to_regproc('s.f')`) are judged the same way and never echoed. A",
    '  statement that names anything hidden stops there: built-in functions are still judged by name, but no',
    '  operator, function or write rule is resolved against the catalog, since that could consult the hidden',
    '  object (its column types pick an operator). Schemas on the pinned search_path count as visible.',
    '',
  );
  return lines.join('\n');
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.stdout.write(renderReasonsDoc());
}
