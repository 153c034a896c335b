/**
 * Schemas the MCP adapter advertises: each tool's input schema (validated by the tool itself so a
 * bad argument is a refusal in the usual shape, not the SDK's plain-text error) and its output
 * schema (what structuredContent holds on success).
 *
 * Guarantees: the advertised JSON Schema of an input is exactly zod's conversion of the schema the
 * handler validates with, converted once per definition and frozen (shared by every per-request
 * server). Output schemas describe the success payloads the core builds (a unit test validates
 * real payloads against them); refusals are isError results, which carry the refusal shape instead.
 * Does not: validate outputs at run time (the core builds them; validating our own payload on
 * every call would only cost time).
 */
import type { StandardSchemaWithJSON } from '@modelcontextprotocol/server';
import { z } from 'zod';

type StandardJSONSchemaOptions = Parameters<StandardSchemaWithJSON['~standard']['jsonSchema']['input']>[0];
export type AdvertisedSchema = StandardSchemaWithJSON<Record<string, unknown>>;

/**
 * A zod schema as the SDK's Standard Schema, with its JSON Schema conversion memoized and
 * validation passed through (`validate` accepts anything): the tool handler validates with the
 * zod schema itself and answers INVALID_ARGUMENTS in the refusal shape. The SDK converts a tool's
 * schemas on every 2026-07-28 request and on tools/list, memoized only per McpServer (one per HTTP
 * request here), so without the memo each call paid ≈ 80 µs for a conversion that never changes.
 */
export function advertised(schema: z.ZodType): AdvertisedSchema {
  const std = schema['~standard'] as unknown as StandardSchemaWithJSON['~standard'];
  const memo = new Map<string, Record<string, unknown>>();
  const convert = (io: 'input' | 'output', options: StandardJSONSchemaOptions): Record<string, unknown> => {
    const key = `${io}\0${options.target}\0${options.libraryOptions === undefined ? '' : JSON.stringify(options.libraryOptions)}`;
    let json = memo.get(key);
    if (json === undefined) {
      const converted = std.jsonSchema[io](options);
      // MCP wants an object schema at the root; a union converts to a bare anyOf.
      if (converted.type === undefined && Array.isArray(converted.anyOf)) converted.type = 'object';
      json = deepFreeze(converted);
      memo.set(key, json);
    }
    return json;
  };
  return {
    '~standard': {
      vendor: std.vendor,
      version: std.version,
      validate: (value: unknown) => ({ value: value as Record<string, unknown> }),
      jsonSchema: { input: (options) => convert('input', options), output: (options) => convert('output', options) },
    },
  };
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

const reasonShape = z.object({ code: z.string(), message: z.string(), fix: z.string() });
const observed = z.object({ reasons: z.array(reasonShape) }).optional();

/** Every refusal (an isError result): what the tool returns when it does not succeed. */
export const refusalOutput = z.looseObject({
  decision: z.enum(['block', 'hold', 'error']),
  reasons: z.array(reasonShape).describe('Why, each with a stable code and a fix.'),
  requestId: z.string().optional(),
});

/**
 * A tool's advertised output: its success payload or a refusal. Refusals carry structuredContent
 * too, and some clients (the v1 TypeScript SDK) validate it against the output schema even on
 * isError results, so the schema states both shapes.
 */
export function orRefusal(success: z.ZodType): z.ZodType {
  return z.union([success, refusalOutput]);
}

/** query, and predefined read tools. */
export const queryOutput = z.looseObject({
  database: z.string(),
  columns: z.array(z.object({ name: z.string(), type: z.string() })),
  rows: z.array(z.array(z.unknown())).describe('Rows as arrays of values, in column order.'),
  rowCount: z.int(),
  truncated: z.boolean().describe('True when more rows existed than were returned (row or byte cap).'),
  truncatedBy: z.enum(['rows', 'bytes']).optional(),
  masked: z.array(z.string()).describe('Masked columns in the result.'),
  elapsedMs: z.number(),
  observed,
  plan: z.unknown().optional(),
  notice: z.string().optional(),
});

const blastRadius = z.looseObject({
  rows: z.int().nullable(),
  tableEstimate: z.number().nullable(),
  share: z.number().nullable(),
  method: z.string(),
  elapsedMs: z.number(),
});

/** execute, and predefined write tools (a hold or a block is an isError result). */
export const executeOutput = z.looseObject({
  decision: z.literal('executed'),
  database: z.string(),
  rowCount: z.int(),
  undoId: z.string().nullable().describe('Pass to revert to undo this write; null when the policy allowed an irreversible write.'),
  blastRadius,
  elapsedMs: z.number(),
});

/** A predefined tool whose statement is read or write: one of the two shapes. */
export const predefinedOutput = (write: boolean): z.ZodType => (write ? executeOutput : queryOutput);

export const explainOutput = z.looseObject({ database: z.string(), masked: z.array(z.string()), plan: z.unknown(), elapsedMs: z.number(), observed });

export const describeOutput = z.looseObject({
  database: z.string(),
  schemas: z.array(z.looseObject({ name: z.string(), description: z.string().optional() })).optional().describe('Without table: the visible schemas.'),
  tables: z.array(z.looseObject({ schema: z.string(), name: z.string(), kind: z.string(), estimatedRows: z.number() })).optional().describe('Without table: the visible tables.'),
  schema: z.string().optional(),
  name: z.string().optional(),
  kind: z.string().optional(),
  columns: z.array(z.looseObject({ name: z.string(), type: z.string(), nullable: z.boolean(), masked: z.boolean() })).optional().describe('With table: its columns.'),
  masked: z.array(z.string()).optional(),
  sample: z.object({ columns: z.array(z.string()), rows: z.array(z.array(z.unknown())) }).optional(),
});

export const checkOutput = z.looseObject({
  database: z.string(),
  decision: z.enum(['allow', 'block', 'hold']),
  kind: z.string(),
  relations: z.array(z.string()),
  functions: z.array(z.string()),
  reasons: z.array(reasonShape),
});

export const revertOutput = z.looseObject({ decision: z.literal('reverted'), database: z.string() });

export const statusOutput = z.looseObject({
  principal: z.string(),
  observe: z.boolean(),
  databases: z.array(z.looseObject({ name: z.string() })),
  pendingApprovals: z.array(z.looseObject({ approvalId: z.string() })),
  server: z.looseObject({ version: z.string() }),
});
