/**
 * The MCP surface through every client we support, over HTTP and stdio: the SDK v2 client in the
 * 2025 era and pinned to 2026-07-28, and the v1 client (@modelcontextprotocol/sdk 1.x). Each one
 * runs a predefined read tool, a predefined write tool that is held and then approved by an
 * operator (admin API; approvals are durable in the database, so a hold made over stdio is
 * approved through the HTTP gateway), a principal given only predefined tools, resources and
 * templates, prompts and completions.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client as ClientV2, StreamableHTTPClientTransport as HttpV2 } from '@modelcontextprotocol/client';
import { StdioClientTransport as StdioV2 } from '@modelcontextprotocol/client/stdio';
import { Client as ClientV1 } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport as HttpV1 } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioClientTransport as StdioV1 } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startE2eGateway, toolOutcome, type E2eGateway } from '../../support/gateway.js';
import { SURFACE_TOKENS, surfaceConfig } from '../../support/surface.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';
import { PGWARDEN_MAIN } from '../../support/cli.js';

const NODE_ARGS = [PGWARDEN_MAIN];

/** What the tests use of a client (v1 and v2 share these method names and shapes). */
interface AnyClient {
  listTools(): Promise<{ tools: { name: string }[] }>;
  callTool(req: { name: string; arguments?: Record<string, unknown> }): Promise<unknown>;
  listResources(): Promise<{ resources: { uri: string }[] }>;
  listResourceTemplates(): Promise<{ resourceTemplates: { uriTemplate: string }[] }>;
  readResource(req: { uri: string }): Promise<{ contents: unknown[] }>;
  listPrompts(): Promise<{ prompts: { name: string }[] }>;
  getPrompt(req: { name: string; arguments?: Record<string, string> }): Promise<{ messages: { content: unknown }[] }>;
  complete(req: { ref: { type: 'ref/resource'; uri: string } | { type: 'ref/prompt'; name: string }; argument: { name: string; value: string }; context?: { arguments?: Record<string, string> } }): Promise<{
    completion: { values: string[] };
  }>;
  close(): Promise<void>;
}

type Kind = 'v2-2025' | 'v2-2026' | 'v1';
type Transport = 'http' | 'stdio';

let w: WriteTestDb;
let gw: E2eGateway;
let configFile: string;
const open: AnyClient[] = [];

beforeAll(async () => {
  w = await setupWriteDb({ ensureSchema: false });
  const dir = mkdtempSync(path.join(tmpdir(), 'pgwarden-clients-'));
  gw = await startE2eGateway({ configInput: (auditPath) => surfaceConfig(w.scratch.gatewayUrl, auditPath, SURFACE_TOKENS) });
  // stdio processes: the same configuration (JSON is YAML), their own audit file
  configFile = path.join(dir, 'pgwarden.yaml');
  writeFileSync(configFile, JSON.stringify(surfaceConfig(w.scratch.gatewayUrl, path.join(dir, 'audit.ndjson'), SURFACE_TOKENS)));
}, 120_000);

afterAll(async () => {
  await Promise.all(open.map((c) => c.close().catch(() => undefined)));
  await gw?.stop();
  await w?.end();
});

function env(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PGWARDEN_') && k !== 'DATABASE_URL') out[k] = v;
  return { ...out, NODE_OPTIONS: '', PGWARDEN_LOG_LEVEL: 'warn' };
}

/** One connection per client kind, transport and principal (a stdio process starts slowly under load). */
const connections = new Map<string, Promise<AnyClient>>();
function connect(kind: Kind, transport: Transport, principal: 'analyst' | 'narrow'): Promise<AnyClient> {
  const key = `${kind}/${transport}/${principal}`;
  let c = connections.get(key);
  if (c === undefined) {
    c = connectNew(kind, transport, principal);
    connections.set(key, c);
  }
  return c;
}

async function connectNew(kind: Kind, transport: Transport, principal: 'analyst' | 'narrow'): Promise<AnyClient> {
  const token = SURFACE_TOKENS[principal];
  const stdio = { command: process.execPath, args: [...NODE_ARGS, 'serve', '--transport', 'stdio', '--config', configFile, '--principal', principal], env: env(), stderr: 'pipe' as const };
  const headers = { authorization: `Bearer ${token}` };
  let client: AnyClient;
  if (kind === 'v1') {
    const c = new ClientV1({ name: 'pgwarden-v1-e2e', version: '0' });
    await c.connect(transport === 'http' ? new HttpV1(gw.mcpUrl, { requestInit: { headers } }) : new StdioV1(stdio));
    client = c as unknown as AnyClient;
  } else {
    const c = new ClientV2({ name: 'pgwarden-v2-e2e', version: '0' }, kind === 'v2-2026' ? { versionNegotiation: { mode: { pin: '2026-07-28' } } } : {});
    await c.connect(transport === 'http' ? new HttpV2(gw.mcpUrl, { requestInit: { headers } }) : new StdioV2(stdio));
    client = c as unknown as AnyClient;
  }
  open.push(client);
  return client;
}

const cases: [Kind, Transport][] = [
  ['v2-2025', 'http'],
  ['v2-2026', 'http'],
  ['v1', 'http'],
  ['v2-2025', 'stdio'],
  ['v2-2026', 'stdio'],
  ['v1', 'stdio'],
];

describe.each(cases)('%s client over %s', (kind, transport) => {
  it('a principal with only predefined tools: read tool, bad argument refusal, write held then approved', async () => {
    const narrow = await connect(kind, transport, 'narrow');
    const names = (await narrow.listTools()).tools.map((t) => t.name).sort();
    expect(names).toEqual(['close_tickets', 'customer_contacts', 'orders_by_status', 'status']);
    const read = toolOutcome(await narrow.callTool({ name: 'orders_by_status', arguments: { status: 'delivered', limit: 2 } }));
    expect(read.isError).toBe(false);
    expect(read.structured.rowCount).toBe(2);
    const bad = toolOutcome(await narrow.callTool({ name: 'orders_by_status', arguments: { status: 'nope' } }));
    expect(bad.isError).toBe(true);
    expect((bad.structured.reasons as { code: string }[])[0]?.code).toBe('INVALID_ARGUMENTS');

    const customer = Number((await w.admin<{ c: string }>('SELECT customer_id::text AS c FROM app.support_tickets WHERE closed_at IS NULL ORDER BY customer_id LIMIT 1'))[0]?.c);
    const openTickets = async (): Promise<number> => Number((await w.admin<{ n: string }>('SELECT count(*)::text AS n FROM app.support_tickets WHERE customer_id = $1 AND closed_at IS NULL', [customer]))[0]?.n);
    expect(await openTickets()).toBeGreaterThan(0);
    const held = toolOutcome(await narrow.callTool({ name: 'close_tickets', arguments: { customer_id: customer } }));
    expect(held.isError).toBe(true);
    expect(held.structured.decision).toBe('hold');
    expect(await openTickets()).toBeGreaterThan(0);
    const res = await fetch(`${gw.url}/admin/approvals/${String(held.structured.approvalId)}/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${SURFACE_TOKENS.operator}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(200);
    expect(await openTickets()).toBe(0);
  }, 120_000);

  it('resources and templates, prompts and completions, as the policy allows', async () => {
    const analyst = await connect(kind, transport, 'analyst');
    const uris = (await analyst.listResources()).resources.map((r) => r.uri);
    expect(uris).toEqual(expect.arrayContaining(['pgwarden://db/shop', 'pgwarden://db/shop/app/orders', 'pgwarden://resource/order_counts']));
    expect(uris.some((u) => u.includes('internal'))).toBe(false);
    expect((await analyst.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate)).toContain('pgwarden://db/{database}/{schema}/{table}');
    const table = await analyst.readResource({ uri: 'pgwarden://db/shop/app/orders' });
    expect(JSON.parse((table.contents[0] as { text: string }).text)).toMatchObject({ schema: 'app', name: 'orders' });
    const counts = await analyst.readResource({ uri: 'pgwarden://resource/order_counts' });
    expect(JSON.parse((counts.contents[0] as { text: string }).text)).toMatchObject({ columns: [{ name: 'status' }, { name: 'n' }] });
    expect((await analyst.listPrompts()).prompts.map((p) => p.name).sort()).toEqual(['answer_question', 'explore_database']);
    const prompt = await analyst.getPrompt({ name: 'explore_database', arguments: { database: 'shop' } });
    expect((prompt.messages[0]?.content as { text: string }).text).toContain('describe');
    const ref = { type: 'ref/resource' as const, uri: 'pgwarden://db/{database}/{schema}/{table}' };
    const tables = (await analyst.complete({ ref, argument: { name: 'table', value: 'orde' }, context: { arguments: { database: 'shop', schema: 'app' } } })).completion.values;
    expect(tables).toContain('orders');
    expect(tables.every((t) => t.startsWith('orde'))).toBe(true);
    const narrow = await connect(kind, transport, 'narrow');
    expect((await narrow.listResources()).resources.map((r) => r.uri)).toEqual(['pgwarden://resource/order_counts']);
    expect((await narrow.complete({ ref: { type: 'ref/prompt', name: 'triage' }, argument: { name: 'priority', value: 'n' } })).completion.values).toEqual(['normal']);
  }, 120_000);
});
