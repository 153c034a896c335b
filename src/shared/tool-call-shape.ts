/**
 * The one JSON-RPC message shape both tools/call fast paths take (issue #13): the HTTP route's
 * (src/http/fast-call.ts, which adds the SDK's header and era checks) and the stdio transport's
 * (src/mcp/stdio.ts, which adds the connection's state). One check, so the two paths cannot drift.
 *
 * Guarantees: a message is taken only if it is a plain object with exactly the members `jsonrpc`
 * "2.0", an `id` that is a string or a safe integer, `method` "tools/call" and `params`, a plain
 * object holding only a string `name` and an optional plain-object `arguments` without an own
 * `__proto__` member — a subset of what the SDK's request schemas accept unchanged. No `_meta`
 * (no progress token, no envelope), no batch. Anything else is undefined: the SDK serves it.
 */

export interface ToolCallShape {
  id: string | number;
  name: string;
  arguments: Record<string, unknown> | undefined;
}

const REQUEST_KEYS = new Set(['jsonrpc', 'id', 'method', 'params']);
const PARAMS_KEYS = new Set(['name', 'arguments']);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function onlyKeys(value: Record<string, unknown>, allowed: Set<string>): boolean {
  for (const key in value) if (!allowed.has(key)) return false;
  return true;
}

/** The call, when a parsed message has the one shape the fast paths take; undefined: the SDK serves it. */
export function toolCallShapeOf(message: unknown): ToolCallShape | undefined {
  if (!isPlainObject(message) || !onlyKeys(message, REQUEST_KEYS)) return undefined;
  if (message.jsonrpc !== '2.0' || message.method !== 'tools/call') return undefined;
  const id = message.id;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isSafeInteger(id))) return undefined;
  const params = message.params;
  if (!isPlainObject(params) || !onlyKeys(params, PARAMS_KEYS) || typeof params.name !== 'string') return undefined;
  const args = params.arguments;
  if (args !== undefined && (!isPlainObject(args) || Object.hasOwn(args, '__proto__'))) return undefined;
  return { id, name: params.name, arguments: args };
}
