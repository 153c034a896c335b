/**
 * Load-time verification of predefined tools (config `tools`), at start and before a reload applies.
 *
 * Guarantees: a configuration is refused (ConfigError naming the tool, the principal and the reason
 * codes) when a tool's SQL is not exactly one statement, when its `$n` references do not match its
 * parameter list (every parameter used, none beyond it), or when the guard would refuse the
 * statement for any principal who gets the tool (policy, tables, functions, mode, masking rules).
 * Does not: replace the per-call judgement (every call is judged again), or verify a tool whose
 * database cannot be reached now (logged; its calls are judged when they come).
 */
import { parseSync } from '../guard/pgquery.js';
import { ConfigError } from '../config/index.js';
import type { Config } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Gateway } from '../core/gateway.js';
import { granteesOf } from '../core/predefined.js';

/** Statement count and the `$n` numbers a text references (the parser must be loaded). */
export function parameterReferences(sql: string): { statements: number; numbers: Set<number> } | undefined {
  let tree: unknown;
  try {
    tree = parseSync(sql);
  } catch {
    return undefined;
  }
  const numbers = new Set<number>();
  const stack: unknown[] = [tree];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    for (const [key, value] of Object.entries(node)) {
      if (key === 'ParamRef' && value !== null && typeof value === 'object') numbers.add(Number((value as { number?: unknown }).number ?? 0));
      stack.push(value);
    }
  }
  const stmts = (tree as { stmts?: unknown[] }).stmts ?? [];
  return { statements: stmts.length, numbers };
}

/** Problems with the SQL text of every tool, independent of any principal. */
export function staticToolIssues(config: Config): string[] {
  const out: string[] = [];
  for (const [name, tool] of Object.entries(config.tools)) {
    const refs = parameterReferences(tool.sql);
    if (refs === undefined) {
      out.push(`tools.${name}.sql: does not parse (PARSE_ERROR)`);
      continue;
    }
    if (refs.statements !== 1) out.push(`tools.${name}.sql: must be exactly one statement (found ${refs.statements})`);
    const n = tool.parameters.length;
    for (const k of refs.numbers) if (k < 1 || k > n) out.push(`tools.${name}.sql: references $${k} but the tool has ${n} parameter(s)`);
    for (let k = 1; k <= n; k++) {
      if (!refs.numbers.has(k)) out.push(`tools.${name}.parameters[${k - 1}]: $${k} (${tool.parameters[k - 1]?.name ?? '?'}) is not used by the statement`);
    }
  }
  for (const [name, resource] of Object.entries(config.resources)) {
    const refs = parameterReferences(resource.sql);
    if (refs === undefined) out.push(`resources.${name}.sql: does not parse (PARSE_ERROR)`);
    else if (refs.statements !== 1) out.push(`resources.${name}.sql: must be exactly one statement (found ${refs.statements})`);
    else {
      const n = resource.parameters.length;
      for (const k of refs.numbers) if (k < 1 || k > n) out.push(`resources.${name}.sql: references $${k} but the resource has ${n} parameter(s)`);
      for (let k = 1; k <= n; k++) if (!refs.numbers.has(k)) out.push(`resources.${name}.parameters[${k - 1}]: $${k} (${resource.parameters[k - 1]?.name ?? '?'}) is not used by the statement`);
    }
  }
  return out;
}

/**
 * Verify every predefined tool for every principal who gets it; throws ConfigError listing every
 * problem. `gateway` must carry the configuration being verified (Gateway.withConfig for a reload).
 */
export async function verifyPredefinedTools(gateway: Gateway, logger: Logger): Promise<void> {
  const config = gateway.config;
  const problems = staticToolIssues(config);
  if (problems.length === 0) {
    for (const section of ['tools', 'resources'] as const) {
      for (const [name, entry] of Object.entries(config[section])) {
        for (const principal of granteesOf(config, entry)) {
          const verdict = await gateway.judgeDefinition(principal, name, section);
          if ('unavailable' in verdict) {
            logger.warn({ [section === 'tools' ? 'tool' : 'resource']: name, database: entry.database }, 'definition not verified at load: its database is unreachable (every call is judged)');
            break;
          }
          if (verdict.reasons.length > 0) {
            problems.push(`${section}.${name}: principal "${principal}" could not run it: ${[...new Set(verdict.reasons.map((r) => r.code))].join(', ')}`);
          } else if (section === 'resources' && verdict.write) {
            problems.push(`resources.${name}: a resource must be a read (this statement writes)`);
            break;
          }
        }
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems, 'invalid predefined tools');
}
