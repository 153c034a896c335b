/**
 * `pgwarden check`: the guard's decision for one statement, without running it. It loads the
 * database catalog (relations, views, functions) over a read-only catalog query so that names
 * resolve exactly as they would in the gateway; the statement itself is never sent.
 * Exit code: 0 allowed, 2 refused, 1 on errors — usable in CI pipelines.
 */
import { loadConfig } from '../config/index.js';
import { createLogger } from '../log/logger.js';
import { createRuntime } from '../app/runtime.js';

export interface CheckOptions {
  config?: string | undefined;
  principal?: string | undefined;
  database?: string | undefined;
  tool?: string | undefined;
  json?: boolean;
  sql: string;
}

export async function checkCommand(opts: CheckOptions): Promise<number> {
  if (opts.principal === undefined) throw new Error('--principal is required');
  if (opts.sql.trim() === '') throw new Error('give the SQL statement as the last argument');
  // check serves nothing, so it needs no tokens.
  const config = await loadConfig({ path: opts.config, env: process.env, allowNoTokens: true });
  const logger = createLogger('silent');
  const runtime = await createRuntime(config, logger, { audit: false, writes: false, verifyTools: false, telemetry: false });
  try {
    const out = await runtime.gateway.check(
      { principal: opts.principal, requestId: 'cli-check' },
      { sql: opts.sql, database: opts.database },
    );
    if (opts.json) {
      process.stdout.write(`${JSON.stringify(out.ok ? out.value : out.refusal, null, 2)}\n`);
    } else if (out.ok) {
      const d = out.value;
      process.stdout.write(`${d.decision.toUpperCase()}  kind=${d.kind}  database=${d.database}\n`);
      if (d.relations.length > 0) process.stdout.write(`  relations: ${d.relations.join(', ')}\n`);
      if (d.functions.length > 0) process.stdout.write(`  functions: ${d.functions.join(', ')}\n`);
      for (const r of d.reasons) process.stdout.write(`  ${r.code}: ${r.message}\n    fix: ${r.fix}\n`);
      if (d.observed) process.stdout.write('  (observe mode: not enforced)\n');
    } else {
      for (const r of out.refusal.reasons) process.stdout.write(`${out.refusal.decision.toUpperCase()}  ${r.code}: ${r.message}\n    fix: ${r.fix}\n`);
    }
    return out.ok && out.value.decision === 'allow' ? 0 : 2;
  } finally {
    await runtime.gateway.shutdown(0);
  }
}
