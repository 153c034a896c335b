/**
 * `pgwarden audit verify FILE…` and `pgwarden audit stats FILE… [--json]` (command functions;
 * src/cli/main.ts dispatches `audit` here through auditCli).
 *
 * Exit codes: 0 ok, 1 the chain is broken (verify), 64 usage error.
 */
import { parseArgs } from 'node:util';
import { auditStats, formatAuditStats } from '../audit/stats.js';
import { auditVerify, type VerifyResult } from '../audit/verify.js';

export interface CliIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const processIo: CliIo = {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
};

const USAGE = `usage:
  pgwarden audit verify FILE [FILE…] [--json] [--no-strict]
  pgwarden audit stats FILE [FILE…] [--json]

Rotated files may be given in any order (e.g. .pgwarden/audit.ndjson*): they are verified in chain order.`;

export function formatVerify(r: VerifyResult): string {
  const files = r.files.length === 1 ? '1 file' : `${r.files.length} files`;
  if (!r.ok && r.firstBroken) {
    const b = r.firstBroken;
    const where = b.line > 0 ? `${b.file} line ${b.line}${b.seq !== null ? ` (seq ${b.seq})` : ''}` : b.file;
    return [
      `BROKEN: ${where}: ${b.reason}`,
      `${r.records} record(s) verified before it${r.lastSeq !== null ? ` (last good seq ${r.lastSeq}, hash ${r.lastHash})` : ''}`,
    ].join('\n');
  }
  if (r.records === 0) return `ok: no records in ${files}`;
  const lines = [`ok: ${r.records} records in ${files} verify (seq ${r.firstSeq}..${r.lastSeq})`, `last hash ${r.lastHash}`];
  if (!r.anchored) lines.push(`note: the set starts at seq ${r.firstSeq}; earlier records (rotated away?) were not checked`);
  if (r.chains > 1) lines.push(`note: ${r.chains} chains (the sink restarted ${r.chains - 1} time(s) from the genesis hash)`);
  lines.push('compare the last seq/hash with an anchored copy to detect records removed from the end');
  return lines.join('\n');
}

export async function auditVerifyCommand(files: readonly string[], opts: { json?: boolean; strict?: boolean } = {}, io: CliIo = processIo): Promise<number> {
  if (files.length === 0) {
    io.err(USAGE);
    return 64;
  }
  const result = await auditVerify(files, { strict: opts.strict ?? true });
  io.out(opts.json ? JSON.stringify(result, null, 2) : formatVerify(result));
  return result.ok ? 0 : 1;
}

export async function auditStatsCommand(files: readonly string[], opts: { json?: boolean } = {}, io: CliIo = processIo): Promise<number> {
  if (files.length === 0) {
    io.err(USAGE);
    return 64;
  }
  try {
    const stats = await auditStats(files);
    io.out(opts.json ? JSON.stringify(stats, null, 2) : formatAuditStats(stats));
    return 0;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    io.err(`pgwarden audit stats: cannot read the audit files (${typeof code === 'string' ? code : 'error'})`);
    return 1;
  }
}

/** Entry for `pgwarden audit …` (args after "audit"). */
export async function auditCli(args: readonly string[], io: CliIo = processIo): Promise<number> {
  const [sub, ...rest] = args;
  let parsed;
  try {
    parsed = parseArgs({ args: [...rest], options: { json: { type: 'boolean' }, 'no-strict': { type: 'boolean' } }, allowPositionals: true, strict: true });
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 64;
  }
  const json = parsed.values.json === true;
  switch (sub) {
    case 'verify':
      return auditVerifyCommand(parsed.positionals, { json, strict: parsed.values['no-strict'] !== true }, io);
    case 'stats':
      return auditStatsCommand(parsed.positionals, { json }, io);
    default:
      io.err(USAGE);
      return 64;
  }
}

/** Names used by src/cli/audit-entry.ts. */
export const verifyCommand = auditVerifyCommand;
export const statsCommand = auditStatsCommand;
