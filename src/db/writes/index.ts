/**
 * Guarded writes, I/O half: gateway-owned state (schema.ts), blast radius (measure.ts), the
 * executor with its undo journal (execute.ts), revert (revert.ts), the approval queue
 * (approvals.ts), confirmations and journal maintenance. See INTEGRATION.md for the wiring.
 *
 * WriteState bundles one WriteDatabase per writable database with the ApprovalService and the
 * cross-database lookups the admin API and the CLI need (an undo id or approval id does not say
 * which database holds it). It is also what the gateway core gets as its WritesPort
 * (src/core/ports.ts: writer(), approvals.create/pendingFor, end), wired in src/app/runtime.ts.
 */
import type { Config } from '../../config/schema.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { ApprovalService, type ApprovalHooks, type ApprovalServiceOptions } from './approvals.js';
import { getJournalEntry, purgeJournal } from './journal.js';
import { revertWrite, type RevertOptions, type RevertResult } from './revert.js';
import { ensureWriteSchema } from './schema.js';
import { WriteDatabase } from './session.js';
import { DatabaseWriter } from './writer.js';

export * from './approvals.js';
export * from './confirmations.js';
export * from './execute.js';
export * from './journal.js';
export * from './measure.js';
export * from './revert.js';
export * from './schema.js';
export * from './session.js';
export * from './writer.js';

/** Databases some policy may write to (mode read-write). */
export function writableDatabases(config: Pick<Config, 'policies'>): string[] {
  const out = new Set<string>();
  for (const policy of Object.values(config.policies)) {
    for (const [db, p] of Object.entries(policy.databases)) if (p.mode === 'read-write') out.add(db);
  }
  return [...out].sort();
}

export interface WriteStateOptions extends ApprovalServiceOptions {
  hooks?: ApprovalHooks;
  /** Which databases to manage. Default: writableDatabases(config). */
  databases?: readonly string[];
}

export class WriteState {
  readonly databases: ReadonlyMap<string, WriteDatabase>;
  readonly approvals: ApprovalService;
  private readonly writers: ReadonlyMap<string, DatabaseWriter>;
  readonly retentionDays: number;
  private timer: NodeJS.Timeout | undefined;

  constructor(databases: readonly WriteDatabase[], options: WriteStateOptions & { retentionDays?: number } = {}) {
    this.databases = new Map(databases.map((d) => [d.name, d]));
    this.writers = new Map(databases.map((d) => [d.name, new DatabaseWriter(d)]));
    this.approvals = new ApprovalService(this.databases, options.hooks, options);
    this.retentionDays = options.retentionDays ?? 30;
  }

  /** One WriteDatabase (own small pool) per writable database of the config. */
  static fromConfig(config: Pick<Config, 'databases' | 'policies' | 'journal'>, options: WriteStateOptions = {}): WriteState {
    const names = options.databases ?? writableDatabases(config);
    const dbs: WriteDatabase[] = [];
    for (const name of names) {
      const cfg = config.databases[name];
      if (cfg === undefined) continue;
      dbs.push(WriteDatabase.fromConfig(name, cfg, { schema: config.journal.schema }));
    }
    return new WriteState(dbs, { ...options, retentionDays: config.journal.retention_days });
  }

  database(name: string): WriteDatabase | undefined {
    return this.databases.get(name);
  }

  /** The write side of one database as the gateway core drives it (its WritesPort). */
  writer(name: string): DatabaseWriter | undefined {
    return this.writers.get(name);
  }

  /** ensureWriteSchema in every database (idempotent; run at start-up). */
  async ensureSchemas(): Promise<void> {
    for (const db of this.databases.values()) await ensureWriteSchema(db);
  }

  /** The database whose journal holds this undo id. */
  async locateUndo(undoId: string): Promise<WriteDatabase | undefined> {
    for (const db of this.databases.values()) {
      if ((await getJournalEntry(db, undoId)) !== undefined) return db;
    }
    return undefined;
  }

  /** Revert by undo id in whichever database holds it (operators: admin API, CLI). */
  async revert(undoId: string, options: RevertOptions): Promise<RevertResult & { database: string }> {
    const db = await this.locateUndo(undoId);
    if (db === undefined) throw new GatewayError('UNDO_NOT_FOUND', undefined, { decision: 'block' });
    return { ...(await revertWrite(db, undoId, options)), database: db.name };
  }

  /** Sweep approvals and purge the journal past retention, in every database. */
  async maintain(): Promise<{ expired: number; interrupted: number; purged: number }> {
    const sweep = await this.approvals.sweep();
    let purged = 0;
    for (const db of this.databases.values()) purged += (await purgeJournal(db, this.retentionDays)).journal;
    return { ...sweep, purged };
  }

  /** Run maintain() every intervalMs (unref'd); errors go to onError. */
  startMaintenance(intervalMs = 60_000, onError: (err: unknown) => void = () => undefined): void {
    this.stopMaintenance();
    this.timer = setInterval(() => {
      this.maintain().catch(onError);
    }, intervalMs);
    this.timer.unref();
  }

  stopMaintenance(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  async end(): Promise<void> {
    this.stopMaintenance();
    await Promise.allSettled([...this.databases.values()].map((d) => d.end()));
  }
}
