/**
 * Choosing and checking the audit sink at start-up: which sink a configuration gets
 * (createAuditSink), where the file sink writes (auditFilePath), and the checks that keep a
 * gateway from starting with an audit log it cannot use (auditSinkProblem, auditStartProblem).
 *
 * Guarantees: stdout is refused as the sink of a stdio server (it carries the protocol); a file
 * sink that cannot be opened under fail-closed is a start-up problem with the setting to change,
 * never a gateway that refuses every call; `audit.sink: none` is logged as a warning at start.
 * Does not: write records (sink.ts) or touch files (file-target.ts).
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve as resolvePath } from 'node:path';
import { DEFAULT_AUDIT_PATH, type AuditConfig } from '../config/schema.js';
import { FileTarget } from './file-target.js';
import { QueuedAuditSink, type AuditSink, type AuditSinkOptions } from './sink.js';
import { StreamTarget } from './targets.js';
import { GENESIS_PREV, type AuditLogger, type AuditSinkStats } from './types.js';

/** Why this sink cannot be used with this transport, or null. Use it in config validation. */
export function auditSinkProblem(audit: Pick<AuditConfig, 'sink'>, transport: 'http' | 'stdio'): string | null {
  if (audit.sink === 'stdout' && transport === 'stdio') {
    return 'audit.sink "stdout" cannot be used with server.transport "stdio": stdout carries the MCP protocol. Use "file" or "stderr".';
  }
  return null;
}

/**
 * Where the file sink writes. A configured path resolves against the working directory. The
 * default path does too under HTTP, but under the stdio transport it lives in the per-user state
 * directory — $XDG_STATE_HOME/pgwarden/audit.ndjson, else ~/.local/state/pgwarden/audit.ndjson —
 * because desktop clients start stdio servers in `/` or another folder the user cannot write.
 */
export function auditFilePath(audit: Pick<AuditConfig, 'path'>, options: Pick<AuditSinkOptions, 'transport' | 'cwd' | 'env'> = {}): string {
  const cwd = options.cwd ?? process.cwd();
  if (options.transport !== 'stdio' || audit.path !== DEFAULT_AUDIT_PATH) return resolvePath(cwd, audit.path);
  const env = options.env ?? process.env;
  const xdg = env.XDG_STATE_HOME;
  if (xdg !== undefined && isAbsolute(xdg)) return join(xdg, 'pgwarden', 'audit.ndjson');
  let home = env.HOME;
  if (home === undefined || !isAbsolute(home)) {
    try {
      home = homedir();
    } catch {
      home = undefined;
    }
  }
  if (home === undefined || home === '' || !isAbsolute(home)) return resolvePath(cwd, audit.path);
  return join(home, '.local', 'state', 'pgwarden', 'audit.ndjson');
}

/**
 * A start-up check: the file sink's first open failed under fail-closed. The gateway must not
 * start then (it would refuse every call); the message says what to set. Null when fine.
 */
export function auditStartProblem(sink: AuditSink, audit: Pick<AuditConfig, 'on_failure'>): string | null {
  if (sink.kind !== 'file' || audit.on_failure !== 'fail-closed') return null;
  const s = sink.stats();
  if (s.healthy) return null;
  return (
    `the audit log cannot be opened (${s.lastError ?? 'error'}): ${sink.path ?? 'audit.path'}. ` +
    'Set audit.path in the configuration file to a file in a directory this user can write (an absolute path), ' +
    'or audit.sink: stderr to send records to the client\'s log; pgwarden does not start without its audit log (audit.on_failure: fail-closed).'
  );
}

export function createAuditSink(audit: AuditConfig, logger: AuditLogger, options: AuditSinkOptions = {}): AuditSink {
  const problem = auditSinkProblem(audit, options.transport ?? 'http');
  if (problem) throw new Error(problem);
  switch (audit.sink) {
    case 'none':
      logger.warn({ audit: { sink: 'none' } }, 'audit log disabled (audit.sink: none): decisions are not recorded');
      return new NullAuditSink();
    case 'stdout':
      return new QueuedAuditSink('stdout', new StreamTarget(1), audit, logger, options);
    case 'stderr':
      return new QueuedAuditSink('stderr', new StreamTarget(2), audit, logger, options);
    case 'file': {
      const path = auditFilePath(audit, options);
      const target = new FileTarget({
        path,
        maxBytes: audit.max_bytes,
        maxFiles: audit.max_files,
        syncOnRotate: audit.fsync !== 'never',
        keyed: audit.hmac_key !== undefined,
      });
      return new QueuedAuditSink('file', target, audit, logger, options, path);
    }
  }
}

/** audit.sink: none — records nothing, always accepts. */
export class NullAuditSink implements AuditSink {
  readonly kind = 'none' as const;
  record(): void {}
  async durable(): Promise<void> {}
  accepting(): boolean {
    return true;
  }
  stats(): AuditSinkStats {
    return { sink: 'none', queued: 0, written: 0, dropped: 0, failed: 0, lastError: null, healthy: true, lastSeq: 0, lastHash: GENESIS_PREV };
  }
  async ready(): Promise<void> {}
  async flush(): Promise<boolean> {
    return true;
  }
  async close(): Promise<void> {}
}
