/**
 * CappedQuery: one statement over the extended protocol with a row limit at the protocol level,
 * in ONE round trip: Parse, Bind, Describe(portal), Execute(portal, max_rows + 1), Sync are
 * written together, and the server answers with at most max_rows + 1 DataRows followed by
 * PortalSuspended (more rows existed) or CommandComplete.
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
}

export interface CappedQueryResult {
  fields: { name: string; dataTypeID: number }[];
  rows: unknown[][];
  /** The server suspended the portal: more rows than `limit` existed. */
  suspended: boolean;
}

export class CappedQuery extends EventEmitter implements pg.Submittable {
  readonly text: string;
  private readonly values: unknown[] | null;
  private readonly limit: number;
  private readonly result: PgResult;
  private readonly rows: unknown[][] = [];
  private suspended = false;
  private error: Error | undefined;
  private settle!: { resolve: (r: CappedQueryResult) => void; reject: (e: Error) => void };
  /** Resolves when the server is ready again (after Sync), with the rows or the error. */
  readonly done: Promise<CappedQueryResult>;

  constructor(text: string, values: readonly unknown[] | undefined, limit: number, types?: unknown) {
    super();
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
    con.parse({ text: this.text }, true);
    con.bind({ values: this.values }, true);
    con.describe({ type: 'P', name: '' }, true);
    con.execute({ portal: '', rows: this.limit }, true);
    con.sync();
  }

  handleRowDescription(msg: { fields: unknown[] }): void {
    this.result.addFields(msg.fields);
  }

  handleDataRow(msg: { fields: unknown[] }): void {
    this.rows.push(this.result.parseRow(msg.fields));
  }

  handlePortalSuspended(): void {
    this.suspended = true;
  }

  handleCommandComplete(): void {
    // Sync was already sent: ReadyForQuery follows.
  }

  handleEmptyQuery(): void {
    // Sync was already sent: ReadyForQuery follows.
  }

  handleError(err: Error): void {
    this.error ??= err;
    // The server discards messages up to our Sync and then sends ReadyForQuery; if the
    // connection itself died there is no ReadyForQuery, so settle now as well.
    this.settle.reject(err);
  }

  handleReadyForQuery(): void {
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
