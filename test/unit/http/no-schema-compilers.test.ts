/**
 * The HTTP app declares no fastify route schemas, so it does not load fastify's default schema
 * compilers (@fastify/ajv-compiler, fast-json-stringify) at start (issue #13: start-up, idle RSS);
 * a route that declares a schema fails to register instead of going unvalidated. Checked on the
 * module tree (src/, through tsx) and on the command as it ships (the esbuild bundle, where those
 * packages sit inside fastify's chunk: there, V8's coverage call counts of their CommonJS wrappers
 * say whether they were evaluated).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { NO_SCHEMA_CONTROLLER } from '../../../src/http/app.js';
import { PGWARDEN_MAIN } from '../../support/cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

describe('fastify without schema compilers', () => {
  it('a built HTTP app has not loaded @fastify/ajv-compiler or fast-json-stringify', () => {
    const url = (rel: string): string => pathToFileURL(path.join(ROOT, rel)).href;
    const script = `
      import { createRequire } from 'node:module';
      import pino from 'pino';
      const { buildHttpApp } = await import(${JSON.stringify(url('src/http/app.ts'))});
      const { serverSchema } = await import(${JSON.stringify(url('src/config/schema.ts'))});
      const app = await buildHttpApp({
        server: serverSchema.parse({ host: '127.0.0.1', port: 0 }),
        authenticator: { authenticate: () => ({ ok: false, reason: 'missing' }) },
        mcpFactory: () => { throw new Error('not called'); },
        readiness: async () => true,
        logger: pino({ level: 'silent' }),
      });
      const res = await app.inject({ method: 'GET', url: '/health' });
      const loaded = Object.keys(createRequire(import.meta.url).cache).filter((k) => (k.includes('@fastify/ajv-compiler') || k.includes('fast-json-stringify-compiler') || k.endsWith('fast-json-stringify/index.js')));
      console.log(JSON.stringify({ status: res.statusCode, loaded }));
      await app.close();
    `;
    const run = spawnSync(process.execPath, ['--import', url('node_modules/tsx/dist/loader.mjs'), '--input-type=module', '-e', script], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}')).toEqual({ status: 200, loaded: [] });
  });

  it('the bundle serving HTTP (probe, fast-path call, initialize) never evaluates the schema compilers it carries', async () => {
    const coverage = mkdtempSync(path.join(tmpdir(), 'pgwarden-no-compilers-'));
    try {
      const port = await new Promise<number>((resolve) => {
        const srv = createServer().listen(0, '127.0.0.1', () => {
          const { port: p } = srv.address() as { port: number };
          srv.close(() => resolve(p));
        });
      });
      const token = 'no-schema-compilers-test-token-0123456789abcdef';
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PGWARDEN_') && k !== 'DATABASE_URL' && k !== 'NODE_OPTIONS') env[k] = v;
      // a database that refuses connections: the HTTP app starts and answers without it
      Object.assign(env, { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db', PGWARDEN_TOKEN: token, PGWARDEN_LOG_LEVEL: 'info', NODE_V8_COVERAGE: coverage });
      const child = spawn(process.execPath, [PGWARDEN_MAIN, 'serve', '--transport', 'http', '--port', String(port)], { cwd: ROOT, env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          if (/pgwarden listening/.test(stderr)) resolve();
        });
        void exited.then(() => reject(new Error(`exited before listening: ${stderr}`)));
      });
      const base = `http://127.0.0.1:${port}`;
      const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' };
      expect((await fetch(`${base}/health`)).status).toBe(200);
      const call = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'query', arguments: { sql: 'SELECT 1' } } };
      expect(await (await fetch(`${base}/mcp`, { method: 'POST', headers, body: JSON.stringify(call) })).text()).toContain('"id":1');
      const init = { jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'no-compilers', version: '0' } } };
      expect(await (await fetch(`${base}/mcp`, { method: 'POST', headers, body: JSON.stringify(init) })).text()).toContain('"serverInfo"');
      child.kill('SIGTERM');
      expect(await exited, stderr).toBe(0);
      // every function V8 saw in the bundle's files, with its call count
      const counts = new Map<string, number>();
      for (const f of readdirSync(coverage).filter((n) => n.endsWith('.json'))) {
        const { result } = JSON.parse(readFileSync(path.join(coverage, f), 'utf8')) as { result: { url: string; functions: { functionName: string; ranges: { count: number }[] }[] }[] };
        for (const script of result.filter((r) => r.url.startsWith(pathToFileURL(path.dirname(PGWARDEN_MAIN)).href)))
          for (const fn of script.functions) counts.set(fn.functionName, (counts.get(fn.functionName) ?? 0) + (fn.ranges[0]?.count ?? 0));
      }
      const ran = (re: RegExp): string[] => [...counts].filter(([name, n]) => re.test(name) && n > 0).map(([name]) => name);
      // the method sees esbuild's CommonJS wrappers, and fastify's ran (the schema compilers are in its chunk)
      expect(counts.has('node_modules/@fastify/ajv-compiler/index.js')).toBe(true);
      expect(ran(/^node_modules\/fastify\/lib\/schema-controller\.js$/)).toHaveLength(1);
      // the compilers (fastify's precompiled error serializer does use fast-json-stringify/lib/serializer.js, not the compiler)
      expect(ran(/^node_modules\/(@fastify\/ajv-compiler\/|@fastify\/fast-json-stringify-compiler\/|fast-json-stringify\/index\.js$|ajv\/dist\/compile\/)/)).toEqual([]);
    } finally {
      rmSync(coverage, { recursive: true, force: true });
    }
  }, 60_000);

  it('a route declaring a schema fails to register, not silently unvalidated', async () => {
    for (const schema of [{ body: { type: 'object' } }, { response: { 200: { type: 'object' } } }]) {
      const app = Fastify({ schemaController: NO_SCHEMA_CONTROLLER });
      app.post('/x', { schema }, async () => ({}));
      await expect(app.ready()).rejects.toThrow(/declare no fastify schemas/);
    }
  });
});
