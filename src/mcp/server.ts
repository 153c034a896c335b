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
  type StandardSchemaWithJSON,
  type ToolAnnotations,
} from '@modelcontextprotocol/server';
import { z } from 'zod';
import { randomUUID } from 'node:crypto';
import type { CallContext, Gateway } from '../core/gateway.js';
import { VERSION } from '../core/gateway.js';
import { effectiveLimits } from '../core/principals.js';
import type { Outcome } from '../core/results.js';
import type { InClientConfirm } from '../core/writes.js';
import type { ToolName } from '../guard/types.js';
import { clientCanConfirm, confirmationPrompt, readRedeem } from './confirm.js';
import { sharedJsonSchemaValidator } from '../http/validator.js';

/** What the transport adapter knows about the caller. */
export interface CallerInfo {
  principal: string;
  requestId?: string;
  clientAddress?: string;
  /** Fires when the HTTP client goes away or shutdown cancels the call. */
  signal?: AbortSignal;
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

/** One tool as offered to one principal: its MCP definition and how it calls the core. */
interface ToolDefinition {
  name: ToolName;
  config: {
    title: string;
    description: string;
    inputSchema: StandardSchemaWithJSON<Record<string, unknown>>;
    annotations: ToolAnnotations;
  };
  run: (ctx: CallContext, args: Record<string, unknown>) => Promise<Outcome<unknown>>;
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
    defs = buildDefinitions(gateway, principal);
    perGateway.set(principal, defs);
  }
  return defs;
}

function buildDefinitions(gateway: Gateway, principal: string): ToolDefinition[] {
  const databases = gateway.principal(principal)?.databases ?? [];
  if (databases.length === 0) return [];
  const tools = gateway.tools(principal);
  const dbArg = z
    .enum(databases as [string, ...string[]])
    .optional()
    .describe(`Database to use (default: ${databases[0]}).`);
  const limits = effectiveLimits(gateway.config, databases[0] as string, gateway.policyFor(principal, databases[0] as string));
  const str = (v: unknown): string => v as string;
  const opt = (v: unknown): string | undefined => v as string | undefined;
  const defs: (Omit<ToolDefinition, 'config'> & { config: Omit<ToolDefinition['config'], 'inputSchema'> & { inputSchema: z.ZodObject } })[] = [
    {
      name: 'query',
      config: {
        title: 'Run one read-only SQL statement',
        description:
          `Run exactly one read statement (SELECT, WITH … SELECT, TABLE, VALUES, EXPLAIN of a read) and get rows back. ` +
          `At most ${limits.max_rows} rows / ${limits.max_bytes} bytes are returned (truncated:true says more existed); ` +
          `statements time out after ${limits.statement_timeout_ms} ms. Writes, DDL, session and transaction commands are refused with a reason code.`,
        inputSchema: z.object({ sql: z.string().describe('One PostgreSQL read statement.'), database: dbArg }),
        annotations: { title: 'Query (read-only)', ...READ_ONLY },
      },
      run: (ctx, a) => gateway.query(ctx, { sql: str(a.sql), database: opt(a.database) }),
    },
    {
      name: 'explain',
      config: {
        title: 'Explain a statement',
        description:
          'Return the PostgreSQL plan (EXPLAIN FORMAT JSON) for one statement. Pass the statement itself, without EXPLAIN. ' +
          'analyze:true executes it and is allowed only for reads (inside a read-only transaction with the same timeout).',
        inputSchema: z.object({
          sql: z.string().describe('The statement to explain (without the EXPLAIN keyword).'),
          analyze: z.boolean().optional().describe('Run the statement to get actual timings (reads only).'),
          database: dbArg,
        }),
        annotations: { title: 'Explain', ...READ_ONLY },
      },
      run: (ctx, a) => gateway.explain(ctx, { sql: str(a.sql), analyze: a.analyze as boolean | undefined, database: opt(a.database) }),
    },
    {
      name: 'describe',
      config: {
        title: 'Describe the database or one table',
        description:
          'Without table: the schemas and tables you may read, with descriptions and row estimates. ' +
          'With table ("schema.table" or "table"): columns, types, keys, indexes, estimated rows and a few sample rows.',
        inputSchema: z.object({ table: z.string().optional().describe('A table or view, e.g. app.orders.'), database: dbArg }),
        annotations: { title: 'Describe', ...READ_ONLY },
      },
      run: (ctx, a) => gateway.describe(ctx, { table: opt(a.table), database: opt(a.database) }),
    },
    {
      name: 'check',
      config: {
        title: "Ask the guard's verdict without running",
        description:
          'Return what the guard would decide for one statement, without running it: statement kind, relations, functions, and every reason with a fix.',
        inputSchema: z.object({ sql: z.string().describe('The statement to judge.'), database: dbArg }),
        annotations: { title: 'Check', ...READ_ONLY },
      },
      run: (ctx, a) => gateway.check(ctx, { sql: str(a.sql), database: opt(a.database) }),
    },
    {
      name: 'execute',
      config: {
        title: 'Run one guarded write',
        description:
          'Run exactly one INSERT, UPDATE or DELETE (MERGE where allowed). The gateway measures how many rows it would change first: ' +
          'small writes run at once and return an undoId for revert; larger ones are held for a human operator (decision "hold" with an approvalId: ' +
          'nothing ran; poll status), very large or unscoped ones are refused. UPDATE/DELETE need a WHERE that really scopes the rows.',
        inputSchema: z.object({ sql: z.string().describe('One INSERT, UPDATE or DELETE statement.'), database: dbArg }),
        annotations: { title: 'Execute (guarded write)', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
      },
      run: (ctx, a) => gateway.execute(ctx, { sql: str(a.sql), database: opt(a.database) }),
    },
    {
      name: 'revert',
      config: {
        title: 'Undo one of your writes',
        description:
          'Restore exactly the rows a write you executed changed, by its undoId, in one transaction. Refused with UNDO_CONFLICT (listing the rows) ' +
          'when those rows changed since; a write is reverted at most once.',
        inputSchema: z.object({ undoId: z.string().describe('The undoId returned by execute.'), database: dbArg }),
        annotations: { title: 'Revert a write', readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: false },
      },
      run: (ctx, a) => gateway.revert(ctx, { undoId: str(a.undoId), database: opt(a.database) }),
    },
    {
      name: 'status',
      config: {
        title: 'Who am I and what may I do',
        description: 'Your principal, the databases you can reach with their mode, tools and limits, pending approvals, and gateway health.',
        inputSchema: z.object({}),
        annotations: { title: 'Status', ...READ_ONLY },
      },
      run: (ctx) => gateway.status(ctx),
    },
  ];
  return defs
    .filter((d) => d.name === 'status' || tools.has(d.name))
    .map((d) => ({ ...d, config: { ...d.config, inputSchema: memoizedJsonSchema(d.config.inputSchema) } }));
}

/**
 * A zod object schema as the SDK's Standard Schema, validation unchanged (zod's own `validate`)
 * and its JSON Schema conversion memoized. The SDK converts a tool's input schema on every
 * 2026-07-28 request (Mcp-Param header validation) and on tools/list, and memoizes it only per
 * McpServer — one per HTTP request here — so without this each call paid ≈ 80 µs for a
 * conversion whose result never changes. The memoized schemas are frozen: shared across
 * requests, nobody may change them.
 */
function memoizedJsonSchema(schema: z.ZodObject): StandardSchemaWithJSON<Record<string, unknown>> {
  const std = schema['~standard'];
  const memo = new Map<string, Record<string, unknown>>();
  const convert = (io: 'input' | 'output', options: StandardJSONSchemaOptions): Record<string, unknown> => {
    const key = `${io}\0${options.target}\0${options.libraryOptions === undefined ? '' : JSON.stringify(options.libraryOptions)}`;
    let json = memo.get(key);
    if (json === undefined) {
      json = deepFreeze(std.jsonSchema[io](options));
      memo.set(key, json);
    }
    return json;
  };
  return {
    '~standard': {
      vendor: std.vendor,
      version: std.version,
      validate: std.validate as StandardSchemaWithJSON<Record<string, unknown>>['~standard']['validate'],
      jsonSchema: { input: (options) => convert('input', options), output: (options) => convert('output', options) },
    },
  };
}

type StandardJSONSchemaOptions = Parameters<StandardSchemaWithJSON['~standard']['jsonSchema']['input']>[0];

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

export function buildServer(gateway: Gateway, caller: CallerInfo | undefined): McpServer {
  const server = new McpServer(
    { name: 'pgwarden', version: VERSION },
    { capabilities: { tools: {} }, instructions: INSTRUCTIONS, jsonSchemaValidator: sharedJsonSchemaValidator },
  );
  if (!caller) return server; // unauthenticated: nothing to offer (HTTP refuses before reaching here)
  /** Run a tool with a CallContext cancelled by the HTTP request's signal and the SDK's (MCP-level) one. */
  const withContext = <R>(c: ServerContext, fn: (ctx: CallContext) => Promise<R>): Promise<R> => {
    const ctx: CallContext = { principal: caller.principal, requestId: caller.requestId ?? randomUUID(), signal: c.mcpReq.signal, jsonrpcId: c.mcpReq.id };
    const version = protocolVersionOf(c);
    if (version !== undefined) ctx.protocolVersion = version;
    if (caller.clientAddress) ctx.clientAddress = caller.clientAddress;
    if (caller.signal) ctx.alsoCancelledBy = [caller.signal];
    return fn(ctx);
  };
  for (const def of toolDefinitions(gateway, caller.principal)) {
    if (def.name === 'execute') {
      server.registerTool(def.name, def.config, async (args: Record<string, unknown>, c) => withContext(c, (ctx) => executeTool(gateway, server, ctx, args, c)));
      continue;
    }
    server.registerTool(def.name, def.config, async (args: Record<string, unknown>, c) => withContext(c, async (ctx) => toResult(await def.run(ctx, args))));
  }
  return server;
}

/**
 * The protocol revision of a request: the 2026-07-28 envelope's, else the HTTP
 * MCP-Protocol-Version header (2025-era clients send it after initialize). Bounded, for spans.
 */
function protocolVersionOf(c: ServerContext): string | undefined {
  const envelope = c.mcpReq.envelope as Record<string, unknown> | undefined;
  const fromEnvelope = envelope?.['io.modelcontextprotocol/protocolVersion'];
  const value = typeof fromEnvelope === 'string' ? fromEnvelope : (c.http?.req?.headers.get('mcp-protocol-version') ?? undefined);
  return value !== undefined && /^[0-9A-Za-z._-]{1,32}$/.test(value) ? value : undefined;
}

/**
 * execute with in-client confirmation (src/mcp/confirm.ts): a retried call carrying request state
 * redeems a confirmation; a first call from a client that can elicit may get an input-required
 * result instead of a hold. Everything else is the plain execute.
 */
async function executeTool(gateway: Gateway, server: McpServer, ctx: CallContext, args: Record<string, unknown>, c: ServerContext): Promise<CallToolResult | InputRequiredResult> {
  const sql = args.sql as string;
  const database = args.database as string | undefined;
  const target = database ?? gateway.principal(ctx.principal)?.databases[0];
  const inClient = target === undefined ? undefined : gateway.policyFor(ctx.principal, target)?.writes.confirm_in_client;
  const stateKey = gateway.config.server.state_key;
  const redeem = await readRedeem(c, { sql, database: target, stateKey });
  const confirm: InClientConfirm | undefined = redeem ?? (inClient?.enabled && clientCanConfirm(server, c) ? { offer: true } : undefined);
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
  return {
    content: [{ type: 'text', text: JSON.stringify(payload) }],
    structuredContent: payload,
    ...(outcome.ok ? {} : { isError: true }),
  };
}
