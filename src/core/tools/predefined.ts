/**
 * Operator-defined tools and resources (config `tools`, `resources`) over the shared read and
 * write paths, and their load-time verification.
 *
 * Guarantees: arguments are validated by the tool's schema and bound as $1…$n (never spliced);
 * the operator's statement is judged by the guard for this principal on every call (as `query`
 * for a read, as `execute` for a write, with `$n` accepted); an ungranted or unknown name is
 * refused with the same reason as a missing one; a resource that writes is refused. The policy's
 * switches for the raw tools do not apply. Audited under the tool's name with the parameter
 * names (values only under include_raw_sql).
 * Does not: run anything the guard did not allow (the read and write paths enforce).
 */
import { reason, type Reason } from '../../guard/reasons.js';
import { argumentsSchema } from '../../config/tool-parameters.js';
import type { PredefinedResource, PredefinedTool } from '../../config/schema.js';
import type { CallContext, Judged } from '../call/context.js';
import { judgePredefined } from '../call/judge.js';
import type { CallPlumbing } from '../call/plumbing.js';
import { readJudged } from '../call/read.js';
import { safeName } from '../call/refusals.js';
import { writeJudged } from '../call/write.js';
import { bindArguments, grantedTo } from '../predefined.js';
import { refused, type Outcome, type QueryPayload } from '../results.js';

/** A predefined tool (config `tools`): bound arguments, judged and run as a read or a guarded write. */
export function predefined(p: CallPlumbing, ctx: CallContext, name: string, args: unknown): Promise<Outcome<unknown>> {
  const config = p.deps.config;
  const tool = config.tools[name];
  const granted = tool !== undefined && grantedTo(config, tool, ctx.principal);
  return p.call(ctx, name, granted ? tool.database : undefined, async (r, started, event, ctx) => {
    if (!granted) {
      const reasons = [reason('TOOL_NOT_ALLOWED', `No tool named "${safeName(name)}" is given to this principal.`)];
      event.decision = 'blocked';
      event.reasons = reasons.map((x) => x.code);
      return refused({ decision: 'block', reasons });
    }
    event.parameters = tool.parameters.map((x) => x.name);
    const bound = bindArguments(tool, predefinedArguments(tool), args);
    if (!bound.ok) {
      event.decision = 'blocked';
      event.reasons = bound.reasons.map((x) => x.code);
      return refused({ decision: 'block', reasons: bound.reasons });
    }
    if (p.deps.config.audit.include_raw_sql) event.parameter_values = bound.values;
    const judged = await judgePredefined(p, ctx, r, tool.sql);
    if (judged.decision.kind === 'write') return writeJudged(p, r, event, judged, tool.sql, ctx.principal, bound.values);
    return readJudged(p, ctx, r, started, event, judged, tool.sql, false, bound.values);
  }, { predefined: granted });
}

/**
 * An operator-defined resource (config `resources`): its fixed statement judged like a predefined
 * read tool for this principal on every read (a write is refused), run through the read path.
 * A resource template's URI variables (`args`) are validated like a tool's arguments and bound as
 * $1…$n. Audited under the tool name `resource:<name>` with the parameter names.
 */
export function predefinedResource(p: CallPlumbing, ctx: CallContext, name: string, args: Record<string, string> = {}): Promise<Outcome<QueryPayload>> {
  const config = p.deps.config;
  const resource = config.resources[name];
  const granted = resource !== undefined && grantedTo(config, resource, ctx.principal);
  return p.call(ctx, `resource:${safeName(name)}`, granted ? resource.database : undefined, async (r, started, event, ctx) => {
    if (!granted) {
      const reasons = [reason('UNKNOWN_RESOURCE')];
      event.decision = 'blocked';
      event.reasons = reasons.map((x) => x.code);
      return refused({ decision: 'block', reasons });
    }
    const asTool = resourceAsTool(resource);
    if (resource.parameters.length > 0) event.parameters = resource.parameters.map((x) => x.name);
    const bound = bindArguments(asTool, predefinedArguments(asTool), args);
    if (!bound.ok) {
      event.decision = 'blocked';
      event.reasons = bound.reasons.map((x) => x.code);
      return refused({ decision: 'block', reasons: bound.reasons });
    }
    if (resource.parameters.length > 0 && p.deps.config.audit.include_raw_sql) event.parameter_values = bound.values;
    const judged = await judgePredefined(p, ctx, r, resource.sql);
    if (judged.decision.kind === 'write') {
      const reasons = [reason('WRITE_NOT_ALLOWED', 'A resource is a read; this statement writes.')];
      event.decision = 'blocked';
      event.reasons = reasons.map((x) => x.code);
      return refused({ decision: 'block', reasons });
    }
    return readJudged(p, ctx, r, started, event, judged, resource.sql, false, resource.parameters.length > 0 ? bound.values : undefined);
  }, { predefined: granted });
}

/**
 * The guard's verdict on a predefined tool's statement for one principal, as a call would judge
 * it (catalog loaded from the database). For load-time verification: nothing runs.
 */
export async function judgeDefinition(p: CallPlumbing, principal: string, name: string, section: 'tools' | 'resources'): Promise<{ reasons: Reason[]; write: boolean } | { unavailable: true }> {
  const tool = p.deps.config[section][name];
  if (tool === undefined) return { reasons: [reason('TOOL_NOT_ALLOWED')], write: false };
  const ctx: CallContext = { principal, requestId: `verify:${name}` };
  const pre = p.precheck(ctx, undefined, tool.database);
  if ('refusal' in pre) return { reasons: pre.refusal.reasons, write: false };
  let judged: Judged;
  try {
    judged = await judgePredefined(p, ctx, pre, tool.sql);
  } catch {
    return { unavailable: true };
  }
  const d = judged.decision;
  const reasons = d.decision === 'allow' && !(d.observed && d.reasons.length > 0) ? [] : d.reasons.length > 0 ? d.reasons : [reason('INTERNAL_ERROR')];
  return { reasons, write: d.kind === 'write' };
}

/** The arguments schema of a predefined tool, built once per tool definition (a reload makes new ones). */
const argumentSchemas = new WeakMap<PredefinedTool, ReturnType<typeof argumentsSchema>>();
/** A resource seen as a parameterized read (for binding its template variables); one per resource. */
const resourceTools = new WeakMap<PredefinedResource, PredefinedTool>();
function resourceAsTool(resource: PredefinedResource): PredefinedTool {
  let tool = resourceTools.get(resource);
  if (tool === undefined) {
    tool = { description: resource.description ?? 'resource', database: resource.database, sql: resource.sql, parameters: resource.parameters, principals: resource.principals, policies: resource.policies };
    resourceTools.set(resource, tool);
  }
  return tool;
}

function predefinedArguments(tool: PredefinedTool): ReturnType<typeof argumentsSchema> {
  let schema = argumentSchemas.get(tool);
  if (schema === undefined) {
    schema = argumentsSchema(tool);
    argumentSchemas.set(tool, schema);
  }
  return schema;
}
