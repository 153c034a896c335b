/**
 * CappedQuery: one statement over the extended protocol with a row limit at the protocol level,
 * in ONE round trip: Parse, Bind, Describe(portal), Execute(portal, max_rows + 1), Sync are
 * written together (the socket corked: one write), and the server answers with at most
 * max_rows + 1 DataRows followed by PortalSuspended (more rows existed) or CommandComplete.
 *
 * Optionally trusted statements run before (the hardening: BEGIN READ ONLY, SET LOCAL …) and
 * after (ROLLBACK) it in the SAME pipeline, before the one Sync. This is safe by the protocol's
 * error rule: after an error the server discards every message up to Sync, so if any hardening
 * statement fails, the agent's statement is never executed (fail closed), and if the agent's
 * statement fails, the ROLLBACK is skipped and the transaction is left aborted for the caller to
 * roll back (`failedAt` tells which part failed).
 *
 * Guarantees: the statement text is sent as a single Parse message, so the server refuses a
 * second statement in it; no more than `limit` rows cross the wire; the statement's text is never
 * rewritten (no LIMIT is added). Does not: cap the size of a single row (the byte cap is applied
 * to the rows received, see read.ts), or page through further rows (pg-cursor's job, which costs
 * an extra round trip per fetch and to close the portal).
 *
 * pg's `Submittable` interface (submit + handle* callbacks) is the supported extension point
 * used by pg-cursor and pg-query-stream; Result and prepareValue are pg's own helpers.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type pg from 'pg';

const require = createRequire(import.meta.url);

interface PgResult {
  fields: { name: string; dataTypeID: number }[];
  addFields(fields: unknown[]): void;
  parseRow(fields: unknown[]): unknown[];
  _getTypeParser?: unknown;
}
type ResultCtor = new (rowMode: string, types?: unknown) => PgResult;
// Deep requires of pg internals (as pg-cursor does); typed locally.
const Result = require('pg/lib/result.js') as ResultCtor;
const { prepareValue } = require('pg/lib/utils.js') as { prepareValue: (v: unknown) => unknown };

/** The protocol-level subset of pg's Connection that a submittable drives. */
interface Connection {
  parse(msg: { text: string }, more: boolean): void;
  bind(msg: { values: unknown[] | null }, more: boolean): void;
  describe(msg: { type: 'P'; name: string }, more: boolean): void;
  execute(msg: { portal: string; rows: number }, more: boolean): void;
  sync(): void;
  sendCopyFail(message: string): void;
  /** The socket (absent or without cork on exotic streams, as pg itself allows). */
  stream?: { cork?(): void; uncork?(): void };
}

export interface CappedQueryResult {
  fields: { name: string; dataTypeID: number }[];
  rows: unknown[][];
  /** The server suspended the portal: more rows than `limit` existed. */
  suspended: boolean;
}

export interface CappedQueryOptions {
  /** Trusted statements executed before the statement, in the same pipeline (no parameters). */
  before?: readonly string[];
  /** Trusted statements executed after it (skipped by the server if anything failed). */
  after?: readonly string[];
  /** pg type parsers (e.g. results as JSON-safe text). */
  types?: unknown;
}

/** Which part of the pipeline an error came from. */
export type PipelinePart = 'before' | 'statement' | 'after';

export class CappedQuery extends EventEmitter implements pg.Submittable {
  readonly text: string;
  private readonly values: unknown[] | null;
  private readonly limit: number;
  private readonly result: PgResult;
  private readonly rows: unknown[][] = [];
  private suspended = false;
  private error: Error | undefined;
  private readonly before: readonly string[];
  private readonly after: readonly string[];
  /** Statements of the pipeline completed so far (before…, statement, after…). */
  private completed = 0;
  /** Whether any message came back from the server (a dead connection answers nothing). */
  receivedAny = false;
  /** Set on error: which part failed. */
  failedAt: PipelinePart | undefined;
  private settle!: { resolve: (r: CappedQueryResult) => void; reject: (e: Error) => void };
  /** Resolves when the server is ready again (after Sync), with the rows or the error. */
  readonly done: Promise<CappedQueryResult>;

  constructor(text: string, values: readonly unknown[] | undefined, limit: number, options: CappedQueryOptions = {}) {
    super();
    const types = options.types;
    this.before = options.before ?? [];
    this.after = options.after ?? [];
    this.text = text;
    this.values = values === undefined ? null : values.map(prepareValue);
    this.limit = Math.max(1, Math.floor(limit));
    this.result = new Result('array', types);
    if (types !== undefined) this.result._getTypeParser = (types as { getTypeParser: unknown }).getTypeParser;
    this.done = new Promise<CappedQueryResult>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A rejection nobody awaited yet must not crash the process (pg may report errors early).
    this.done.catch(() => undefined);
  }

  submit(connection: unknown): void {
    const con = connection as Connection;
    // pg writes every protocol message to the socket on its own (one syscall and, with
    // TCP_NODELAY, one packet each: ~26 for a hardened read). Corked, the whole pipeline leaves
    // in one writev and reaches the server as one packet (pg's own Query corks the same way).
    // uncork in finally: a throw must not leave the connection's socket corked.
    const stream = con.stream;
    stream?.cork?.();
    try {
      const trusted = (text: string): void => {
        con.parse({ text }, true);
        con.bind({ values: null }, true);
        con.execute({ portal: '', rows: 0 }, true);
      };
      for (const text of this.before) trusted(text);
      con.parse({ text: this.text }, true);
      con.bind({ values: this.values }, true);
      con.describe({ type: 'P', name: '' }, true);
      con.execute({ portal: '', rows: this.limit }, true);
      for (const text of this.after) trusted(text);
      con.sync();
    } finally {
      stream?.uncork?.();
    }
  }

  /** Index of the agent's statement among the pipeline's statements. */
  private get statementIndex(): number {
    return this.before.length;
  }

  private part(): PipelinePart {
    if (this.completed < this.statementIndex) return 'before';
    return this.completed === this.statementIndex ? 'statement' : 'after';
  }

  handleRowDescription(msg: { fields: unknown[] }): void {
    this.receivedAny = true;
    // Only the agent's portal is described.
    this.result.addFields(msg.fields);
  }

  handleDataRow(msg: { fields: unknown[] }): void {
    this.receivedAny = true;
    // Rows of trusted statements (set_config) are not the agent's result.
    if (this.part() === 'statement') this.rows.push(this.result.parseRow(msg.fields));
  }

  handlePortalSuspended(): void {
    this.receivedAny = true;
    // Only the agent's statement runs with a row limit.
    this.suspended = true;
    this.completed += 1;
  }

  handleCommandComplete(): void {
    this.receivedAny = true;
    this.completed += 1;
  }

  handleEmptyQuery(): void {
    this.receivedAny = true;
    this.completed += 1;
  }

  handleError(err: Error): void {
    if (this.error === undefined) this.failedAt = this.part();
    this.error ??= err;
    // The server discards messages up to our Sync and then sends ReadyForQuery; if the
    // connection itself died there is no ReadyForQuery, so settle now as well.
    this.settle.reject(err);
  }

  handleReadyForQuery(): void {
    this.receivedAny = true;
    if (this.error !== undefined) this.settle.reject(this.error);
    else this.settle.resolve({ fields: this.result.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID })), rows: this.rows, suspended: this.suspended });
  }

  handleCopyInResponse(connection: unknown): void {
    (connection as Connection).sendCopyFail('COPY is not supported by pgwarden');
  }

  handleCopyData(): void {
    // never requested
  }
}
