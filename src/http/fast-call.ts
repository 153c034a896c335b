/**
 * Which POST /mcp requests take the tools/call fast path (issue #13): a single 2025-era
 * `tools/call` request that the SDK's stateless JSON leg would accept and hand to McpServer's
 * tools/call handler unchanged. Everything else — and anything this module is not sure about —
 * goes to the SDK, which stays the authority on the protocol.
 *
 * Guarantees: a request is taken only when every check the SDK's legacy leg would run passes in
 * the same way (an Accept header naming application/json and text/event-stream, a JSON content
 * type, the era classification by the SDK's own `classifyInboundRequest` = legacy, an
 * MCP-Protocol-Version header absent or one of the SDK's supported versions, a JSON-RPC request
 * object with exactly the members jsonrpc "2.0", an id that is a string or a safe integer,
 * method "tools/call", and params holding only a string `name` and an optional plain-object
 * `arguments`). No Mcp-Method / Mcp-Name header, no `_meta`, no request state, no batch. The
 * checks are a subset of what the SDK accepts, so a request that fails one is answered by the SDK
 * exactly as before.
 * Does not: authenticate, limit or parse (fastify's hooks did that before the route runs).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { classifyInboundRequest, isJsonContentType, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import type { FastToolCallRequest } from './types.js';

const SUPPORTED = new Set<string>(SUPPORTED_PROTOCOL_VERSIONS);
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

/** The headers the SDK's legacy leg checks, as it checks them; false sends the request to the SDK. */
function headersFit(headers: IncomingHttpHeaders): boolean {
  const accept = headers.accept;
  if (typeof accept !== 'string' || !accept.includes('application/json') || !accept.includes('text/event-stream')) return false;
  const contentType = headers['content-type'];
  if (typeof contentType !== 'string' || !isJsonContentType(contentType)) return false;
  const version = headers['mcp-protocol-version'];
  if (version !== undefined && (typeof version !== 'string' || !SUPPORTED.has(version))) return false;
  return headers['mcp-method'] === undefined && headers['mcp-name'] === undefined;
}

/** The call, when this request takes the fast path; undefined: the SDK serves it. */
export function fastToolCallOf(headers: IncomingHttpHeaders, body: unknown): FastToolCallRequest | undefined {
  if (!isPlainObject(body) || !onlyKeys(body, REQUEST_KEYS)) return undefined;
  if (body.jsonrpc !== '2.0' || body.method !== 'tools/call') return undefined;
  const id = body.id;
  if (typeof id !== 'string' && !(typeof id === 'number' && Number.isSafeInteger(id))) return undefined;
  const params = body.params;
  if (!isPlainObject(params) || !onlyKeys(params, PARAMS_KEYS) || typeof params.name !== 'string') return undefined;
  const args = params.arguments;
  if (args !== undefined && !isPlainObject(args)) return undefined;
  if (!headersFit(headers)) return undefined;
  const protocolVersionHeader = headers['mcp-protocol-version'] as string | undefined;
  const route = classifyInboundRequest({ httpMethod: 'POST', body, ...(protocolVersionHeader === undefined ? {} : { protocolVersionHeader }) });
  if (route.kind !== 'legacy') return undefined;
  return { id, name: params.name, arguments: args, protocolVersionHeader };
}
