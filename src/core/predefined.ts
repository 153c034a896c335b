/**
 * Predefined tools (config `tools`): who gets them, their typed parameters, and binding.
 *
 * Guarantees:
 * - A principal gets a tool only when it is named in the tool's `principals`, or its policy is in
 *   the tool's `policies`, AND that policy reaches the tool's database. Nothing is granted by default.
 * - Arguments are validated against the parameter definitions before anything runs; a bad
 *   argument is INVALID_ARGUMENTS naming the parameter (never echoing its value). Unknown
 *   arguments are refused, not ignored.
 * - Values are returned positionally for binding as `$1…$n` (the list order of `parameters`):
 *   they are never spliced into SQL text. Absent optional parameters without a default bind NULL.
 * Does not: judge the SQL (the gateway runs the guard on every call) or run anything.
 */
import type { z } from 'zod';
import { parseSync } from '../guard/pgquery.js';
import type { Config, PredefinedTool } from '../config/schema.js';
import { isRequired } from '../config/tool-parameters.js';
import { reason, type Reason } from '../guard/reasons.js';
import { resolvePrincipal } from './principals.js';

/** The built-in tools; a predefined tool may not take one of these names. */
export const BUILTIN_TOOL_NAMES: ReadonlySet<string> = new Set(['query', 'explain', 'describe', 'check', 'execute', 'revert', 'status']);

interface Grants {
  principals: readonly string[];
  policies: readonly string[];
  database?: string;
}

/** Whether an entry with grantees (tool, resource, prompt) is given to `principal`. */
export function grantedTo(config: Config, entry: Grants, principal: string): boolean {
  const p = config.principals[principal];
  if (!p) return false;
  if (!entry.principals.includes(principal) && !entry.policies.includes(p.policy)) return false;
  if (entry.database === undefined) return true;
  return resolvePrincipal(config, principal)?.databases.includes(entry.database) ?? false;
}

/** Every principal an entry is given to (configuration order). */
export function granteesOf(config: Config, entry: Grants): string[] {
  return Object.keys(config.principals).filter((p) => grantedTo(config, { ...entry, database: undefined } as Grants, p));
}

/** The predefined tools given to a principal, in configuration order. */
export function predefinedToolsFor(config: Config, principal: string): [string, PredefinedTool][] {
  return Object.entries(config.tools).filter(([, t]) => grantedTo(config, t, principal));
}

// ---------------------------------------------------------------- binding

export type Bound = { ok: true; values: unknown[]; names: string[] } | { ok: false; reasons: Reason[] };

/**
 * Validate arguments and return the positional values for `$1…$n`. Messages name the parameter
 * and what it expects, never the value sent.
 */
export function bindArguments(tool: PredefinedTool, schema: z.ZodObject, args: unknown): Bound {
  const parsed = schema.safeParse(args ?? {});
  if (!parsed.success) return { ok: false, reasons: argumentReasons(parsed.error, tool) };
  const data: Record<string, unknown> = parsed.data;
  return { ok: true, values: tool.parameters.map((p) => data[p.name] ?? null), names: tool.parameters.map((p) => p.name) };
}

/**
 * INVALID_ARGUMENTS reasons for a failed validation (at most 10): the argument's name and what it
 * expects, never the value sent (an argument name the tool does not have is clipped).
 */
export function argumentReasons(error: z.ZodError, tool?: PredefinedTool): Reason[] {
  const fix = tool
    ? `Send arguments matching the tool's input schema (${describeParams(tool)}).`
    : "Send arguments matching the tool's input schema (tools/list shows it).";
  return error.issues.slice(0, 10).map((issue) => {
    const param = issue.path.length > 0 ? clip(String(issue.path[0])) : undefined;
    const what =
      issue.code === 'unrecognized_keys'
        ? `unknown argument(s): ${issue.keys.slice(0, 10).map(clip).join(', ')}`
        : param !== undefined
          ? `argument "${param}": ${issueText(issue)}`
          : `arguments: ${issueText(issue)}`;
    return reason('INVALID_ARGUMENTS', what, fix);
  });
}

const WRITE_NODES = /"(InsertStmt|UpdateStmt|DeleteStmt|MergeStmt)"/;

/**
 * Whether a predefined tool's statement writes (for its annotations and output schema). Conservative:
 * any data-modifying node anywhere in the parse tree counts, and text that does not parse is
 * treated as a write (the guard refuses it at load and on every call anyway). Needs the parser loaded.
 */
export function predefinedIsWrite(sql: string): boolean {
  try {
    return WRITE_NODES.test(JSON.stringify(parseSync(sql)));
  } catch {
    return true;
  }
}

function clip(s: string): string {
  return s.replace(/[^\x20-\x7e]/g, '?').slice(0, 40);
}

/** A validation issue in words, without the offending value. */
function issueText(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${issue.expected}`;
    case 'too_small':
      return `must be at least ${String(issue.minimum)}${issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : ''}`;
    case 'too_big':
      return `must be at most ${String(issue.maximum)}${issue.origin === 'string' ? ' characters' : issue.origin === 'array' ? ' items' : ''}`;
    case 'invalid_format':
      return 'does not match the required pattern';
    case 'invalid_value':
      return `must be one of: ${issue.values.slice(0, 20).map(String).join(', ')}`;
    default:
      return 'is not valid';
  }
}

function describeParams(tool: PredefinedTool): string {
  if (tool.parameters.length === 0) return 'no arguments';
  return tool.parameters.map((p) => `${p.name}: ${p.type === 'array' ? `array of ${p.items?.type ?? '?'}` : p.type}${isRequired(p) ? '' : '?'}`).join(', ');
}
