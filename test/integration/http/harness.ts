/**
 * Test harness for the HTTP layer: a real fastify app on 127.0.0.1 with the real TokenStore,
 * a small MCP server factory (echo, slow), and pino output captured in memory.
 */
import { request as httpRequest } from 'node:http';
import { Writable } from 'node:stream';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { McpServer } from '@modelcontextprotocol/server';
import pino from 'pino';
import { z } from 'zod';
import { TokenStore } from '../../../src/auth/tokens.js';
import { serverSchema, type PrincipalConfig, type ServerConfig } from '../../../src/config/schema.js';
import { buildHttpApp } from '../../../src/http/app.js';
import { httpRequestContext, callSignal } from '../../../src/http/context.js';
import { startHttpServer, type HttpServerHandle } from '../../../src/http/server.js';
import type { AuthFailureInfo, BuildHttpAppOptions } from '../../../src/http/types.js';
import { sharedJsonSchemaValidator } from '../../../src/mcp/validator.js';

export const TOKENS = {
  alice: 'pgw_alice_0123456789abcdefghijklmnopqrstuvwxyz',
  bob: 'pgw_bob_0123456789abcdefghijklmnopqrstuvwxyzAB',
  expired: 'pgw_expired_0123456789abcdefghijklmnopqrstuvw',
} as const;

const principals: Record<string, PrincipalConfig> = {
  alice: { policy: 'default', tokens: [{ id: 'alice-laptop', token: TOKENS.alice }] },
  bob: { policy: 'default', tokens: [{ id: 'bob-ci', token: TOKENS.bob }] },
  carol: { policy: 'default', tokens: [{ id: 'carol-old', token: TOKENS.expired, expires_at: '2020-01-01T00:00:00Z' }] },
};

/** Hooks the slow tool reports to, so tests can synchronise with it. */
export interface SlowProbe {
  started: number;
  finished: { aborted: boolean; reason?: string }[];
  onStart?: () => void;
}

export function testFactory(slow: SlowProbe): BuildHttpAppOptions['mcpFactory'] {
  return (ctx) => {
    const server = new McpServer({ name: 'pgwarden-test', version: '0.0.0' }, { jsonSchemaValidator: sharedJsonSchemaValidator });
    server.registerTool(
      'echo',
      { description: 'Echo the text and who is asking', inputSchema: z.object({ text: z.string() }) },
      async ({ text }, c) => {
        const http = httpRequestContext(c.http?.authInfo);
        const seen = {
          text,
          era: ctx.era,
          principal: http?.principal,
          tokenId: http?.tokenId,
          requestId: http?.requestId,
          authToken: c.http?.authInfo?.token,
          clientId: c.http?.authInfo?.clientId,
          factoryPrincipal: httpRequestContext(ctx.authInfo)?.principal,
          hasSignal: http?.signal instanceof AbortSignal,
        };
        return { content: [{ type: 'text', text: JSON.stringify(seen) }], structuredContent: seen };
      },
    );
    server.registerTool(
      'slow',
      {
        description: 'Wait ms milliseconds or until cancelled (unless stubborn)',
        inputSchema: z.object({ ms: z.number(), stubborn: z.boolean().optional() }),
      },
      async ({ ms, stubborn }, c) => {
        const signal = stubborn === true ? undefined : callSignal(c.http?.authInfo, c.mcpReq.signal);
        slow.started += 1;
        slow.onStart?.();
        const outcome = await new Promise<{ aborted: boolean; reason?: string }>((resolve) => {
          const timer = setTimeout(() => resolve({ aborted: false }), ms);
          timer.unref();
          signal?.addEventListener(
            'abort',
            () => {
              clearTimeout(timer);
              const r: unknown = signal.reason;
              resolve({ aborted: true, reason: (r as { reason?: string } | undefined)?.reason ?? String(r) });
            },
            { once: true },
          );
        });
        slow.finished.push(outcome);
        return { content: [{ type: 'text', text: JSON.stringify(outcome) }], isError: outcome.aborted };
      },
    );
    return server;
  };
}

export interface TestServer {
  handle: HttpServerHandle;
  url: string;
  mcpUrl: URL;
  logs: () => string;
  authFailures: AuthFailureInfo[];
  slow: SlowProbe;
  ready: { value: boolean };
  close: () => Promise<void>;
}

export async function startTestServer(overrides: Partial<Record<keyof ServerConfig, unknown>> = {}): Promise<TestServer> {
  const server = serverSchema.parse({ host: '127.0.0.1', port: 0, ...overrides });
  let captured = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      captured += chunk.toString('utf8');
      cb();
    },
  });
  const logger = pino({ level: 'debug' }, sink);
  const authFailures: AuthFailureInfo[] = [];
  const slow: SlowProbe = { started: 0, finished: [] };
  const ready = { value: true };
  const app = await buildHttpApp({
    server,
    authenticator: new TokenStore({ principals }),
    mcpFactory: testFactory(slow),
    readiness: async () => ready.value,
    logger,
    onAuthFailure: (info) => authFailures.push(info),
  });
  const handle = await startHttpServer(app, server);
  return {
    handle,
    url: handle.url,
    mcpUrl: new URL(`${handle.url}/mcp`),
    logs: () => captured,
    authFailures,
    slow,
    ready,
    close: async () => {
      await handle.stop({ drainTimeoutMs: 100, cancelGraceMs: 100 });
    },
  };
}

export type Era = 'legacy' | 'modern';

export async function connectClient(mcpUrl: URL, era: Era, token: string = TOKENS.alice): Promise<Client> {
  const client = new Client(
    { name: 'pgwarden-http-test', version: '0.0.0' },
    era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

export const MCP_ACCEPT = 'application/json, text/event-stream';

/** POST a raw JSON-RPC body (2025-era wire format unless headers say otherwise). */
export async function postMcp(
  mcpUrl: URL,
  body: unknown,
  opts: { token?: string | null; headers?: Record<string, string>; raw?: string; signal?: AbortSignal } = {},
): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: MCP_ACCEPT, ...opts.headers };
  const token = opts.token === undefined ? TOKENS.alice : opts.token;
  if (token !== null) headers.authorization = `Bearer ${token}`;
  return fetch(mcpUrl, { method: 'POST', headers, body: opts.raw ?? JSON.stringify(body), ...(opts.signal ? { signal: opts.signal } : {}) });
}

/** Parse a JSON or single-event SSE response body into its JSON-RPC message. */
export async function rpcJson(res: Response): Promise<Record<string, unknown>> {
  const text = await res.text();
  if ((res.headers.get('content-type') ?? '').includes('text/event-stream')) {
    const data = text
      .split('\n')
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trim())
      .filter((l) => l !== '');
    return JSON.parse(data[data.length - 1] ?? 'null') as Record<string, unknown>;
  }
  return JSON.parse(text) as Record<string, unknown>;
}

/** A request through node:http, so Host can be set freely (fetch forbids it). */
export function rawRequest(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string },
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
