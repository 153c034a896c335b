/**
 * CappedQuery: one statement over the extended protocol with a row limit at the protocol level,
 * in ONE round trip: Parse, Bind, Describe(portal), Execute(portal, max_rows + 1), Sync are
 * written together (serialized by pg's own pg-protocol into one buffer: one write), and the server answers with at most
 * max_rows + 1 DataRows followed by PortalSuspended (more rows existed) or CommandComplete.
 *
 * Optionally trusted statements run before (the hardening: BEGIN READ ONLY, the settings) and
 * after (ROLLBACK) it in the SAME pipeline, before the one Sync; a trusted statement may be kept
 * prepared per connection (PreparedStep) so the server does not parse and plan it on every call.
 * This is safe by the protocol's
 * error rule: after an error the server discards every message up to Sync, so if any hardening
 * statement fails, the agent's statement is never executed (fail closed), and if the agent's
 * statement fails, the ROLLBACK is skipped and the transaction is left aborted for the caller to
 * roll back (`failedAt` tells which part failed).
 *
 * Guarantees: the statement text is sent as a single Parse message, so the server refuses a
 * second statement in it; no more than `limit` rows cross the wire; the statement's text is never
 * rewritten (no LIMIT is added). With `maxRowBytes`, the rows are also bounded in bytes as they
 * arrive: a WireMeter reads each message's length from its header, before pg buffers the body,
 * so a row that would pass the cap (even one huge field) is never buffered or decoded, and an
 * error or notice over MAX_OTHER_MESSAGE_BYTES neither; each row is charged to a gateway-wide
 * budget lease first (budget.ts), and the socket is paused while the charge waits. Stopping
 * leaves the connection mid-message: the caller cancels and destroys it (onStop).
 * Does not: page through further rows (pg-cursor's job, which costs an extra round trip per
 * fetch and to close the portal).
 *
 * pg's `Submittable` interface (submit + handle* callbacks) is the supported extension point
 * used by pg-cursor and pg-query-stream; prepareValue is pg's own helper. Rows are parsed here
 * (one type parser per column, picked once per RowDescription), not through pg's Result, which
 * builds a keyed row template per read that an array-mode result never uses.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import './pg-load.js'; // before pg: loads it without its Cloudflare probe (issue #13, start-up)
import pg from 'pg';
import { WireMeter } from './wire-meter.js';

const require = createRequire(import.meta.url);
// A deep require of pg internals (as pg-cursor does); typed locally.
const { prepareValue } = require('pg/lib/utils.js') as { prepareValue: (v: unknown) => unknown };
// pg's own protocol serializer (the pg-protocol that pg itself loads): the pipeline is serialized
// with the same functions pg's Connection calls, into one buffer written once.
const { serialize } = createRequire(require.resolve('pg'))('pg-protocol') as { serialize: Serializer };

/** The subset of pg-protocol's serializer the pipeline uses (the messages pg's Connection sends). */
interface Serializer {
  parse(msg: { text: string; name?: string }): Buffer;
  bind(msg: { values: readonly unknown[] | null; statement?: string }): Buffer;
  close(msg: { type: 'S'; name: string }): Buffer;
  describe(msg: { type: 'P'; name: string }): Buffer;
  execute(msg: { portal: string; rows: number }): Buffer;
  sync(): Buffer;
}

const SYNC = serialize.sync();
const EXECUTE_ALL = serialize.execute({ portal: '', rows: 0 });
const DESCRIBE_PORTAL = serialize.describe({ type: 'P', name: '' });
/** Bind + Execute of a prepared trusted step: its values never change (PreparedStep is read-only), so serialized once per step object. */
const boundSteps = new WeakMap<PreparedStep, Buffer>();

type TypeParser = (value: string) => unknown;
/** pg's `types` option: the parser of a type OID in a format. */
interface TypeParsers { getTypeParser(oid: number, format?: 'text' | 'binary'): TypeParser }
/** What pg-protocol hands us per column of a RowDescription. */
type FieldDescription = { name: string; dataTypeID: number };

/** The protocol-level subset of pg's Connection that a submittable drives. */
interface Connection {
  /** pg's write of serialized messages (each of its parse/bind/… methods is `_send(serialize.…)`); it skips a stream that is no longer writable. */
  _send(buffer: Buffer): unknown;
  sendCopyFail(message: string): void;
  /** The socket (the byte meter listens on it; absent on exotic streams, as pg itself allows). */
  stream?: MeteredStream;
}

/** What the byte meter needs of the socket. */
interface MeteredStream {
  prependListener?(event: 'data', listener: (chunk: Buffer) => void): unknown;
  removeListener?(event: 'data', listener: (chunk: Buffer) => void): unknown;
  pause?(): unknown;
  resume?(): unknown;
}

/** Why a query stopped reading before the server finished: see CappedQueryOptions.onStop. */
export type StopReason = 'bytes' | 'budget' | 'message';

/** Largest server message other than a DataRow that is read (a RowDescription of 1,664 long names is ~140 KB). */
export const MAX_OTHER_MESSAGE_BYTES = 1024 * 1024;

const DATA_ROW = 0x44; // 'D'
const BIND_COMPLETE = 0x32; // '2'

export interface CappedQueryResult {
  fields: { name: string; dataTypeID: number }[];
  rows: unknown[][];
  /** The server suspended the portal: more rows than `limit` existed. */
  suspended: boolean;
  /** Set when the query stopped reading early (the rows are those received before). */
  stopped?: StopReason;
}

/**
 * A trusted statement kept prepared on each connection under `name`, run with text parameters.
 * Parsed (after a Close of the name, which is no error when it does not exist) the first time a
 * connection runs it, and only bound and executed after that: no parse or plan per call.
 * With `name` '' it is the unnamed statement: parsed every time (for connection poolers that do
 * not keep named statements). Immutable once used: its Bind is serialized once per step object.
 */
export interface PreparedStep {
  name: string;
  text: string;
  values: readonly string[];
}

/** A trusted statement of the pipeline: plain text (parsed each time, no parameters) or prepared. */
export type TrustedStep = string | PreparedStep;

/**
 * Named statements known to be prepared, per pg connection (name → text). An entry is added only
 * after a pipeline got past its trusted prefix (so the Parse surely succeeded) and removed when a
 * trusted step failed (the statement may be missing: the next use parses it again). Believing a
 * statement exists when it does not costs one failed read — fail closed, the Bind fails and the
 * server skips the rest — never a statement run without its hardening.
 */
const preparedOn = new WeakMap<object, Map<string, string>>();

export interface CappedQueryOptions {
  /** Trusted statements executed before the statement, in the same pipeline. */
  before?: readonly TrustedStep[];
  /** Trusted statements executed after it (skipped by the server if anything failed). */
  after?: readonly TrustedStep[];
  /** pg type parsers (e.g. results as JSON-safe text); pg's global ones by default. */
  types?: TypeParsers;
  /**
   * Bytes of DataRow messages (their size on the wire) read at most. A row whose header says it
   * would go past this is never read: the query stops ('bytes').
   */
  maxRowBytes?: number;
  /** Charged each DataRow's size before it is read; when it must wait, the socket is paused. */
  lease?: { charge(bytes: number): boolean; wait(): Promise<boolean> };
  /**
   * Called once when the query stops reading early: 'bytes' (maxRowBytes), 'budget' (the lease
   * could not be granted in time), 'message' (another server message over
   * MAX_OTHER_MESSAGE_BYTES, e.g. an error quoting a huge value). The caller must cancel the
   * statement and destroy the connection (its socket is left paused mid-message); `done`
   * resolves with the rows received before, and `stopped`.
   */
  onStop?: (why: StopReason) => void;
  /**
   * The statement as a named prepared statement of the connection's statement cache
   * (statement-cache.ts): `close` names are closed at the head of the pipeline (before any
   * trusted step: nothing before them can fail, so the server always runs them), then the
   * statement is parsed under `name` when `parse`, and bound from `name`. Without it, or with
   * `name` '', the unnamed statement (parsed every time).
   */
  statement?: { name: string; parse: boolean; close: readonly string[] };
}

/** Which part of the pipeline an error came from. */
export type PipelinePart = 'before' | 'statement' | 'after';

export class CappedQuery extends EventEmitter implements pg.Submittable {
  readonly text: string;
  private readonly values: unknown[] | null;
  private readonly limit: number;
  private readonly types: TypeParsers;
  /** The described portal's columns and one value parser per column (no pg Result object per read). */
  private fields: FieldDescription[] = [];
  private parsers: TypeParser[] = [];
  private readonly rows: unknown[][] = [];
  private suspended = false;
  private error: Error | undefined;
  private readonly before: readonly TrustedStep[];
  private readonly after: readonly TrustedStep[];
  /** The connection's prepared-statement record, and what this pipeline parses into it. */
  private prepared: Map<string, string> | undefined;
  private readonly parsing: PreparedStep[] = [];
  /** Statements of the pipeline completed so far (before…, statement, after…). */
  private completed = 0;
  /** Whether any message came back from the server (a dead connection answers nothing). */
  receivedAny = false;
  /** Set on error: which part failed. */
  failedAt: PipelinePart | undefined;
  private settle!: { resolve: (r: CappedQueryResult) => void; reject: (e: Error) => void };
  /** Resolves when the server is ready again (after Sync), with the rows or the error. */
  readonly done: Promise<CappedQueryResult>;
  private readonly maxRowBytes: number;
  private readonly lease: CappedQueryOptions['lease'];
  private readonly onStop: CappedQueryOptions['onStop'];
  private readonly statement: CappedQueryOptions['statement'];
  private rowBytes = 0;
  /** BindComplete messages seen by the meter (every trusted step binds once, then the statement). */
  private bindsCompleted = 0;
  private metered = false;
  /** DataRows let through by the meter, and DataRows pg has parsed (both count every statement's). */
  private rowsMetered = 0;
  private rowsParsed = 0;
  private stopped: StopReason | undefined;
  private detach: (() => void) | undefined;

  constructor(text: string, values: readonly unknown[] | undefined, limit: number, options: CappedQueryOptions = {}) {
    super();
    const types = options.types;
    this.before = options.before ?? [];
    this.after = options.after ?? [];
    this.text = text;
    this.values = values === undefined ? null : values.map(prepareValue);
    this.limit = Math.max(1, Math.floor(limit));
    this.maxRowBytes = options.maxRowBytes ?? Number.POSITIVE_INFINITY;
    this.lease = options.lease;
    this.onStop = options.onStop;
    this.statement = options.statement;
    this.types = (types as TypeParsers | undefined) ?? (pg.types as unknown as TypeParsers);
    this.done = new Promise<CappedQueryResult>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // A rejection nobody awaited yet must not crash the process (pg may report errors early).
    this.done.catch(() => undefined);
  }

  submit(connection: unknown): void {
    const con = connection as Connection;
    let prepared = preparedOn.get(con);
    if (prepared === undefined) {
      prepared = new Map();
      preparedOn.set(con, prepared);
    }
    this.prepared = prepared;
    const stream = con.stream;
    this.meter(stream);
    // pg writes every protocol message to the socket on its own (one syscall and, with
    // TCP_NODELAY, one packet each: ~26 for a hardened read). The pipeline is serialized with pg's
    // own serializer into one buffer and handed to pg's send once: one write, one packet, no
    // per-message stream bookkeeping; the constant messages (Sync, Execute, a prepared step's
    // Bind) are serialized once.
    con._send(this.pipeline(prepared));
  }

  /** The whole pipeline (trusted steps, the statement, Sync) as one buffer of protocol messages. */
  private pipeline(known: Map<string, string>): Buffer {
    const parts: Buffer[] = [];
    const trusted = (step: TrustedStep): void => {
      if (typeof step === 'string') {
        parts.push(serialize.parse({ text: step }), serialize.bind({ values: null }), EXECUTE_ALL);
      } else if (step.name === '') {
        parts.push(serialize.parse({ text: step.text }), serialize.bind({ values: step.values }), EXECUTE_ALL);
      } else {
        if (known.get(step.name) !== step.text) {
          parts.push(serialize.close({ type: 'S', name: step.name }), serialize.parse({ name: step.name, text: step.text }));
          this.parsing.push(step);
        }
        let bound = boundSteps.get(step);
        if (bound === undefined) {
          bound = Buffer.concat([serialize.bind({ statement: step.name, values: step.values }), EXECUTE_ALL]);
          boundSteps.set(step, bound);
        }
        parts.push(bound);
      }
    };
    const named = this.statement;
    if (named !== undefined) for (const name of named.close) parts.push(serialize.close({ type: 'S', name }));
    for (const step of this.before) trusted(step);
    if (named === undefined || named.name === '') parts.push(serialize.parse({ text: this.text }), serialize.bind({ values: this.values }));
    else {
      // Closed first, like a trusted step: a first use never meets a statement of its name
      // (behind a proxy that shares server connections between ours, one of them may have
      // prepared it; a name is a digest of owner and text, statement-cache.ts).
      if (named.parse) parts.push(serialize.close({ type: 'S', name: named.name }), serialize.parse({ name: named.name, text: this.text }));
      parts.push(serialize.bind({ statement: named.name, values: this.values }));
    }
    parts.push(DESCRIBE_PORTAL, serialize.execute({ portal: '', rows: this.limit }));
    for (const step of this.after) trusted(step);
    parts.push(SYNC);
    return Buffer.concat(parts);
  }

  /**
   * Attach the byte meter to the socket (before the pipeline is written: the connection is idle,
   * so the next byte is a message boundary). Prepended, so it sees each chunk before pg's parser
   * buffers it; a paused socket stops both.
   */
  private meter(stream: MeteredStream | undefined): void {
    if (stream?.prependListener === undefined || stream.removeListener === undefined) return;
    const meter = new WireMeter((type, length) => this.onMessage(stream, type, length));
    const listener = (chunk: Buffer): void => meter.feed(chunk);
    stream.prependListener('data', listener);
    this.metered = true;
    this.detach = () => {
      meter.stop();
      stream.removeListener?.('data', listener);
      this.detach = undefined;
    };
  }

  /** A message header arrived: false stops metering (the query stopped). */
  private onMessage(stream: MeteredStream, type: number, length: number): boolean {
    if (this.stopped !== undefined) return false;
    if (type === BIND_COMPLETE) this.bindsCompleted += 1;
    if (type !== DATA_ROW) {
      if (length > MAX_OTHER_MESSAGE_BYTES) this.stop('message');
      return this.stopped === undefined;
    }
    if (this.rowBytes + length > this.maxRowBytes) {
      this.stop('bytes');
      return false;
    }
    this.rowBytes += length;
    this.rowsMetered += 1;
    const lease = this.lease;
    if (lease === undefined || lease.charge(length)) return true;
    // Out of budget: read nothing more until it is granted (the server blocks on send).
    stream.pause?.();
    void lease.wait().then((granted) => {
      if (this.stopped !== undefined) return;
      if (granted) stream.resume?.();
      else this.stop('budget');
    });
    return true;
  }

  /**
   * Stop reading: the caller cancels and destroys the connection; resolve with the rows metered
   * before the stop. The meter sees a chunk before pg's parser does, so rows of the same chunk
   * are still to be parsed: they are kept (up to the last metered one) and `done` resolves once
   * the chunk has been handled (a microtask later).
   */
  private stop(why: StopReason): void {
    if (this.stopped !== undefined) return;
    this.stopped = why;
    this.detach?.();
    try {
      this.onStop?.(why);
    } finally {
      queueMicrotask(() => this.settle.resolve({ fields: this.fieldsOut(), rows: this.rows, suspended: false, stopped: why }));
    }
  }

  private fieldsOut(): CappedQueryResult['fields'] {
    return this.fields.map((f) => ({ name: f.name, dataTypeID: f.dataTypeID }));
  }

  /** After the pipeline: record which named statements now exist on the connection. */
  private notePrepared(): void {
    const known = this.prepared;
    if (known === undefined) return;
    if (this.error !== undefined && this.failedAt === 'before') {
      // A trusted step failed: its statement may be missing (or was never parsed). Parse again next time.
      for (const step of [...this.before, ...this.after]) if (typeof step !== 'string') known.delete(step.name);
      return;
    }
    // The trusted prefix completed, so its Parses succeeded (those after the statement are only
    // recorded when they ran: no error at all).
    for (const step of this.parsing) {
      if (this.error === undefined || this.before.includes(step)) known.set(step.name, step.text);
    }
  }

  /**
   * Whether the server answered the agent statement's Bind (BindComplete): an error after it is
   * the statement's own outcome (it ran). Unknown (no meter): true, fail closed (no retry).
   */
  get statementBound(): boolean {
    return !this.metered || this.bindsCompleted > this.before.length;
  }

  /** Index of the agent's statement among the pipeline's statements. */
  private get statementIndex(): number {
    return this.before.length;
  }

  private part(): PipelinePart {
    if (this.completed < this.statementIndex) return 'before';
    return this.completed === this.statementIndex ? 'statement' : 'after';
  }

  handleRowDescription(msg: { fields: FieldDescription[] }): void {
    this.receivedAny = true;
    // Only the agent's portal is described; its Bind asks for text results (no result formats).
    this.fields = msg.fields;
    this.parsers = msg.fields.map((f) => this.types.getTypeParser(f.dataTypeID, 'text'));
  }

  /** One DataRow's values (text, or null for SQL NULL), parsed per column. */
  private parseRow(values: readonly (string | null)[]): unknown[] {
    const row = new Array<unknown>(values.length);
    for (let i = 0; i < values.length; i++) {
      const raw = values[i];
      const parse = this.parsers[i];
      if (parse === undefined) throw new Error('A row has more values than its description has columns.');
      row[i] = raw === null || raw === undefined ? null : parse(raw);
    }
    return row;
  }

  handleDataRow(msg: { fields: (string | null)[] }): void {
    this.receivedAny = true;
    this.rowsParsed += 1;
    // After a stop, only rows the meter let through before it (same chunk) are kept.
    if (this.stopped !== undefined && this.rowsParsed > this.rowsMetered) return;
    // Rows of trusted statements (set_config) are not the agent's result.
    if (this.part() === 'statement') this.rows.push(this.parseRow(msg.fields));
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
    this.detach?.();
    // After a stop the connection is torn down on purpose: its error is not the query's outcome.
    if (this.stopped !== undefined) return;
    const first = this.error === undefined;
    if (first) this.failedAt = this.part();
    this.error ??= err;
    // pg detaches the query on an error: its ReadyForQuery never reaches us, so what the
    // pipeline left prepared is recorded now (the server discards the rest up to Sync).
    if (first) this.notePrepared();
    // If the connection itself died there is no ReadyForQuery either: settle now.
    this.settle.reject(err);
  }

  handleReadyForQuery(): void {
    this.receivedAny = true;
    this.detach?.();
    // After a stop `done` is settled by stop() (the connection is being destroyed anyway).
    if (this.stopped !== undefined) return;
    this.notePrepared();
    if (this.error !== undefined) this.settle.reject(this.error);
    else this.settle.resolve({ fields: this.fieldsOut(), rows: this.rows, suspended: this.suspended });
  }

  handleCopyInResponse(connection: unknown): void {
    (connection as Connection).sendCopyFail('COPY is not supported by pgwarden');
  }

  handleCopyData(): void {
    // never requested
  }
}
