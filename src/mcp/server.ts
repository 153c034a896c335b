/**
 * MCP adapter: builds one McpServer per request (HTTP) or per connection (stdio) for one
 * principal, over the gateway core. Thin by design: argument schemas, annotations, and the
 * mapping of core outcomes to tool results. No policy decisions live here.
 *
 * Guarantees: the tool list is derived from the same policy that enforces execution (a tool the
 * principal cannot use is not listed; the `database` enum lists only reachable databases);
 * every refusal is a tool result with isError true and {decision, reasons:[{code,message,fix}]},
 * never a protocol error; results carry structuredContent plus the same JSON as text.
 */
import {
  McpServer,
  type CallToolResult,
  type InputRequiredResult,
  type McpRequestContext,
  type McpServerFactory,
  type ServerContext,
  type ToolAnnotations,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import type { CallContext, Gateway } from '../core/gateway.js';
import { VERSION } from '../core/gateway.js';
import { effectiveLimits } from '../core/principals.js';
import type { Outcome } from '../core/results.js';
import type { CancelLatch } from '../core/signals.js';
import type { InClientConfirm } from '../core/writes.js';
import type { ToolName } from '../guard/types.js';
import { clientCanConfirm, confirmationPrompt, readRedeem } from './confirm.js';
import { sharedJsonSchemaValidator } from './validator.js';
import { registerResources } from './resources.js';
import { registerPrompts } from './prompts.js';
import { argumentReasons, predefinedIsWrite, predefinedToolsFor } from '../core/predefined.js';
import { argumentsSchema } from '../config/tool-parameters.js';
import {
  advertised,
  orRefusal,
  checkOutput,
  describeOutput,
  executeOutput,
  explainOutput,
  predefinedOutput,
  queryOutput,
  revertOutput,
  statusOutput,
  type AdvertisedSchema,
} from './schemas.js';

/** What the transport adapter knows about the caller. */
export interface CallerInfo {
  principal: string;
  requestId?: string;
  clientAddress?: string;
  /** Fires when the HTTP client goes away or shutdown cancels the call. */
  signal?: AbortSignal;
  /** The stdio fast path's cancellation (notifications/cancelled, stdin closed), without an AbortSignal of its own. */
  cancelLatch?: CancelLatch;
  /** HTTP: the response the rows go out in (result byte budget, src/shared/budget.ts). */
  budgetScope?: CallContext['budgetScope'];
}

/** Resolve the caller from the SDK's request context (authInfo set by the HTTP layer). */
export type CallerResolver = (ctx: McpRequestContext) => CallerInfo | undefined;

const READ_ONLY: ToolAnnotations = { readOnlyHint: true, destructiveHint: false, idempotentHint: true, openWorldHint: false };

const INSTRUCTIONS =
  'pgwarden guards a PostgreSQL database. Start with `describe` (no arguments) to list the tables you may read, ' +
  'then `describe` one table for columns and sample rows. `query` runs ONE read statement (rows capped; truncation is reported). ' +
  '`check` tells what the guard would decide without running anything. Refusals carry a reason code and a fix: apply the fix and retry.';

export function createServerFactory(gateway: Gateway, resolveCaller: CallerResolver): McpServerFactory {
  return (ctx) => {
    const caller = resolveCaller(ctx);
    return buildServer(gateway, caller);
  };
}

/** What a tool's handler answers: a tool result, or (execute) an input-required result. */
type ToolResponse = CallToolResult | InputRequiredResult;

/**
 * The per-call facts a handler may need beyond its arguments (execute's in-client confirmation).
 * Absent on the HTTP fast path (tool-call.ts), which serves only 2025-era requests: there the
 * SDK's context has no request state and no client capabilities either (stateless, no
 * initialize on the request), so execute offers and redeems nothing on both paths.
 */
export interface ToolCall {
  server: McpServer;
  c: ServerContext;
}

/** One tool as offered to one principal: its MCP definition and how it calls the core. */
interface ToolDefinition {
  name: string;
  config: {
    title: string;
    description: string;
    inputSchema: AdvertisedSchema;
    outputSchema: AdvertisedSchema;
    annotations: ToolAnnotations;
  };
  /** What the handler validates arguments with (the advertised input schema, as zod). */
  args: z.ZodType;
  /**
   * Run the tool on the raw arguments: a built-in validates them with `args` and calls its typed
   * handler (a refusal in the refusal shape when they do not fit); a predefined tool passes them
   * to the core, which validates and audits them under the tool's name.
   */
  handle: (ctx: CallContext, raw: Record<string, unknown>, call?: ToolCall) => Promise<ToolResponse>;
}

/**
 * Tool definitions per principal, built once per gateway (configuration) and reused by every
 * per-request server: building zod schemas per request was a measurable share of a call.
 */
const definitionCache = new WeakMap<Gateway, { version: number; byPrincipal: Map<string, ToolDefinition[]> }>();

export function toolDefinitions(gateway: Gateway, principal: string): ToolDefinition[] {
  let entry = definitionCache.get(gateway);
  if (!entry || entry.version !== gateway.configVersion) {
    entry = { version: gateway.configVersion, byPrincipal: new Map() };
    definitionCache.set(gateway, entry);
  }
  const perGateway = entry.byPrincipal;
  let defs = perGateway.get(principal);
  if (!defs) {
    defs = [...builtinDefinitions(gateway, principal), ...predefinedDefinitions(gateway, principal)];
    perGateway.set(principal, defs);
  }
  return defs;
}

const DESTRUCTIVE: ToolAnnotations = { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false };

/** What every tool declares: names, texts, schemas, annotations. */
interface ToolSpec<S extends z.ZodObject> {
  name: string;
  title: string;
  description: string;
  input: S;
  output: z.ZodType;
  annotations: ToolAnnotations;
}

/** A built-in tool: its handler gets the arguments as the input schema's inferred type (no casts). */
interface BuiltinSpec<S extends z.ZodObject> extends ToolSpec<S> {
  name: ToolName;
  run: (ctx: CallContext, args: z.infer<S>, call?: ToolCall) => Promise<ToolResponse>;
}

/** A definition with one title (tools/list `title` and annotations.title are the same text). */
function definition<S extends z.ZodObject>(spec: ToolSpec<S>, handle: ToolDefinition['handle']): ToolDefinition {
  return {
    name: spec.name,
    config: {
      title: spec.title,
      description: spec.description,
      inputSchema: advertised(spec.input),
      outputSchema: advertised(orRefusal(spec.output)),
      annotations: { title: spec.title, ...spec.annotations },
    },
    args: spec.input,
    handle,
  };
}

/** A built-in: validate with its input schema, then call its handler with the parsed (typed) arguments. */
function builtin<S extends z.ZodObject>(gateway: Gateway, spec: BuiltinSpec<S>): ToolDefinition {
  return definition(spec, async (ctx, raw, call) => {
    const parsed = spec.input.safeParse(raw ?? {});
    if (!parsed.success) return toResult(gateway.refuseArguments(ctx, spec.name, argumentReasons(parsed.error)));
    return spec.run(ctx, parsed.data, call);
  });
}

function builtinDefinitions(gateway: Gateway, principal: string): ToolDefinition[] {
  const databases = gateway.principal(principal)?.databases ?? [];
  if (databases.length === 0) return [];
  const tools = gateway.tools(principal);
  const dbArg = z
    .enum(databases as [string, ...string[]])
    .optional()
    .describe(`Database to use (default: ${databases[0]}).`);
  const limits = effectiveLimits(gateway.config, databases[0] as string, gateway.policyFor(principal, databases[0] as string));
  const specs: ToolDefinition[] = [
    builtin(gateway, {
      name: 'query',
      title: 'Query (read-only SQL)',
      description:
        `Run exactly one read statement (SELECT, WITH … SELECT, TABLE, VALUES, EXPLAIN of a read) and get rows back. ` +
        `At most ${limits.max_rows} rows / ${limits.max_bytes} bytes are returned (truncated:true says more existed); ` +
        `statements time out after ${limits.statement_timeout_ms} ms. Writes, DDL, session and transaction commands are refused with a reason code.`,
      input: z.object({ sql: z.string().describe('One PostgreSQL read statement.'), database: dbArg }),
      output: queryOutput,
      annotations: READ_ONLY,
      run: async (ctx, a) => toResult(await gateway.query(ctx, a)),
    }),
    builtin(gateway, {
      name: 'explain',
      title: 'Explain a statement',
      description:
        'Return the PostgreSQL plan (EXPLAIN FORMAT JSON) for one statement. Pass the statement itself, without EXPLAIN. ' +
        'analyze:true executes it and is allowed only for reads (inside a read-only transaction with the same timeout).',
      input: z.object({
        sql: z.string().describe('The statement to explain (without the EXPLAIN keyword).'),
        analyze: z.boolean().optional().describe('Run the statement to get actual timings (reads only).'),
        database: dbArg,
      }),
      output: explainOutput,
      annotations: READ_ONLY,
      run: async (ctx, a) => toResult(await gateway.explain(ctx, a)),
    }),
    builtin(gateway, {
      name: 'describe',
      title: 'Describe the database or one table',
      description:
        'Without table: the schemas and tables you may read, with descriptions and row estimates. ' +
        'With table ("schema.table" or "table"): columns, types, keys, indexes, estimated rows and a few sample rows.',
      input: z.object({ table: z.string().optional().describe('A table or view, e.g. app.orders.'), database: dbArg }),
      output: describeOutput,
      annotations: READ_ONLY,
      run: async (ctx, a) => toResult(await gateway.describe(ctx, a)),
    }),
    builtin(gateway, {
      name: 'check',
      title: "Check: the guard's verdict without running",
      description:
        'Return what the guard would decide for one statement, without running it: statement kind, relations, functions, and every reason with a fix.',
      input: z.object({ sql: z.string().describe('The statement to judge.'), database: dbArg }),
      output: checkOutput,
      annotations: READ_ONLY,
      run: async (ctx, a) => toResult(await gateway.check(ctx, a)),
    }),
    builtin(gateway, {
      name: 'execute',
      title: 'Execute one guarded write',
      description:
        'Run exactly one INSERT, UPDATE or DELETE (MERGE where allowed). The gateway measures how many rows it would change first: ' +
        'small writes run at once and return an undoId for revert; larger ones are held for a human operator (an isError result with decision "hold" and an approvalId: ' +
        'nothing ran yet; poll status), very large or unscoped ones are refused. UPDATE/DELETE need a WHERE that really scopes the rows.',
      input: z.object({ sql: z.string().describe('One INSERT, UPDATE or DELETE statement.'), database: dbArg }),
      output: executeOutput,
      annotations: DESTRUCTIVE,
      run: (ctx, a, call) => executeTool(gateway, ctx, a, call),
    }),
    builtin(gateway, {
      name: 'revert',
      title: 'Revert one of your writes',
      description:
        'Restore exactly the rows a write you executed changed, by its undoId, in one transaction. Refused with UNDO_CONFLICT (listing the rows) ' +
        'when those rows changed since; a write is reverted at most once.',
      input: z.object({ undoId: z.string().describe('The undoId returned by execute.'), database: dbArg }),
      output: revertOutput,
      annotations: DESTRUCTIVE,
      run: async (ctx, a) => toResult(await gateway.revert(ctx, a)),
    }),
    builtin(gateway, {
      name: 'status',
      title: 'Status: who am I and what may I do',
      description: 'Your principal, the databases you can reach with their mode, tools and limits, pending approvals, and gateway health.',
      input: z.object({}),
      output: statusOutput,
      annotations: READ_ONLY,
      run: async (ctx) => toResult(await gateway.status(ctx)),
    }),
  ];
  return specs.filter((d) => d.name === 'status' || tools.has(d.name as ToolName));
}

/** The predefined tools (config `tools`) given to this principal. */
function predefinedDefinitions(gateway: Gateway, principal: string): ToolDefinition[] {
  return predefinedToolsFor(gateway.config, principal).map(([name, tool]) => {
    const write = predefinedIsWrite(tool.sql);
    const spec = { name, title: tool.title ?? name, description: tool.description, input: argumentsSchema(tool), output: predefinedOutput(write), annotations: write ? DESTRUCTIVE : READ_ONLY };
    // validated in the core (audited with the tool's name)
    return definition(spec, async (ctx, raw) => toResult(await gateway.predefined(ctx, name, raw)));
  });
}

export function buildServer(gateway: Gateway, caller: CallerInfo | undefined): McpServer {
  // listChanged false: the server is stateless (one per HTTP request) and never sends list_changed;
  // a reload shows up on the next list.
  const capabilities = caller
    ? { tools: { listChanged: false }, resources: { listChanged: false, subscribe: false }, prompts: { listChanged: false }, completions: {} }
    : { tools: { listChanged: false } };
  const server = new McpServer({ name: 'pgwarden', version: VERSION }, { capabilities, instructions: INSTRUCTIONS, jsonSchemaValidator: sharedJsonSchemaValidator });
  if (!caller) return server; // unauthenticated: nothing to offer (HTTP refuses before reaching here)
  for (const def of toolDefinitions(gateway, caller.principal)) {
    server.registerTool(def.name, def.config, async (raw: Record<string, unknown>, c) =>
      def.handle(toolCallContext(caller, { signal: c.mcpReq.signal, jsonrpcId: c.mcpReq.id, protocolVersion: protocolVersionOf(c) }), raw, { server, c }),
    );
  }
  // Resources and prompts (always registered for a caller: the capabilities above promise them).
  const run = <R>(fn: (ctx: CallContext) => Promise<R>): Promise<R> => {
    const ctx: CallContext = { principal: caller.principal, requestId: caller.requestId ?? randomUUID() };
    if (caller.clientAddress) ctx.clientAddress = caller.clientAddress;
    if (caller.signal) ctx.signal = caller.signal;
    if (caller.budgetScope) ctx.budgetScope = caller.budgetScope;
    return fn(ctx);
  };
  registerResources(server, gateway, caller.principal, run);
  registerPrompts(server, gateway, caller.principal);
  ensureHandlers(server);
  return server;
}

/**
 * The CallContext of one tools/call: cancelled by the MCP-level signal (the SDK's, or on the fast
 * path the HTTP request's) and by the caller's (HTTP disconnect, timeout, shutdown).
 */
export function toolCallContext(
  caller: CallerInfo,
  call: { signal: AbortSignal | undefined; jsonrpcId: string | number; protocolVersion: string | undefined },
): CallContext {
  const ctx: CallContext = { principal: caller.principal, requestId: caller.requestId ?? randomUUID(), jsonrpcId: call.jsonrpcId };
  if (call.signal !== undefined) ctx.signal = call.signal;
  if (caller.cancelLatch !== undefined) ctx.cancelLatch = caller.cancelLatch;
  if (call.protocolVersion !== undefined) ctx.protocolVersion = call.protocolVersion;
  if (caller.clientAddress) ctx.clientAddress = caller.clientAddress;
  if (caller.signal && caller.signal !== call.signal) ctx.alsoCancelledBy = [caller.signal];
  if (caller.budgetScope) ctx.budgetScope = caller.budgetScope;
  return ctx;
}

/** A protocol version fit for spans and audit (bounded, a plain token), else undefined. */
export function boundedProtocolVersion(value: string | null | undefined): string | undefined {
  return typeof value === 'string' && /^[0-9A-Za-z._-]{1,32}$/.test(value) ? value : undefined;
}

/**
 * The SDK installs the resources/prompts/completion handlers on first registration; a principal
 * with nothing to offer still gets empty lists (not "method not found") for the capabilities
 * declared. Uses the SDK's own idempotent installers.
 */
function ensureHandlers(server: McpServer): void {
  const s = server as unknown as { setResourceRequestHandlers(): void; setPromptRequestHandlers(): void; setCompletionRequestHandler(): void };
  s.setResourceRequestHandlers();
  s.setPromptRequestHandlers();
  s.setCompletionRequestHandler();
}

/**
 * The protocol revision of a request: the 2026-07-28 envelope's, else the HTTP
 * MCP-Protocol-Version header (2025-era clients send it after initialize). Bounded, for spans.
 */
function protocolVersionOf(c: ServerContext): string | undefined {
  const envelope = c.mcpReq.envelope as Record<string, unknown> | undefined;
  const fromEnvelope = envelope?.['io.modelcontextprotocol/protocolVersion'];
  return boundedProtocolVersion(typeof fromEnvelope === 'string' ? fromEnvelope : c.http?.req?.headers.get('mcp-protocol-version'));
}

/**
 * execute with in-client confirmation (src/mcp/confirm.ts): a retried call carrying request state
 * redeems a confirmation; a first call from a client that can elicit may get an input-required
 * result instead of a hold. Everything else is the plain execute.
 */
async function executeTool(gateway: Gateway, ctx: CallContext, args: { sql: string; database?: string | undefined }, call: ToolCall | undefined): Promise<ToolResponse> {
  const { sql, database } = args;
  const target = database ?? gateway.principal(ctx.principal)?.databases[0];
  const inClient = target === undefined ? undefined : gateway.policyFor(ctx.principal, target)?.writes.confirm_in_client;
  const stateKey = gateway.config.server.state_key;
  const redeem = call === undefined ? undefined : await readRedeem(call.c, { sql, database: target, stateKey });
  const confirm: InClientConfirm | undefined = redeem ?? (inClient?.enabled && call !== undefined && clientCanConfirm(call.server, call.c) ? { offer: true } : undefined);
  const out = await gateway.execute(ctx, { sql, database, ...(confirm ? { confirm } : {}) });
  if (!out.ok && out.refusal.confirmation) {
    const { confirmation } = out.refusal;
    return confirmationPrompt({ ...out.refusal, confirmation }, { sql, ttlMs: inClient?.ttl_ms ?? 120_000, stateKey });
  }
  return toResult(out);
}

/**
 * Map a core outcome to a tool result: structuredContent + the same JSON as text.
 * The payload is serialized once: the text is its JSON, and structuredContent is the payload
 * itself, which the transport serializes to that same JSON (core payloads hold JSON values only:
 * rows are converted by src/db/values.ts). No deep copy per call.
 */
export function toResult(outcome: Outcome<unknown>): CallToolResult {
  const payload = (outcome.ok ? outcome.value : outcome.refusal) as Record<string, unknown>;
  const result: CallToolResult = {
    content: [{ type: 'text', text: JSON.stringify(payload) }],
    structuredContent: payload,
    ...(outcome.ok ? {} : { isError: true }),
  };
  builtByToResult.add(result);
  return result;
}

/** Results built by toResult: their text is the JSON of their structuredContent (resultJson). */
const builtByToResult = new WeakSet<CallToolResult>();

/**
 * `JSON.stringify(result)` in parts (their concatenation is that text), without serializing a
 * toResult payload twice: the text block already is the payload's JSON, so structuredContent's
 * JSON is that same text (the keys in the order toResult writes them). Parts, not one string, so
 * that a large result is never flattened into one more copy (the HTTP fast path writes them as
 * separate buffers in one writev). Any other result is stringified as it is.
 */
export function resultJson(result: CallToolResult): readonly string[] {
  const first = result.content[0];
  if (!builtByToResult.has(result) || first?.type !== 'text') return [JSON.stringify(result)];
  return ['{"content":[{"type":"text","text":', JSON.stringify(first.text), '}],"structuredContent":', first.text, result.isError === true ? ',"isError":true}' : '}'];
}
