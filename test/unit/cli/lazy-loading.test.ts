/**
 * What each command loads (issue #13, start-up): a stdio start must not load the HTTP server
 * (fastify, its rate limiter, the SDK's Node adapter) and, with a configuration from the
 * environment alone, not the YAML parser; `pgwarden --version` and `--help` must not load the
 * gateway (the guard, zod, the parser); a stdio start loads neither Node's undici nor the
 * deparser. Each case runs the real command as it ships — the production bundle, `node
 * dist/cli/main.js` (built by the suite's global setup) — in a child process with a loader hook
 * recording every module loaded (test/support/record-modules.mjs). A bundle file that was loaded
 * stands for every source esbuild put into it (dist/bundle-meta.json, the build's metafile), so the
 * patterns below name sources (src/…, node_modules/…) and a chunk that mixes what a start must not
 * load with what it needs fails the test as a direct import would.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { PGWARDEN_MAIN } from '../../support/cli.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const dir = mkdtempSync(path.join(tmpdir(), 'pgwarden-lazy-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Metafile {
  outputs: Record<string, { bytes: number; inputs: Record<string, unknown> }>;
}
const META = JSON.parse(readFileSync(path.join(ROOT, 'dist/bundle-meta.json'), 'utf8')) as Metafile;

/** A loaded file of the bundle, followed by the sources it holds (file URLs under ROOT); any other URL as it is. */
function expand(url: string): string[] {
  const out = url.startsWith('file://') ? META.outputs[path.relative(ROOT, fileURLToPath(url)).split(path.sep).join('/')] : undefined;
  if (out === undefined) return [url];
  return [url, ...Object.keys(out.inputs).map((input) => pathToFileURL(path.join(ROOT, input)).href)];
}

/** The recorded modules of a run (a file of URLs, one a line) with the bundle's files expanded. */
function readModules(file: string): string[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .flatMap(expand);
}

/** The bytes of bundle code a run loaded (the bundle's own files, not external packages). */
function bundleBytes(run: Run): number {
  let bytes = 0;
  for (const u of new Set(run.modules)) {
    if (!u.startsWith('file://')) continue;
    bytes += META.outputs[path.relative(ROOT, fileURLToPath(u)).split(path.sep).join('/')]?.bytes ?? 0;
  }
  return bytes;
}

let runs = 0;
interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  modules: string[];
}

/**
 * Run `pgwarden <args>` (the bundle) with the module recorder; `input` is written to stdin, then stdin
 * is closed when `closeWhen` matches stdout. `whenStderr`: once stderr matches, `act` runs and the
 * process gets SIGTERM after it.
 */
function pgwarden(
  args: string[],
  env: Record<string, string>,
  input?: { text: string; closeWhen: RegExp },
  serving?: { whenStderr: RegExp; act: () => Promise<void> },
): Promise<Run> {
  const file = path.join(dir, `modules-${++runs}.txt`);
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PGWARDEN_') && k !== 'DATABASE_URL') base[k] = v;
  const child = spawn(
    process.execPath,
    ['--import', pathToFileURL(path.join(ROOT, 'test/support/record-modules.mjs')).href, PGWARDEN_MAIN, ...args],
    { cwd: ROOT, env: { ...base, NODE_OPTIONS: '', PGWARDEN_TEST_MODULES_FILE: file, ...env }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (input !== undefined && input.closeWhen.test(stdout)) child.stdin.end();
  });
  let acting = false;
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (serving !== undefined && !acting && serving.whenStderr.test(stderr)) {
      acting = true;
      serving.act().finally(() => child.kill('SIGTERM'));
    }
  });
  if (input === undefined) child.stdin.end();
  else child.stdin.write(input.text);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      let modules: string[] = [];
      try {
        modules = readModules(file);
      } catch {
        // no module recorded: the assertions on `modules` say so
      }
      resolve({ code, stdout, stderr, modules });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

const loaded = (run: Run, re: RegExp): string[] => run.modules.filter((u) => re.test(u));
const GATEWAY = /\/src\/(core\/gateway|guard\/index|app\/runtime)\.ts$|\/node_modules\/(zod|libpg-query|@modelcontextprotocol)\//;
const HTTP = /\/node_modules\/(fastify|@fastify\/rate-limit|@modelcontextprotocol\/node)\/|\/src\/http\/(index|app|mcp-route)\.ts$/;

describe('what a command loads', () => {
  it('--version and --help answer without loading the gateway', async () => {
    for (const flag of ['--version', '--help']) {
      const run = await pgwarden([flag], {});
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toMatch(/0\.\d+\.\d+/);
      expect(loaded(run, /\/dist\/cli\/main\.js$/)).toHaveLength(1); // the recorder works, on the bundle
      expect(loaded(run, /\/src\/cli\/main\.ts$/)).toHaveLength(1); // and sees the sources in it
      expect(loaded(run, GATEWAY)).toEqual([]);
      // a few KB of bundle code (main.js and the version), not the gateway's chunks (≈ 1.8 MB)
      expect(bundleBytes(run)).toBeLessThan(32 * 1024);
    }
  }, 60_000);

  it('a stdio start with the configuration from the environment answers initialize without fastify or the YAML parser', async () => {
    const init = { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'lazy-loading-test', version: '0' } } };
    // a database that refuses connections: start-up must not need it (its catalog warm-up fails quietly)
    const run = await pgwarden(['serve', '--transport', 'stdio'], { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db', PGWARDEN_LOG_LEVEL: 'warn' }, { text: `${JSON.stringify(init)}\n`, closeWhen: /"id":0/ });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('"serverInfo"');
    expect(loaded(run, /\/node_modules\/@modelcontextprotocol\/server\//).length).toBeGreaterThan(0); // the recorder saw the MCP server
    expect(loaded(run, HTTP)).toEqual([]);
    expect(loaded(run, /\/node_modules\/yaml\//)).toEqual([]);
    // Node's undici (tls, http2, zlib, web streams) is not needed on a stdio start: pg's Cloudflare probe
    // (`new Response()`) loaded it on Node 20 (src/db/pg-load.ts); on Node 24 the ES module namespace of
    // node:http loads it (telemetry/index.ts no longer re-exports the /metrics server, which imports it)
    expect(loaded(run, /^builtin:dns$/)).toHaveLength(1); // Node's own modules are recorded (pg loads dns)
    expect(loaded(run, /^builtin:internal\/deps\/undici\//)).toEqual([]);
    // the deparser is required on the first rewrite or write plan (src/guard/deparser.ts), not at start
    expect(loaded(run, /\/node_modules\/pg\/lib\/index\.js$/)).not.toEqual([]); // required files are recorded
    expect(loaded(run, /\/node_modules\/pgsql-deparser\//)).toEqual([]);
  }, 60_000);

  it("an HTTP start answers a fast-path tools/call without the SDK's Node adapter, and loads it for the first other request", async () => {
    const port = await freePort();
    const token = 'lazy-loading-test-token-0123456789abcdefghijkl';
    const post = async (body: unknown): Promise<string> => {
      const res = await fetch(`http://127.0.0.1:${port}/mcp`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2025-06-18' },
        body: JSON.stringify(body),
      });
      return res.text();
    };
    const answers: string[] = [];
    let before: string[] = [];
    const env = { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db', PGWARDEN_TOKEN: token, PGWARDEN_LOG_LEVEL: 'info', PGWARDEN_TEST_MODULES_FILE: path.join(dir, `modules-${runs + 1}.txt`) };
    const run = await pgwarden(['serve', '--transport', 'http', '--port', String(port)], env, undefined, {
      whenStderr: /pgwarden listening/,
      act: async () => {
        answers.push(await post({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'query', arguments: { sql: 'SELECT 1' } } }));
        before = readModules(env.PGWARDEN_TEST_MODULES_FILE);
        answers.push(await post({ jsonrpc: '2.0', id: 2, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'lazy-loading-test', version: '0' } } }));
      },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(answers[0]).toContain('"id":1'); // answered by the fast path (the database is down: a refusal)
    expect(before.filter((u) => /\/node_modules\/fastify\//.test(u)).length).toBeGreaterThan(0);
    expect(before.filter((u) => /\/node_modules\/(@modelcontextprotocol\/node|@hono\/node-server)\//.test(u))).toEqual([]);
    expect(answers[1]).toContain('"serverInfo"');
    expect(loaded(run, /\/node_modules\/@modelcontextprotocol\/node\//).length).toBeGreaterThan(0);
  }, 60_000);

  it('a stdio start with a configuration file loads the YAML parser (and still not fastify)', async () => {
    const run = await pgwarden(['serve', '--transport', 'stdio', '--config', path.join(ROOT, 'config/pgwarden.yaml'), '--dry-run'], { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db' });
    expect(run.code, run.stderr).toBe(0);
    expect(loaded(run, /\/node_modules\/yaml\//).length).toBeGreaterThan(0);
    expect(loaded(run, HTTP)).toEqual([]);
  }, 60_000);
});
