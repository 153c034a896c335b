/**
 * The stdio tools/call fast path (issue #13): the SDK's stdio transport, with a single
 * well-formed 2025-era `tools/call` line, once the connection is initialized, dispatched straight
 * to the same tool definition and handler as McpServer's (src/mcp/tool-call.ts), and its answer
 * written as the SDK writes it. Everything else goes to `serveStdio` exactly as before.
 *
 * Guarantees:
 * - The SDK stays the authority on the protocol. A line is taken only when the SDK would accept it
 *   unchanged and hand it to McpServer's tools/call handler: the connection opened with a 2025-era
 *   `initialize` (no `_meta`) whose result the SDK sent with a 2025-era protocol version (so the
 *   SDK pinned the legacy era), no second `initialize` since; the line is JSON of exactly
 *   `jsonrpc` "2.0", an `id` that is a string or a safe integer and not in flight on either route,
 *   `method` "tools/call" and `params` with only a string `name` and an optional plain-object
 *   `arguments` (no `_meta`: no progress token, no envelope); the principal has a tool of that
 *   name, and it is not the built-in `execute` (its in-client confirmation needs the SDK's request
 *   context). Anything else — and any line this module is not sure about — is parsed by the SDK's
 *   own `deserializeMessage` and delivered to `serveStdio` as the SDK transport delivers it (lines
 *   that are not JSON skipped, invalid messages reported through `onerror`).
 * - The answer is the bytes of `serializeMessage({ result, jsonrpc, id })` (the payload of a
 *   toResult result serialized once, resultJson), the SDK's bytes: the handler's
 *   result is what McpServer would return unchanged on the 2025 era (tool-call.ts). A cancelled
 *   call (`notifications/cancelled` naming its id) is aborted and not answered, as the SDK does; so
 *   are calls in flight when the transport closes (stdin ended). The cancellation still reaches the
 *   SDK (it ignores ids it does not know). Guard, masking, caps, audit and telemetry are the same
 *   code on both routes. test/integration/e2e/stdio-fast-path.test.ts compares the bytes and the
 *   audit records of both routes.
 * - Answers of calls that finish in the same turn of the event loop share one write to stdout
 *   (flushed on setImmediate, at once when no other fast call is in flight, before any SDK
 *   message, and on close); a large answer is written on its own (no copy into a batch).
 * Does not: serve the 2026-07-28 era, progress, or anything but tools/call; change what the SDK
 * writes. A result that cannot be serialized is reported through `onerror` and not answered (the
 * SDK route reports it to the server's own onerror; neither answers).
 */
import { StdioServerTransport } from '@modelcontextprotocol/server/stdio';
import {
  deserializeMessage,
  isJSONRPCErrorResponse,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isJSONRPCResultResponse,
  STDIO_DEFAULT_MAX_BUFFER_SIZE,
  SUPPORTED_PROTOCOL_VERSIONS,
  type JSONRPCMessage,
} from '@modelcontextprotocol/server';
import type { CallToolResult } from '@modelcontextprotocol/server';
import type { Readable, Writable } from 'node:stream';
import { CancelLatch } from '../core/signals.js';
import { toolCallShapeOf, type ToolCallShape } from '../shared/tool-call-shape.js';
import { resultJson } from './server.js';
import type { DirectToolCaller } from './tool-call.js';

/** One tools/call line the fast path may take (shape checked, connection state not yet). */
export type StdioToolCall = ToolCallShape;
/** The call, when a parsed line has the one shape the fast path takes (src/shared/tool-call-shape.ts); undefined: the SDK serves it. */
export const stdioToolCallOf = toolCallShapeOf;

type RequestId = string | number;

export interface FastStdioOptions {
  /** The principal this stdio session acts as (the one its SDK server was built for). */
  principal: string;
  /** Runs a tools/call without the SDK, or answers undefined (no such tool: the SDK answers). */
  toolCall: DirectToolCaller;
  stdin?: Readable;
  stdout?: Writable;
  maxBufferSize?: number;
}

const LEGACY_VERSIONS = new Set<string>(SUPPORTED_PROTOCOL_VERSIONS);
/** Answers at least this long are written on their own rather than joined into a batch. */
const BATCH_BYTES = 64 * 1024;

/** Where the connection is: the fast path serves only in `ready`. */
type Phase = 'opening' | 'initializing' | 'ready' | 'off';

export class FastStdioTransport extends StdioServerTransport {
  readonly #principal: string;
  readonly #toolCall: DirectToolCaller;
  readonly #stdout: Writable;
  readonly #maxBufferSize: number;
  #partial: Buffer | undefined;
  #phase: Phase = 'opening';
  #initializeId: RequestId | undefined;
  /** Fast calls in flight, by id: their cancellation (the call plumbing's one controller listens to it). */
  readonly #fast = new Map<RequestId, CancelLatch>();
  /** Requests delivered to the SDK and not yet answered or cancelled. */
  readonly #sdk = new Set<RequestId>();
  #batch: string[] = [];
  #batchBytes = 0;
  #flushScheduled = false;
  #closed = false;

  constructor(options: FastStdioOptions) {
    const stdin = options.stdin ?? process.stdin;
    const stdout = options.stdout ?? process.stdout;
    super(stdin, stdout, options.maxBufferSize === undefined ? undefined : { maxBufferSize: options.maxBufferSize });
    this.#principal = options.principal;
    this.#toolCall = options.toolCall;
    this.#stdout = stdout;
    this.#maxBufferSize = options.maxBufferSize ?? STDIO_DEFAULT_MAX_BUFFER_SIZE;
  }

  /** Replaces the SDK's reader (its ReadBuffer): the same line framing, limit and error handling. */
  override _ondata = (chunk: Buffer): void => {
    try {
      this.#read(chunk);
    } catch (error) {
      this.onerror?.(error as Error);
      this.close().catch(() => undefined);
    }
  };

  #read(chunk: Buffer): void {
    const partial = this.#partial;
    if ((partial?.length ?? 0) + chunk.length > this.#maxBufferSize) {
      this.#partial = undefined;
      throw new Error(`ReadBuffer exceeded maximum size of ${this.#maxBufferSize} bytes`);
    }
    const buffer = partial === undefined ? chunk : Buffer.concat([partial, chunk]);
    let start = 0;
    for (let nl = buffer.indexOf(10); nl !== -1; nl = buffer.indexOf(10, start)) {
      const line = buffer.toString('utf8', start, nl);
      start = nl + 1;
      try {
        this.#line(line.endsWith('\r') ? line.slice(0, -1) : line);
      } catch (error) {
        this.onerror?.(error as Error);
      }
    }
    this.#partial = start < buffer.length ? buffer.subarray(start) : undefined;
  }

  #line(line: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      if (error instanceof SyntaxError) return; // the SDK skips a line that is not JSON
      parsed = undefined;
    }
    if (this.#phase === 'ready' && this.#tryFast(parsed)) return;
    let message: JSONRPCMessage;
    try {
      message = deserializeMessage(line);
    } catch (error) {
      if (error instanceof SyntaxError) return;
      throw error;
    }
    this.#inbound(message);
    this.onmessage?.(message);
  }

  #tryFast(parsed: unknown): boolean {
    const call = stdioToolCallOf(parsed);
    if (call === undefined || call.name === 'execute' || this.#fast.has(call.id) || this.#sdk.has(call.id)) return false;
    const cancel = new CancelLatch();
    const answer = this.#toolCall(
      { principal: this.#principal, clientAddress: 'stdio', cancelLatch: cancel },
      { id: call.id, name: call.name, arguments: call.arguments, protocolVersionHeader: undefined },
    );
    if (answer === undefined) return false;
    const id = call.id;
    this.#fast.set(id, cancel);
    void answer.then((result) => {
      if (this.#fast.get(id) === cancel) this.#fast.delete(id);
      if (cancel.raised || this.#closed) return;
      let json: string;
      try {
        json = answerLine(result, id);
      } catch (error) {
        this.onerror?.(new Error(`Failed to send response: ${String(error)}`));
        return;
      }
      this.#enqueue(json);
    });
    return true;
  }

  /** What the SDK is handed: the opening handshake, its requests in flight, cancellations. */
  #inbound(message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message)) {
      if (this.#phase === 'opening' && message.method === 'initialize' && (message.params === undefined || !('_meta' in message.params))) {
        this.#phase = 'initializing';
        this.#initializeId = message.id;
      } else if (this.#phase === 'opening' || message.method === 'initialize') {
        this.#phase = 'off';
      }
      if (this.#phase !== 'off') this.#sdk.add(message.id); // only the fast path reads it
      return;
    }
    if (!isJSONRPCNotification(message)) return;
    if (this.#phase === 'opening') this.#phase = 'off';
    if (message.method !== 'notifications/cancelled') return;
    const params = message.params as { requestId?: RequestId; reason?: string } | undefined;
    const id = params?.requestId;
    if (id === undefined) return;
    // The SDK cancels the latest request with that id; one on the SDK route is always the later.
    if (this.#sdk.delete(id)) return;
    this.#fast.get(id)?.raise(params?.reason);
  }

  override send(message: JSONRPCMessage): Promise<void> {
    if ((isJSONRPCResultResponse(message) || isJSONRPCErrorResponse(message)) && message.id !== undefined) {
      this.#sdk.delete(message.id);
      if (this.#phase === 'initializing' && message.id === this.#initializeId) {
        const version = isJSONRPCResultResponse(message) ? message.result.protocolVersion : undefined;
        this.#phase = typeof version === 'string' && LEGACY_VERSIONS.has(version) ? 'ready' : 'off';
      }
    }
    this.#flush(); // answers produced before this message leave before it
    return super.send(message);
  }

  override async close(): Promise<void> {
    if (!this.#closed) {
      this.#flush();
      this.#closed = true;
      const inflight = [...this.#fast.values()];
      this.#fast.clear();
      for (const cancel of inflight) cancel.raise(new Error('Connection closed'));
    }
    return super.close();
  }

  #enqueue(json: string): void {
    if (json.length >= BATCH_BYTES) {
      this.#flush();
      this.#write(json);
      return;
    }
    this.#batch.push(json);
    this.#batchBytes += json.length;
    // no fast call left in flight: nothing can join the batch in this turn
    if (this.#batchBytes >= BATCH_BYTES || this.#fast.size === 0) this.#flush();
    else if (!this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(this.#onImmediate);
    }
  }

  readonly #onImmediate = (): void => {
    this.#flushScheduled = false;
    this.#flush();
  };

  #flush(): void {
    const batch = this.#batch;
    if (batch.length === 0) return;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#write(batch.length === 1 ? (batch[0] as string) : batch.join(''));
  }

  /** A write failure reaches the SDK's stdout 'error' listener, which closes the transport. */
  #write(text: string): void {
    if (!this.#closed) this.#stdout.write(text);
  }
}

/**
 * `serializeMessage({ result, jsonrpc: '2.0', id })`, with a toResult payload serialized once
 * (resultJson: structuredContent's JSON is the text block's, the HTTP fast path's parts).
 */
function answerLine(result: CallToolResult, id: RequestId): string {
  return `{"result":${resultJson(result).join('')},"jsonrpc":"2.0","id":${JSON.stringify(id)}}\n`;
}
