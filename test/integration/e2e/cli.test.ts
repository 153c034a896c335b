/**
 * The real command line, as a user runs it: stdio serving to a real MCP client (stdout carries
 * only MCP), --dry-run redaction, refusal to start HTTP without tokens, token generation,
 * and SIGTERM shutdown of the HTTP server.
 */
import { spawn, execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it } from 'vitest';
import { testDatabase } from '../../support/pg.js';
import { PGWARDEN_MAIN } from '../../support/cli.js';

const run = promisify(execFile);
const MAIN = PGWARDEN_MAIN;
// Absolute loader path: the CLI runs with a temporary working directory.
const NODE_ARGS = [MAIN];

function workDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'pgwarden-cli-'));
}

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('PGWARDEN_') && k !== 'DATABASE_URL') env[k] = v;
  }
  return { ...env, NODE_OPTIONS: '', ...extra };
}

async function cli(args: string[], env: Record<string, string>, cwd = workDir()): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...NODE_ARGS, ...args], { env: cleanEnv(env), cwd, timeout: 30_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('pgwarden serve --transport stdio', () => {
  it('serves a real MCP client over stdio with nothing but MCP on stdout', async () => {
    const cwd = workDir();
    // No principal configured: stdio serves a local read-only principal over the database.
    const file = path.join(cwd, 'pgwarden.yaml');
    writeFileSync(file, ['databases:', '  main:', '    url: ${DATABASE_URL}', '    search_path: [app]', ''].join('\n'));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...NODE_ARGS, 'serve', '--transport', 'stdio', '--config', file],
      // the stdio audit log defaults to the per-user state directory: keep it in the test's folder
      env: cleanEnv({ DATABASE_URL: testDatabase().gatewayUrl, PGWARDEN_LOG_LEVEL: 'debug', XDG_STATE_HOME: path.join(cwd, 'state') }),
      cwd,
      stderr: 'pipe',
    });
    let stderr = '';
    transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const client = new Client({ name: 'stdio-e2e', version: '0' });
    await client.connect(transport);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name)).toContain('query');
      const res = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT count(*)::int AS n FROM app.orders' } })) as {
        structuredContent?: { rows: unknown[][] };
        isError?: boolean;
      };
      expect(res.isError).not.toBe(true);
      expect(res.structuredContent?.rows).toEqual([[1000]]);
      const refused = (await client.callTool({ name: 'query', arguments: { sql: 'DROP TABLE app.orders' } })) as { isError?: boolean };
      expect(refused.isError).toBe(true);
    } finally {
      await client.close();
    }
    // Logs went to stderr (as JSON lines), never to stdout: the client would have choked on them.
    expect(stderr).toContain('pgwarden');
    expect(stderr).not.toContain(testDatabase().gatewayPassword);
  });
});

describe('pgwarden serve (configuration)', () => {
  it('--dry-run prints the resolved configuration with every secret replaced', async () => {
    const token = 'pgw_dry_run_secret_token_0123456789abcdefgh';
    const { code, stdout } = await cli(['serve', '--dry-run'], { DATABASE_URL: 'postgres://app:S3cretPassw0rd@db.example:5432/app', PGWARDEN_TOKEN: token });
    expect(code).toBe(0);
    expect(stdout).toContain('***');
    expect(stdout).toContain('db.example');
    expect(stdout).not.toContain('S3cretPassw0rd');
    expect(stdout).not.toContain(token);
  });

  it('refuses to start HTTP without a token, saying how to make one', async () => {
    const { code, stderr } = await cli(['serve'], { DATABASE_URL: 'postgres://app@127.0.0.1:1/app' });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/token/i);
  });

  it('refuses a token shorter than 32 characters without echoing it', async () => {
    const { code, stderr } = await cli(['serve'], { DATABASE_URL: 'postgres://app@127.0.0.1:1/app', PGWARDEN_TOKEN: 'short-token-xyz' });
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/32/);
    expect(stderr).not.toContain('short-token-xyz');
  });

  it('reports config errors with their path', async () => {
    const dir = workDir();
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(file, 'server:\n  prot: 1\ndatabases: {}\n');
    const { code, stderr } = await cli(['serve', '--config', file], {});
    expect(code).not.toBe(0);
    expect(stderr).toContain('server');
    expect(stderr).toContain('prot');
  });

  it('token prints a fresh token and its digest', async () => {
    const a = await cli(['token'], {});
    const b = await cli(['token'], {});
    expect(a.code).toBe(0);
    const tok = /^token:\s+(\S+)/m.exec(a.stdout)?.[1];
    expect(tok?.length).toBeGreaterThanOrEqual(32);
    expect(a.stdout).toMatch(/sha256:\s+[0-9a-f]{64}/);
    expect(b.stdout).not.toContain(tok as string);
  });
});

describe('pgwarden check', () => {
  it('prints the decision without running the statement; exit code says allow/refuse', async () => {
    const dir = workDir();
    const file = path.join(dir, 'pgwarden.yaml');
    writeFileSync(
      file,
      [
        'databases:',
        '  shop:',
        `    url: ${testDatabase().gatewayUrl}`,
        '    search_path: [app]',
        'principals:',
        '  analyst: { policy: analyst }',
        'policies:',
        '  analyst:',
        '    databases:',
        '      shop: { mode: read-only, schemas: [app], tables: { deny: ["internal.*"] } }',
        '',
      ].join('\n'),
    );
    const denied = await cli(['check', '--config', file, '--principal', 'analyst', 'SELECT * FROM internal.api_keys'], {});
    expect(denied.code).toBe(2);
    expect(denied.stdout).toMatch(/BLOCK/);
    const allowed = await cli(['check', '--config', file, '--principal', 'analyst', '--json', 'SELECT count(*) FROM orders'], {});
    expect(allowed.code).toBe(0);
    expect(JSON.parse(allowed.stdout)).toMatchObject({ decision: 'allow', relations: ['app.orders'] });
  });
});

/** Start `pgwarden serve --config file` and wait for its listen line. */
async function startServe(file: string, cwd: string): Promise<{ child: ReturnType<typeof spawn>; url: string; stderr: () => string }> {
  const child = spawn(process.execPath, [...NODE_ARGS, 'serve', '--config', file], { env: cleanEnv({ PGWARDEN_LOG_LEVEL: 'info' }), cwd });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no listen line: ${err}`)), 20_000);
    child.stderr?.on('data', () => {
      const m = /"endpoint":"(http:\/\/127\.0\.0\.1:\d+)\/mcp"/.exec(err);
      if (m) {
        clearTimeout(t);
        resolve(m[1] as string);
      }
    });
  });
  return { child, url, stderr: () => err };
}

async function queryOver(url: string, token: string, sql: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`${url}/mcp`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
    body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'query', arguments: { sql } } }),
  });
  return { status: res.status, body: await res.text() };
}

describe('SIGHUP', () => {
  it('reloads principals, tokens and policies without a restart; a broken file is refused', async () => {
    const dir = workDir();
    const file = path.join(dir, 'pgwarden.yaml');
    const oldToken = 'pgw_reload_old_0123456789abcdefghijklmnopqr';
    const newToken = 'pgw_reload_new_0123456789abcdefghijklmnopqr';
    const config = (tokens: string[], deny: string[]): string =>
      [
        'server: { host: 127.0.0.1, port: 0 }',
        'audit: { sink: none }',
        'databases:',
        '  shop:',
        `    url: ${testDatabase().gatewayUrl}`,
        '    search_path: [app]',
        'principals:',
        `  analyst: { policy: analyst, tokens: [${tokens.map((t) => `{ token: ${t} }`).join(', ')}] }`,
        'policies:',
        '  analyst:',
        '    databases:',
        `      shop: { mode: read-only, schemas: [app], tables: { deny: [${deny.map((d) => `"${d}"`).join(', ')}] } }`,
        '',
      ].join('\n');
    writeFileSync(file, config([oldToken], ['internal.*']));
    const { child, url, stderr } = await startServe(file, dir);
    try {
      expect((await queryOver(url, oldToken, 'SELECT count(*) FROM app.products')).body).not.toContain('"isError":true');
      expect((await queryOver(url, newToken, 'SELECT 1')).status).toBe(401);

      writeFileSync(file, config([newToken], ['internal.*', 'app.products']));
      child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 1500));
      expect(stderr()).toContain('configuration reloaded');
      expect((await queryOver(url, oldToken, 'SELECT 1')).status).toBe(401);
      const denied = await queryOver(url, newToken, 'SELECT count(*) FROM app.products');
      expect(denied.body).toContain('DENIED_TABLE');

      writeFileSync(file, 'principals: [this is not valid\n');
      child.kill('SIGHUP');
      await new Promise((r) => setTimeout(r, 1500));
      expect(stderr()).toContain('configuration reload refused');
      expect((await queryOver(url, newToken, 'SELECT count(*) FROM app.orders')).body).not.toContain('"isError":true');
    } finally {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
  });
});

describe('SIGTERM', () => {
  it('drains: readiness goes 503, a long query is cancelled within budget, exit 0', async () => {
    const dir = workDir();
    const token = 'pgw_sigterm_e2e_0123456789abcdefghijklmnopq';
    const file = path.join(dir, 'pgwarden.yaml');
    writeFileSync(
      file,
      [
        'server: { host: 127.0.0.1, port: 0, drain_timeout_ms: 500 }',
        'audit: { sink: none }',
        'databases:',
        '  shop:',
        `    url: ${testDatabase().gatewayUrl}`,
        '    search_path: [app]',
        '    limits: { statement_timeout_ms: 30000 }',
        'principals:',
        `  analyst: { policy: analyst, tokens: [{ token: ${token} }] }`,
        'policies:',
        '  analyst:',
        '    databases:',
        '      shop: { mode: read-only, schemas: [app], functions: { allow: [pg_sleep] } }',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [...NODE_ARGS, 'serve', '--config', file], { env: cleanEnv({ PGWARDEN_LOG_LEVEL: 'info' }), cwd: dir });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listen line: ${err}`)), 20_000);
      child.stderr.on('data', () => {
        const m = /"endpoint":"(http:\/\/127\.0\.0\.1:\d+)\/mcp"/.exec(err);
        if (m) {
          clearTimeout(t);
          resolve(m[1] as string);
        }
      });
    });
    const { Client: C, StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
    const client = new C({ name: 'sigterm', version: '0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    const call = client.callTool({ name: 'query', arguments: { sql: 'SELECT pg_sleep(20)' } }).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 400));
    const started = Date.now();
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const ready = await fetch(`${url}/readyz`).then((r) => r.status).catch(() => 'closed');
    expect([503, 'closed']).toContain(ready);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(8_000);
    await call;
    await client.close().catch(() => undefined);
  });
});

describe('pgwarden demo', () => {
  it('serves the seeded shop with masks, and a terminal Ctrl-C (SIGINT to the whole group, repeated) removes everything', async () => {
    const dir = workDir();
    const dataDir = path.join(dir, 'demo-data');
    const child = spawn(process.execPath, [...NODE_ARGS, 'demo', '--port', '0', '--data-dir', dataDir], {
      env: cleanEnv({}),
      cwd: dir,
      detached: true, // its own process group, like a terminal job
    });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no banner: ${out} ${err}`)), 50_000);
      child.stdout?.on('data', () => {
        const m = /MCP endpoint\s+(http:\/\/127\.0\.0\.1:\d+\/mcp)/.exec(out);
        if (m && out.includes('Press Ctrl-C')) {
          clearTimeout(t);
          resolve(m[1] as string);
        }
      });
    });
    const token = /Bearer token\s+(\S+)/.exec(out)?.[1] as string;
    const res = await fetch(url, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'query', arguments: { sql: 'SELECT email FROM app.customers WHERE id = 1' } } }),
    });
    const body = await res.text();
    expect(body).toContain('***@mail.test');
    expect(body).not.toContain('customer0001');
    // Ctrl-C: the terminal signals the whole process group; wrappers relay it again.
    process.kill(-(child.pid as number), 'SIGINT');
    process.kill(-(child.pid as number), 'SIGINT');
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(code, err).toBe(0);
    const { existsSync } = await import('node:fs');
    expect(existsSync(dataDir)).toBe(false);
  }, 90_000);
});
