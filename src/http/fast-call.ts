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
 * `arguments` — the shape check shared with the stdio fast path, src/shared/tool-call-shape.ts). No Mcp-Method / Mcp-Name header, no `_meta`, no request state, no batch. The
 * checks are a subset of what the SDK accepts, so a request that fails one is answered by the SDK
 * exactly as before.
 * The era classifier runs once per shape, not per request (issue #13: its zod passes, two of them
 * failing on every request body, were ≈ 8 KB of garbage per call): for a body that passed the
 * checks above its answer depends only on the MCP-Protocol-Version header, the id's type and
 * whether `arguments` is present — the SDK's JSON-RPC request schema is strict on exactly these
 * four members, accepts every string and every integer id, and types nothing in params but
 * `_meta`, which these bodies lack. So the classifier is asked about a canonical body of the
 * same shape (a string id, or an id 0), and its answer kept for that shape; an id outside
 * 0…2^31−1 is classified as it is, per request.
 * Does not: authenticate, limit or parse (fastify's hooks did that before the route runs).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { classifyInboundRequest, isJsonContentType, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/server';
import { toolCallShapeOf } from '../shared/tool-call-shape.js';
import type { FastToolCallRequest } from './types.js';

const SUPPORTED = new Set<string>(SUPPORTED_PROTOCOL_VERSIONS);
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

/** The SDK classifier's verdict per canonical shape (header version × id type × arguments present): at most 2 × 2 × (versions + 1) entries. */
const legacyByShape = new Map<string, boolean>();

/** Whether the SDK's own classifier routes this body (already narrowed by fastToolCallOf) to the 2025-era leg. */
function classifiedLegacy(body: Record<string, unknown>, id: string | number, hasArguments: boolean, protocolVersionHeader: string | undefined): boolean {
  const classify = (b: unknown): boolean =>
    classifyInboundRequest({ httpMethod: 'POST', body: b, ...(protocolVersionHeader === undefined ? {} : { protocolVersionHeader }) }).kind === 'legacy';
  const canonicalId = typeof id === 'string' ? '' : Number.isInteger(id) && id >= 0 && id < 2 ** 31 && !Object.is(id, -0) ? 0 : undefined;
  if (canonicalId === undefined) return classify(body);
  const key = `${protocolVersionHeader ?? ''}|${typeof id}|${String(hasArguments)}`;
  let legacy = legacyByShape.get(key);
  if (legacy === undefined) {
    legacy = classify({ jsonrpc: '2.0', id: canonicalId, method: 'tools/call', params: { name: 'x', ...(hasArguments ? { arguments: {} } : {}) } });
    legacyByShape.set(key, legacy);
  }
  return legacy;
}

/** The call, when this request takes the fast path; undefined: the SDK serves it. */
export function fastToolCallOf(headers: IncomingHttpHeaders, body: unknown): FastToolCallRequest | undefined {
  const call = toolCallShapeOf(body);
  if (call === undefined || !headersFit(headers)) return undefined;
  const protocolVersionHeader = headers['mcp-protocol-version'] as string | undefined;
  if (!classifiedLegacy(body as Record<string, unknown>, call.id, call.arguments !== undefined, protocolVersionHeader)) return undefined;
  return { ...call, protocolVersionHeader };
}
