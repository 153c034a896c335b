/**
 * Predefined-tool parameters (config `tools.<name>.parameters`) as zod schemas: the one source of
 * the tool's input JSON Schema (tools/list), of argument validation on every call, and of the
 * load-time checks of the definitions themselves.
 *
 * Guarantees: an arguments object is strict (unknown keys refused); every constraint written in
 * the configuration is enforced by validation and stated in the JSON Schema.
 * Does not: bind values or judge SQL (src/core/predefined.ts, the guard).
 */
import { z } from 'zod';
import type { PredefinedTool, ToolParameter, ToolParameterItems } from './schema.js';

export function scalarSchema(p: ToolParameter | ToolParameterItems): z.ZodType {
  switch (p.type) {
    case 'string': {
      let s = z.string();
      if (p.min_length !== undefined) s = s.min(p.min_length);
      if (p.max_length !== undefined) s = s.max(p.max_length);
      if (p.pattern !== undefined) s = s.regex(new RegExp(p.pattern, 'u'));
      return s;
    }
    case 'integer':
    case 'number': {
      let n = p.type === 'integer' ? z.int() : z.number();
      if (p.min !== undefined) n = n.min(p.min);
      if (p.max !== undefined) n = n.max(p.max);
      return n;
    }
    case 'boolean':
      return z.boolean();
    default:
      return z.enum((p.values ?? []) as [string, ...string[]]);
  }
}

/** The zod schema of one parameter (descriptions included: they become the JSON Schema's). */
export function parameterSchema(p: ToolParameter): z.ZodType {
  let s: z.ZodType;
  if (p.type === 'array') {
    let a = z.array(p.items ? scalarSchema(p.items) : z.never());
    if (p.min_items !== undefined) a = a.min(p.min_items);
    if (p.max_items !== undefined) a = a.max(p.max_items);
    s = a;
  } else {
    s = scalarSchema(p);
  }
  if (p.description !== undefined) s = s.describe(p.description);
  if (p.default !== undefined) return s.default(p.default as never);
  return isRequired(p) ? s : s.optional();
}

export function isRequired(p: ToolParameter): boolean {
  return p.default === undefined && p.required !== false;
}

/** The arguments object of a tool: strict (unknown arguments are refused). */
export function argumentsSchema(tool: PredefinedTool): z.ZodObject {
  return z.strictObject(Object.fromEntries(tool.parameters.map((p) => [p.name, parameterSchema(p)])));
}

/**
 * Problems with a tool's parameter definitions that the zod schema cannot express: enum without
 * values, array without items, bounds reversed, patterns that do not compile, defaults that
 * break their own constraints. Empty when the definitions are sound.
 */
export function parameterIssues(tool: PredefinedTool): { path: (string | number)[]; message: string }[] {
  const out: { path: (string | number)[]; message: string }[] = [];
  const seen = new Set<string>();
  tool.parameters.forEach((p, i) => {
    const at = (key: string | undefined, message: string): void => {
      out.push({ path: ['parameters', i, ...(key ? [key] : [])], message });
    };
    const before = out.length;
    if (seen.has(p.name)) at('name', `duplicate parameter name "${p.name}"`);
    seen.add(p.name);
    const checkOwn = (q: ToolParameter | ToolParameterItems, prefix: string | undefined): void => {
      const key = (k: string): string => (prefix ? `${prefix}.${k}` : k);
      if (q.type === 'enum' && (q.values === undefined || q.values.length === 0)) at(key('values'), 'an enum needs values');
      if (q.type !== 'enum' && q.values !== undefined) at(key('values'), 'values apply to enum parameters only');
      if ((q.min !== undefined || q.max !== undefined) && q.type !== 'integer' && q.type !== 'number') at(key('min'), 'min/max apply to integer and number parameters only');
      if (q.min !== undefined && q.max !== undefined && q.min > q.max) at(key('min'), 'min is greater than max');
      if ((q.pattern !== undefined || q.min_length !== undefined || q.max_length !== undefined) && q.type !== 'string') {
        at(key('pattern'), 'pattern/min_length/max_length apply to string parameters only');
      }
      if (q.min_length !== undefined && q.max_length !== undefined && q.min_length > q.max_length) at(key('min_length'), 'min_length is greater than max_length');
      if (q.pattern !== undefined) {
        try {
          new RegExp(q.pattern, 'u');
        } catch {
          at(key('pattern'), 'is not a valid regular expression');
        }
      }
    };
    checkOwn(p, undefined);
    if (p.type === 'array') {
      if (p.items === undefined) at('items', 'an array parameter needs items');
      else checkOwn(p.items, 'items');
      if (p.min_items !== undefined && p.max_items !== undefined && p.min_items > p.max_items) at('min_items', 'min_items is greater than max_items');
    } else if (p.items !== undefined || p.max_items !== undefined || p.min_items !== undefined) {
      at('items', 'items/min_items/max_items apply to array parameters only');
    }
    if (p.required === true && p.default !== undefined) at('required', 'a parameter with a default is not required');
    if (p.default !== undefined && out.length === before) {
      const r = parameterSchema({ ...p, default: undefined, required: true }).safeParse(p.default);
      if (!r.success) at('default', 'the default does not satisfy the parameter definition');
    }
  });
  return out;
}

