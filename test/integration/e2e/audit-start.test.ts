/**
 * The audit sink at start-up, through the real command line (issue #10 items 10 and 11):
 * - a stdio server started in a folder it cannot write (desktop clients start it in `/`) keeps
 *   its audit log in the per-user state directory and serves; on 344cc74 it started and then
 *   refused every call with AUDIT_UNAVAILABLE;
 * - an audit log that cannot be opened stops the start-up with a message saying what to set,
 *   for stdio and HTTP alike; on 344cc74 the server started, ran calls sent in the first moment
 *   without a record, then refused everything.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client } from '@modelcontextprotocol/client';
import { StdioClientTransport } from '@modelcontextprotocol/client/stdio';
import { describe, expect, it } from 'vitest';
import { auditVerify } from '../../../src/audit/verify.js';
import { testDatabase } from '../../support/pg.js';
import { PGWARDEN_MAIN } from '../../support/cli.js';

const run = promisify(execFile);
const NODE_ARGS = [PGWARDEN_MAIN];

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !k.startsWith('PGWARDEN_') && !k.startsWith('XDG_') && k !== 'DATABASE_URL') env[k] = v;
  }
  return { ...env, NODE_OPTIONS: '', ...extra };
}

/** A working directory where `.pgwarden` is a file: the default relative audit path cannot be created (as root too). */
function unwritableCwd(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'pgwarden-cwd-'));
  writeFileSync(path.join(dir, '.pgwarden'), 'not a directory');
  return dir;
}

function config(dir: string, extra: string[] = []): string {
  const file = path.join(dir, 'pgwarden.yaml');
  writeFileSync(file, ['databases:', '  main:', '    url: ${DATABASE_URL}', '    search_path: [app]', ...extra, ''].join('\n'));
  return file;
}

async function cli(args: string[], env: Record<string, string>, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...NODE_ARGS, ...args], { env: cleanEnv(env), cwd, timeout: 40_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('audit sink at start-up', () => {
  it('stdio in an unwritable working directory: the audit log goes to $XDG_STATE_HOME/pgwarden and calls are served and recorded', async () => {
    const cwd = unwritableCwd();
    const cfgDir = mkdtempSync(path.join(tmpdir(), 'pgwarden-cfg-'));
    const state = path.join(cfgDir, 'state');
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [...NODE_ARGS, 'serve', '--transport', 'stdio', '--config', config(cfgDir)],
      env: cleanEnv({ DATABASE_URL: testDatabase().gatewayUrl, XDG_STATE_HOME: state }),
      cwd,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'audit-start', version: '0' });
    await client.connect(transport);
    try {
      const res = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT 1 AS one' } })) as { isError?: boolean; structuredContent?: { rows: unknown[][] } };
      expect(res.isError).not.toBe(true);
      expect(res.structuredContent?.rows).toEqual([[1]]);
    } finally {
      await client.close();
    }
    const file = path.join(state, 'pgwarden', 'audit.ndjson');
    const records = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { decision: string; tool: string });
    expect(records.some((r) => r.tool === 'query' && r.decision === 'allowed')).toBe(true);
    expect(await auditVerify([file])).toMatchObject({ ok: true });
  }, 60_000);

  it('stdio with an audit.path that cannot be opened: does not start, and says to set audit.path', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pgwarden-cfg-'));
    writeFileSync(path.join(dir, 'blocker'), 'x');
    const file = config(dir, ['audit:', `  path: ${path.join(dir, 'blocker', 'audit.ndjson')}`]);
    const started = Date.now();
    const r = await cli(['serve', '--transport', 'stdio', '--config', file], { DATABASE_URL: testDatabase().gatewayUrl }, dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('audit log cannot be opened');
    expect(r.stderr).toContain('audit.path');
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(r.stdout).toBe('');
  }, 60_000);

  it('HTTP with an audit file that cannot be opened: refuses to start instead of serving without records', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'pgwarden-cfg-'));
    mkdirSync(path.join(dir, 'audit.ndjson')); // a directory where the file should be
    const file = config(dir, ['audit:', `  path: ${path.join(dir, 'audit.ndjson')}`, 'server:', '  port: 0']);
    const r = await cli(['serve', '--config', file], { DATABASE_URL: testDatabase().gatewayUrl, PGWARDEN_TOKEN: randomBytes(24).toString('hex') }, dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('audit log cannot be opened');
  }, 60_000);
});
