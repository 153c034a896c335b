/**
 * End-to-end support: a real pgwarden (runtime + fastify on 127.0.0.1:0) over the harness
 * PostgreSQL, and real MCP clients (both protocol eras) connected to it with bearer tokens.
 */
import { mkdtempSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import pino from 'pino';
import { parseConfig, type Config } from '../../src/config/index.js';
import { createRuntime, type Runtime } from '../../src/app/runtime.js';
import { startHttp, type RunningHttp } from '../../src/cli/serve.js';
import { testDatabase } from './pg.js';

export const E2E_TOKENS = {
  analyst: 'pgw_analyst_e2e_0123456789abcdefghijklmnopqrstu',
  explainer: 'pgw_explainer_e2e_0123456789abcdefghijklmnopqr',
  observer: 'pgw_observer_e2e_0123456789abcdefghijklmnopqrs',
  restricted: 'pgw_restricted_e2e_0123456789abcdefghijklmnopq',
  reader: 'pgw_reader_e2e_0123456789abcdefghijklmnopqrstuv',
  sleeper: 'pgw_sleeper_e2e_0123456789abcdefghijklmnopqrst',
  masked: 'pgw_masked_e2e_0123456789abcdefghijklmnopqrstu',
} as const;

export type Era = 'legacy' | 'modern';

const analystDb = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  mode: 'read-only',
  schemas: ['app'],
  tables: { deny: ['internal.*'] },
  limits: { max_rows: 50, statement_timeout_ms: 1000 },
  descriptions: { tables: { 'app.orders': 'One row per order.' }, columns: { 'app.orders.status': 'Order lifecycle state.' } },
  ...extra,
});

/** The e2e configuration: several principals exercising modes and switches. */
export function e2eConfigInput(databaseUrl: string, auditPath: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    server: { host: '127.0.0.1', port: 0, drain_timeout_ms: 1500, rate_limit: { per_principal: 100_000, per_ip: 100_000 } },
    log: { level: 'warn' },
    audit: { sink: 'file', path: auditPath, fsync: 'never' },
    masking: { hash_key: 'e2e-hash-key-0123456789abcdef' },
    databases: { shop: { url: databaseUrl, search_path: ['app'], pool: { max: 4 } } },
    principals: {
      analyst: { policy: 'analyst', tokens: [{ id: 'analyst-e2e', token: E2E_TOKENS.analyst }] },
      explainer: { policy: 'explainer', tokens: [{ id: 'explainer-e2e', token: E2E_TOKENS.explainer }] },
      observer: { policy: 'observer', tokens: [{ id: 'observer-e2e', token: E2E_TOKENS.observer }] },
      restricted: { policy: 'restricted', tokens: [{ id: 'restricted-e2e', token: E2E_TOKENS.restricted }] },
      reader: { policy: 'reader', tokens: [{ id: 'reader-e2e', token: E2E_TOKENS.reader }] },
      sleeper: { policy: 'sleeper', tokens: [{ id: 'sleeper-e2e', token: E2E_TOKENS.sleeper }] },
      masked: { policy: 'masked', tokens: [{ id: 'masked-e2e', token: E2E_TOKENS.masked }] },
    },
    policies: {
      analyst: { databases: { shop: analystDb() } },
      explainer: { databases: { shop: analystDb({ mode: 'explain-only' }) } },
      observer: { observe: true, databases: { shop: analystDb() } },
      restricted: { databases: { shop: analystDb({ tools: { explain: false, describe: false } }) } },
      sleeper: { databases: { shop: analystDb({ functions: { allow: ['pg_sleep'] } }) } },
      masked: {
        databases: {
          shop: analystDb({
            masks: {
              'app.customers.email': { mask: 'email' },
              'app.customers.phone': { mask: 'partial', keep_last: 4 },
              'app.customers.ssn': { mask: 'redact' },
              'app.customers.full_name': { mask: 'hash' },
            },
          }),
        },
      },
      reader: { databases: { shop: analystDb({ role: 'pgwarden_reader', tables: { deny: [] }, schemas: ['app', 'internal'] }) } },
    },
    ...overrides,
  };
}

export function buildConfig(input: Record<string, unknown>): Config {
  return parseConfig(input, { source: 'e2e configuration' });
}

export interface E2eGateway {
  url: string;
  mcpUrl: URL;
  runtime: Runtime;
  running: RunningHttp;
  auditPath: string;
  logs: () => string;
  auditRecords: () => Record<string, unknown>[];
  connect: (era: Era, token?: string) => Promise<Client>;
  stop: () => Promise<void>;
}

export async function startE2eGateway(
  options: { databaseUrl?: string; overrides?: Record<string, unknown>; configInput?: (auditPath: string) => Record<string, unknown> } = {},
): Promise<E2eGateway> {
  const pg = testDatabase();
  const dir = mkdtempSync(path.join(tmpdir(), 'pgwarden-e2e-'));
  const auditPath = path.join(dir, 'audit.ndjson');
  const input = options.configInput ? options.configInput(auditPath) : e2eConfigInput(options.databaseUrl ?? pg.gatewayUrl, auditPath, options.overrides);
  const config = buildConfig(input);
  let captured = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      captured += chunk.toString('utf8');
      cb();
    },
  });
  const logger = pino({ level: 'info' }, sink);
  const runtime = await createRuntime(config, logger);
  const running = await startHttp(runtime, config, logger);
  const mcpUrl = new URL(`${running.url}/mcp`);
  const clients: Client[] = [];
  return {
    url: running.url,
    mcpUrl,
    runtime,
    running,
    auditPath,
    logs: () => captured,
    auditRecords: () =>
      existsSync(auditPath)
        ? readFileSync(auditPath, 'utf8')
            .split('\n')
            .filter((l) => l.trim() !== '')
            .map((l) => JSON.parse(l) as Record<string, unknown>)
        : [],
    connect: async (era, token = E2E_TOKENS.analyst) => {
      const client = await connectClient(mcpUrl, era, token);
      clients.push(client);
      return client;
    },
    stop: async () => {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await running.stop('test');
    },
  };
}

export async function connectClient(mcpUrl: URL, era: Era, token: string): Promise<Client> {
  const client = new Client(
    { name: 'pgwarden-e2e', version: '0.0.0' },
    era === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {},
  );
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

export interface ToolCallOutcome {
  isError: boolean;
  structured: Record<string, unknown>;
  text: string;
}

/** A tool result as an outcome: the error flag, the structured content and the text block. */
export function toolOutcome(result: unknown): ToolCallOutcome {
  const res = result as { isError?: boolean; structuredContent?: Record<string, unknown>; content?: { type: string; text?: string }[] };
  return { isError: res.isError === true, structured: res.structuredContent ?? {}, text: res.content?.find((c) => c.type === 'text')?.text ?? '' };
}

/** Call a tool and return its outcome. */
export async function callTool(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolCallOutcome> {
  return toolOutcome(await client.callTool({ name, arguments: args }));
}

/** How an eliciting client answers a form: its message in, the answer out. */
export type ElicitAnswer = (message: string) => { action: 'accept' | 'decline'; content?: Record<string, string | number | boolean | string[]> };

/**
 * A client that declares form elicitation (in-client write confirmation). `autoFulfill: false`
 * leaves input-required results to the test (it retries with requestState itself).
 */
export async function elicitingClient(
  mcpUrl: URL,
  token: string,
  options: { answer: ElicitAnswer; autoFulfill: boolean; era?: Era },
): Promise<Client> {
  const client = new Client(
    { name: 'pgwarden-confirm-e2e', version: '0.0.0' },
    {
      capabilities: { elicitation: { form: {} } },
      ...((options.era ?? 'modern') === 'modern' ? { versionNegotiation: { mode: { pin: '2026-07-28' as const } } } : {}),
      inputRequired: { autoFulfill: options.autoFulfill },
    },
  );
  client.setRequestHandler('elicitation/create', async (request) => options.answer(String((request.params as { message?: unknown }).message)));
  await client.connect(new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

/** The reason codes of a refusal. */
export function codes(out: ToolCallOutcome): string[] {
  const reasons = (out.structured.reasons ?? []) as { code: string }[];
  return reasons.map((r) => r.code);
}
