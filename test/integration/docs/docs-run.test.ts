/**
 * Docs as tests, the run half: every block of README.md and docs/*.md annotated `run`, `serve`,
 * `config` or `config-fragment` (test/support/doc-blocks.ts) runs here against a throwaway
 * database, as a user following the docs would run it:
 *
 * - the working directory is a sandbox whose entries link to the repository's (config/, scripts/,
 *   dist/, …), so relative paths in the docs work and nothing is written into the checkout;
 * - `pgwarden` on PATH is the built CLI (`node dist/cli/main.js`; the suite builds dist/ first);
 * - DATABASE_URL points at a scratch copy of the demo database with write grants (the gateway's
 *   least-privilege login), PGWARDEN_TOKEN is a fresh token, HOME and XDG dirs are empty temp dirs.
 *
 * A doc change that breaks a command fails here, with the file and line of the block.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { generateToken } from '../../../src/auth/tokens.js';
import { loadConfig } from '../../../src/config/index.js';
import { documentedBlocks, type DocBlock } from '../../support/doc-blocks.js';
import { setupWriteDb, type WriteTestDb } from '../writes/helpers.js';

const ROOT = process.cwd();
/** The base configuration's own principal (PGWARDEN_TOKEN is the environment's principal `agent`). */
const BASE_TOKEN = generateToken();
const blocks = documentedBlocks(ROOT);
let sandbox = '';
let env: NodeJS.ProcessEnv = {};
let w: WriteTestDb | undefined;

beforeAll(async () => {
  const build = spawnSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}\n${build.stderr}`);
  w = await setupWriteDb({ ensureSchema: true });
  sandbox = mkdtempSync(join(tmpdir(), 'pgwarden-docs-'));
  const work = join(sandbox, 'work');
  mkdirSync(work);
  for (const entry of readdirSync(ROOT)) {
    if (entry === '.git' || entry === '.pgwarden') continue;
    symlinkSync(join(ROOT, entry), join(work, entry));
  }
  const bin = join(sandbox, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'pgwarden'), `#!/bin/sh\nexec node ${JSON.stringify(join(ROOT, 'dist/cli/main.js'))} "$@"\n`);
  chmodSync(join(bin, 'pgwarden'), 0o755);
  // `npm ci` in a documented command would reinstall the checkout's node_modules (linked into the
  // sandbox) that this very run uses; CI has just run it, so the shim skips it and runs the rest.
  const npm = spawnSync('sh', ['-c', 'command -v npm'], { encoding: 'utf8' }).stdout.trim();
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\nif [ "$1" = ci ] && [ "$PWD" = ${JSON.stringify(work)} ]; then echo "(docs test: npm ci already done by CI)"; exit 0; fi\nexec ${JSON.stringify(npm)} "$@"\n`);
  chmodSync(join(bin, 'npm'), 0o755);
  const home = join(sandbox, 'home');
  mkdirSync(home);
  env = {
    PATH: `${bin}:${process.env.PATH ?? ''}`,
    HOME: home,
    XDG_STATE_HOME: join(home, '.local/state'),
    XDG_CONFIG_HOME: join(home, '.config'),
    DATABASE_URL: w.scratch.gatewayUrl,
    PGWARDEN_TOKEN: generateToken(),
    // npm's package cache stays the user's (the sandbox HOME is empty).
    npm_config_cache: process.env.npm_config_cache ?? join(homedir(), '.npm'),
    // Secrets the documented snippets reference as ${VAR}.
    PGWARDEN_AUDIT_KEY: generateToken(),
    PGWARDEN_MASK_KEY: generateToken(),
    PGWARDEN_STATE_KEY: generateToken(),
    CI: '1',
  };
}, 400_000);

afterAll(async () => {
  await w?.end();
  if (sandbox !== '') rmSync(sandbox, { recursive: true, force: true });
});

const cwd = (): string => join(sandbox, 'work');
const label = (b: DocBlock): string => `${b.file}:${b.line} (${b.mode})`;

/** The block's text without `export NAME=…` lines for the variables in keep="A,B". */
function script(b: DocBlock): string {
  const keep = new Set((b.options.keep ?? '').split(',').map((k) => k.trim()).filter(Boolean));
  return b.text
    .split('\n')
    .filter((l) => !keep.has(/^\s*export\s+([A-Z_][A-Z0-9_]*)=/.exec(l)?.[1] ?? ''))
    .join('\n');
}

function runBlock(b: DocBlock): void {
  const r = spawnSync('bash', ['-euo', 'pipefail', '-c', script(b)], { cwd: cwd(), env, encoding: 'utf8', timeout: 180_000, stdio: ['ignore', 'pipe', 'pipe'] });
  const output = `${r.stdout}\n${r.stderr}`;
  const expected = Number(b.options.exit ?? '0');
  expect(r.status, `${label(b)} exited ${String(r.status)} (signal ${String(r.signal)}):\n${output.slice(-3000)}`).toBe(expected);
  if (b.options.expect !== undefined) expect(output, label(b)).toMatch(new RegExp(b.options.expect));
}

/** Whether any process of the group is still alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Start one long-running command in its own process group, wait for `ready` on its output, then
 * SIGTERM the group: every process of it must be gone within 30 s (a clean, bounded shutdown).
 */
async function serveLine(b: DocBlock, line: string): Promise<void> {
  const ready = new RegExp(b.options.ready ?? 'listening|serving');
  const child: ChildProcess = spawn('bash', ['-c', line], { cwd: cwd(), env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  const pgid = child.pid as number;
  let output = '';
  const seen = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 90_000);
    const onData = (d: Buffer): void => {
      output += d.toString('utf8');
      if (ready.test(output)) {
        clearTimeout(timer);
        resolve(true);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('exit', () => {
      clearTimeout(timer);
      resolve(ready.test(output));
    });
  });
  if (groupAlive(pgid)) process.kill(-pgid, 'SIGTERM');
  const deadline = Date.now() + 30_000;
  while (groupAlive(pgid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  const stopped = !groupAlive(pgid);
  if (!stopped) process.kill(-pgid, 'SIGKILL');
  expect(seen, `${label(b)} \`${line}\` never printed /${ready.source}/:\n${output.slice(-3000)}`).toBe(true);
  expect(stopped, `${label(b)} \`${line}\` was still running 30 s after SIGTERM:\n${output.slice(-3000)}`).toBe(true);
}

/** The long-running commands of a serve block, each prefixed with the block's `export` lines. */
function serveLines(b: DocBlock): string[] {
  const lines = script(b)
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const exports = lines.filter((l) => l.startsWith('export '));
  return lines.filter((l) => !l.startsWith('export ')).map((l) => [...exports, l].join('\n'));
}

type Raw = Record<string, unknown>;
function merge(a: Raw, b: Raw): Raw {
  const out: Raw = { ...a };
  for (const [k, v] of Object.entries(b)) {
    const prev = out[k];
    out[k] = prev !== null && typeof prev === 'object' && !Array.isArray(prev) && v !== null && typeof v === 'object' && !Array.isArray(v) ? merge(prev as Raw, v as Raw) : v;
  }
  return out;
}

/** A minimal valid configuration a fragment is merged onto (names the docs use: main, shop, analyst). */
function baseConfig(): Raw {
  return {
    databases: { main: { url: env.DATABASE_URL, search_path: ['app'] }, shop: { url: env.DATABASE_URL, search_path: ['app'] } },
    principals: { analyst: { policy: 'analyst', tokens: [{ token: BASE_TOKEN }] } },
    policies: { analyst: { databases: { main: { schemas: ['app'] } } } },
  };
}

describe('documented commands run as written', () => {
  const runnable = blocks.filter((b) => b.mode === 'run' || b.mode === 'serve');
  it.each(runnable.map((b) => [label(b), b] as const))('%s', async (_name, b) => {
    if (b.mode === 'run') runBlock(b);
    else for (const line of serveLines(b)) await serveLine(b, line);
  }, 240_000);
});

describe('documented configuration loads with the real loader', () => {
  const configs = blocks.filter((b) => b.mode === 'config' || b.mode === 'config-fragment');
  it.each(configs.map((b) => [label(b), b] as const))('%s', async (_name, b) => {
    if (b.mode === 'config') {
      const file = join(sandbox, `config-${b.line}.yaml`);
      writeFileSync(file, b.text);
      await loadConfig({ path: file, env });
    } else {
      let fragment = (parseYaml(b.text) ?? {}) as Raw;
      // at="policies.analyst.databases.main": the snippet is the value at that path.
      for (const key of (b.options.at ?? '').split('.').filter(Boolean).reverse()) fragment = { [key]: fragment };
      const file = join(sandbox, `fragment-${b.file.replace(/\W/g, '_')}-${b.line}.yaml`);
      writeFileSync(file, stringifyYaml(merge(baseConfig(), fragment)));
      await loadConfig({ path: file, env });
    }
  });
});
