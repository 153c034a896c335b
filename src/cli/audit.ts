/**
 * `pgwarden audit verify FILE… [--key-file PATH]…` and `pgwarden audit stats FILE… [--json]`
 * (command functions; src/cli/main.ts dispatches `audit` here through auditCli).
 *
 * Keys for keyed logs (audit.hmac_key) come from files (`--key-file`, repeatable when the key was
 * changed) or from the environment (PGWARDEN_AUDIT_KEY, or PGWARDEN_AUDIT_KEY_FILE naming a file),
 * never from an argument: argv is visible to every user in `ps`. The key is never printed; only
 * its public key_id is.
 *
 * Exit codes: 0 ok, 1 the chain is broken (verify), 64 usage error (including a key file that
 * cannot be read or a key shorter than 32 characters).
 */
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { MIN_AUDIT_KEY_LENGTH } from '../audit/keyed.js';
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
  pgwarden audit verify FILE [FILE…] [--key-file PATH]… [--allow-unkeyed-prefix] [--json] [--no-strict]
  pgwarden audit stats FILE [FILE…] [--json]

Rotated files may be given in any order (e.g. .pgwarden/audit.ndjson*): they are verified in chain order.
Keyed logs (audit.hmac_key): give the key in a file (--key-file, once per key if it was changed) or in
PGWARDEN_AUDIT_KEY / PGWARDEN_AUDIT_KEY_FILE, never on the command line. With a key, every record must
be keyed with it; --allow-unkeyed-prefix also accepts unkeyed records written before the key was turned
on (covered by the first keyed record after them).`;

/** The verified mode in words (never the key; key ids are public). */
function modeLine(r: VerifyResult): string {
  const ids = r.keyIds.length === 1 ? `key_id ${r.keyIds[0]}` : `key_ids ${r.keyIds.join(', ')}`;
  switch (r.mode) {
    case 'keyed':
      return `keyed: every record carries an HMAC-SHA-256 under the given key (${ids})`;
    case 'mixed':
      return [
        `keyed from seq ${r.keyedFromSeq ?? '?'} (${ids}): ${r.keyedRecords} keyed record(s); the ${r.records - r.keyedRecords} unkeyed record(s) before are covered by the first keyed record's prev`,
        `check: was audit.hmac_key turned on at seq ${r.keyedFromSeq ?? '?'}? The unkeyed records are only as trustworthy as the file was then.`,
      ].join('\n');
    case 'unkeyed':
      return 'unkeyed: sha256 only, so whoever can write the files could have recomputed the chain (set audit.hmac_key, then verify with --key-file)';
    case 'none':
      return '';
  }
}

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
  const lines = [`ok: ${r.records} records in ${files} verify (seq ${r.firstSeq}..${r.lastSeq})`, modeLine(r), `last hash ${r.lastHash}`];
  if (!r.anchored) lines.push(`note: the set starts at seq ${r.firstSeq}; earlier records (rotated away?) were not checked`);
  if (r.chains > 1) lines.push(`note: ${r.chains} chains (the sink restarted ${r.chains - 1} time(s) from the genesis hash)`);
  lines.push('compare the last seq/hash with an anchored copy to detect records removed from the end');
  return lines.join('\n');
}

export interface VerifyCommandOptions {
  json?: boolean;
  strict?: boolean;
  /** --allow-unkeyed-prefix (see VerifyOptions.allowUnkeyedPrefix). */
  allowUnkeyedPrefix?: boolean;
  /** --key-file paths (each file holds one key; trimmed like config secret files). */
  keyFiles?: readonly string[];
  /** Environment for PGWARDEN_AUDIT_KEY / PGWARDEN_AUDIT_KEY_FILE (default process.env). */
  env?: NodeJS.ProcessEnv;
}

const MAX_KEY_FILE_BYTES = 1024 * 1024;

class KeyInputError extends Error {}

/** Read one key file; errors name the file, never its content. */
async function readKeyFile(path: string, label: string): Promise<string> {
  let content: string;
  try {
    const st = await stat(path);
    if (!st.isFile()) throw new KeyInputError(`${label} ${path} is not a regular file`);
    if (st.size > MAX_KEY_FILE_BYTES) throw new KeyInputError(`${label} ${path} is larger than ${MAX_KEY_FILE_BYTES} bytes`);
    content = (await readFile(path, 'utf8')).trim();
  } catch (err) {
    if (err instanceof KeyInputError) throw err;
    const code = (err as { code?: unknown } | null)?.code;
    throw new KeyInputError(`cannot read ${label} ${path} (${typeof code === 'string' ? code : 'error'})`);
  }
  return checkKey(content, `${label} ${path}`);
}

function checkKey(key: string, source: string): string {
  if (key.length < MIN_AUDIT_KEY_LENGTH) {
    throw new KeyInputError(`the key from ${source} is ${key.length === 0 ? 'empty' : `shorter than ${MIN_AUDIT_KEY_LENGTH} characters`}: not an audit.hmac_key`);
  }
  return key;
}

/** --key-file wins; otherwise PGWARDEN_AUDIT_KEY or PGWARDEN_AUDIT_KEY_FILE (not both); otherwise no key. */
async function resolveKeys(keyFiles: readonly string[], env: NodeJS.ProcessEnv): Promise<string[]> {
  if (keyFiles.length > 0) {
    const keys: string[] = [];
    for (const f of keyFiles) keys.push(await readKeyFile(f, 'key file'));
    return keys;
  }
  const direct = env.PGWARDEN_AUDIT_KEY;
  const file = env.PGWARDEN_AUDIT_KEY_FILE;
  const hasDirect = direct !== undefined && direct !== '';
  const hasFile = file !== undefined && file !== '';
  if (hasDirect && hasFile) throw new KeyInputError('PGWARDEN_AUDIT_KEY and PGWARDEN_AUDIT_KEY_FILE are both set: set only one');
  if (hasFile) return [await readKeyFile(file, 'PGWARDEN_AUDIT_KEY_FILE')];
  if (hasDirect) return [checkKey(direct.trim(), 'PGWARDEN_AUDIT_KEY')];
  return [];
}

export async function auditVerifyCommand(files: readonly string[], opts: VerifyCommandOptions = {}, io: CliIo = processIo): Promise<number> {
  if (files.length === 0) {
    io.err(USAGE);
    return 64;
  }
  let keys: string[];
  try {
    keys = await resolveKeys(opts.keyFiles ?? [], opts.env ?? process.env);
  } catch (err) {
    if (!(err instanceof KeyInputError)) throw err;
    io.err(`pgwarden audit verify: ${err.message}`);
    return 64;
  }
  const result = await auditVerify(files, { strict: opts.strict ?? true, keys, allowUnkeyedPrefix: opts.allowUnkeyedPrefix === true });
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
    parsed = parseArgs({
      args: [...rest],
      options: {
        json: { type: 'boolean' },
        'no-strict': { type: 'boolean' },
        'key-file': { type: 'string', multiple: true },
        'allow-unkeyed-prefix': { type: 'boolean' },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (err) {
    io.err(`${err instanceof Error ? err.message : String(err)}\n${USAGE}`);
    return 64;
  }
  const json = parsed.values.json === true;
  switch (sub) {
    case 'verify':
      return auditVerifyCommand(
        parsed.positionals,
        {
          json,
          strict: parsed.values['no-strict'] !== true,
          keyFiles: parsed.values['key-file'] ?? [],
          allowUnkeyedPrefix: parsed.values['allow-unkeyed-prefix'] === true,
        },
        io,
      );
    case 'stats':
      if (parsed.values['key-file'] !== undefined || parsed.values['allow-unkeyed-prefix'] !== undefined) {
        io.err(`stats needs no key (--key-file and --allow-unkeyed-prefix are for verify)\n${USAGE}`);
        return 64;
      }
      return auditStatsCommand(parsed.positionals, { json }, io);
    default:
      io.err(USAGE);
      return 64;
  }
}

/** Names used by src/cli/audit-entry.ts. */
export const verifyCommand = auditVerifyCommand;
export const statsCommand = auditStatsCommand;
