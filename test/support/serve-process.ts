/**
 * A real `pgwarden serve` process for reload tests: started from a config file the test rewrites,
 * reloaded with SIGHUP, its JSON log lines parsed from stderr.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGWARDEN_MAIN } from './cli.js';

const NODE_ARGS = [PGWARDEN_MAIN];

export interface LogLine {
  level: number;
  msg: string;
  [k: string]: unknown;
}

export interface ServeProcess {
  url: string;
  file: string;
  child: ChildProcess;
  stderr: () => string;
  logs: () => LogLine[];
  /** Write the config file, send SIGHUP, and wait for the reload's outcome line (reloaded or refused). */
  reload: (yaml: string) => Promise<{ outcome: LogLine; warning?: LogLine }>;
  stop: () => Promise<void>;
}

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('PGWARDEN_') && k !== 'DATABASE_URL') env[k] = v;
  return { ...env, NODE_OPTIONS: '', ...extra };
}

const OUTCOMES = new Set(['configuration reloaded', 'configuration reload refused; the running configuration stays']);

export async function startServeProcess(yaml: string, env: Record<string, string> = {}): Promise<ServeProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'pgwarden-reload-'));
  const file = path.join(dir, 'pgwarden.yaml');
  writeFileSync(file, yaml);
  const child = spawn(process.execPath, [...NODE_ARGS, 'serve', '--config', file], { env: cleanEnv(env), cwd: dir });
  let err = '';
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const logs = (): LogLine[] =>
    err
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .flatMap((l) => {
        try {
          return [JSON.parse(l) as LogLine];
        } catch {
          return [];
        }
      });
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no listen line: ${err}`)), 30_000);
    const onData = (): void => {
      const m = /"endpoint":"(http:\/\/127\.0\.0\.1:\d+)\/mcp"/.exec(err);
      if (m) {
        clearTimeout(t);
        child.stderr?.off('data', onData);
        resolve(m[1] as string);
      }
    };
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`serve exited ${String(code)}: ${err}`)));
  });
  const reload = async (next: string): Promise<{ outcome: LogLine; warning?: LogLine }> => {
    const seen = logs().length;
    writeFileSync(file, next);
    child.kill('SIGHUP');
    const deadline = Date.now() + 15_000;
    for (;;) {
      const fresh = logs().slice(seen);
      const outcome = fresh.find((l) => OUTCOMES.has(l.msg));
      if (outcome) {
        // the restart warning follows the outcome line in the same tick
        await new Promise((r) => setTimeout(r, 50));
        const warning = logs()
          .slice(seen)
          .find((l) => l.msg.startsWith('configuration keys changed that need a restart'));
        return warning ? { outcome, warning } : { outcome };
      }
      if (Date.now() > deadline) throw new Error(`no reload outcome logged:\n${err.slice(-4000)}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
  };
  return { url, file, child, stderr: () => err, logs, reload, stop };
}
