/**
 * tools/call without an McpServer: what the HTTP fast path (src/http/mcp-route.ts) dispatches a
 * single 2025-era tools/call to, instead of building a server per request and converting the
 * request to a web Request (issue #13).
 *
 * Guarantees: the same tool definitions as the SDK route (`toolDefinitions`, the list buildServer
 * registers for this principal: a tool the principal does not have is not found here either, and
 * the caller falls back to the SDK, which answers "Tool … not found" exactly as before); the same
 * handler (argument validation with the same zod schema, the same INVALID_ARGUMENTS refusal, the
 * same core call, guard, masking, caps, audit and telemetry); the same result object, which the
 * SDK would return unchanged on the 2025 era (structuredContent is always an object and every
 * advertised output schema has an object root, so the codec's projection is the identity); an
 * exception from the handler becomes the SDK's tool error (`isError`, the message as text), as
 * McpServer's tools/call handler does. test/integration/e2e/fast-path.test.ts compares the bytes.
 * Does not: serve the 2026-07-28 era (envelopes, request state, input-required results) or
 * anything but tools/call; the caller routes those to the SDK.
 */
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { Gateway } from '../core/gateway.js';
import { boundedProtocolVersion, resultJson, toolCallContext, toolDefinitions, type CallerInfo } from './server.js';

/** One tools/call as the HTTP layer read it (a JSON-RPC request whose params are only name/arguments). */
export interface DirectToolCall {
  id: string | number;
  name: string;
  arguments: Record<string, unknown> | undefined;
  /** The MCP-Protocol-Version header, if any (for spans and audit, bounded here). */
  protocolVersionHeader: string | undefined;
}

/**
 * Run the call, or undefined when the principal has no tool of that name (the SDK then answers).
 * The call's cancellation on this path: `caller.signal` (HTTP: the request's) or
 * `caller.cancelLatch` (stdio: notifications/cancelled, stdin closed).
 */
export type DirectToolCaller = (caller: CallerInfo, call: DirectToolCall) => Promise<CallToolResult> | undefined;

export function directToolCaller(gateway: Gateway): DirectToolCaller {
  return (caller, call) => {
    const def = toolDefinitions(gateway, caller.principal).find((d) => d.name === call.name);
    if (def === undefined) return undefined;
    const ctx = toolCallContext(caller, { signal: caller.signal, jsonrpcId: call.id, protocolVersion: boundedProtocolVersion(call.protocolVersionHeader) });
    // McpServer passes `arguments ?? {}` through the (pass-through) advertised input schema.
    return def.handle(ctx, call.arguments ?? {}).then(
      (result) => result as CallToolResult,
      (err: unknown) => toolError(err instanceof Error ? err.message : String(err)),
    );
  };
}

/** The HTTP fast path's caller: directToolCaller with the result as JSON parts (resultJson: the payload serialized once). */
export function directToolCallerJson(gateway: Gateway): (caller: CallerInfo, call: DirectToolCall) => Promise<readonly string[]> | undefined {
  const direct = directToolCaller(gateway);
  return (caller, call) => direct(caller, call)?.then(resultJson);
}

/** McpServer's createToolError. */
function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}
