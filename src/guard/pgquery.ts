/**
 * The one door to libpg-query (the PostgreSQL parser compiled to WebAssembly): every run-time
 * import of the parser goes through this module, so wasm-tiering.ts has set V8's tiering flags
 * before the WebAssembly module is compiled (test/unit/guard/wasm-tiering.test.ts checks both the
 * door and the flags). Type-only imports of 'libpg-query' may stay direct.
 *
 * The calls are libpg-query's own (its WebAssembly build and the Emscripten module around it,
 * `libpg-query/wasm/libpg-query.js`); this file replaces the ~100 lines of its JavaScript wrapper
 * (`libpg-query/wasm/index.js`, 18.1.5) with the same calls, checks, results and errors, but
 * moves strings across the WebAssembly boundary natively (issue #13): the wrapper finds the end
 * of a result string with a JavaScript loop over every byte and encodes the input with a
 * JavaScript loop over every character, ≈ 20 µs of a cold 40-line decision (14 KB of JSON), where
 * memchr (`Buffer#indexOf` over the module's memory) and `TextEncoder.encodeInto` take ≈ 1.
 * Decoding is the wrapper's own (Emscripten's UTF8ToString: a TextDecoder for more than 16
 * bytes); input that is not well-formed UTF-16 (an unpaired surrogate, which the guard refuses
 * before parsing but other callers may pass) is encoded by Emscripten's own encoder, so the bytes
 * the parser sees never change.
 * Only one module instance exists (libpg-query's wrapper, which would instantiate a second one
 * when imported, is not loaded at run time). test/unit/guard/pgquery.test.ts compares every
 * function with libpg-query's wrapper over the corpus and hostile inputs.
 */
import './wasm-tiering.js';
import { createRequire } from 'node:module';
import type { ParseResult, ScanResult } from 'libpg-query';

export type { Node } from 'libpg-query';

/** The parts of the Emscripten module this file uses. */
interface PgQueryWasm {
  HEAPU8: Uint8Array;
  _malloc(size: number): number;
  _free(ptr: number): void;
  _wasm_parse_query_raw(ptr: number): number;
  _wasm_free_parse_result(ptr: number): void;
  _wasm_fingerprint(ptr: number): number;
  _wasm_normalize_query(ptr: number): number;
  _wasm_scan(ptr: number): number;
  _wasm_free_string(ptr: number): void;
  getValue(ptr: number, type: 'i32'): number;
  UTF8ToString(ptr: number): string;
  lengthBytesUTF8(s: string): number;
  stringToUTF8(s: string, ptr: number, max: number): number;
}

/** libpg-query's error (same shape as its SqlError: `sqlDetails` with a 0-based cursor). */
export class SqlError extends Error {
  sqlDetails: { message: string; cursorPosition: number; fileName?: string; functionName?: string; lineNumber?: number } | undefined;
  constructor(message: string, details?: SqlError['sqlDetails']) {
    super(message);
    this.name = 'SqlError';
    this.sqlDetails = details;
  }
}

const require = createRequire(import.meta.url);
const factory = require('libpg-query/wasm/libpg-query.js') as () => Promise<PgQueryWasm>;

let wasm: PgQueryWasm | undefined;
let loading: Promise<void> | undefined;

/** Instantiate the WebAssembly module once (idempotent). */
export function loadModule(): Promise<void> {
  loading ??= factory().then((m) => {
    wasm = m;
  });
  return loading;
}

/**
 * Statements whose parse compiles what a first read's parse needs (issue #13, start-up): V8
 * compiles a WebAssembly function lazily, on its first call, on the calling thread — a start's
 * first parse compiles ≈ 50 of the parser's functions, ≈ 40–80 ms of the main thread on Node 20.
 * Constants: no configuration, no agent input.
 */
const WARM_UP_STATEMENTS: readonly string[] = [
  'SELECT * FROM app.orders WHERE id = 1',
  "SELECT o.id, c.name, sum(o.total)::numeric(12,2) AS t FROM app.orders o JOIN app.customers c ON c.id = o.customer_id WHERE o.status IN ('a', 'b') AND o.created_at > now() - interval '1 day' GROUP BY 1, 2 HAVING count(*) > 1 ORDER BY t DESC NULLS LAST LIMIT 10 OFFSET 5",
  'WITH r AS (SELECT id FROM t WHERE x IS NOT NULL) SELECT count(*), coalesce(max(id), 0) FROM r LEFT JOIN u ON u.id = r.id WHERE EXISTS (SELECT 1 FROM v WHERE v.id = $1) OR r.id = ANY (ARRAY[1, 2])',
];

/**
 * Parse the fixed WARM_UP_STATEMENTS once, so that the parser functions a first read needs are
 * compiled now — `pgwarden serve` calls it as soon as the module is instantiated, while the
 * gateway loads and the database connects, not inside the first call. Only parseSync is warmed:
 * fingerprint and normalize run after a read's answer (the audit writer reads them), and
 * compiling theirs here would put it before the first answer. An optimization only: results of
 * later calls do not depend on it; a failure is swallowed (the first call then compiles, as before).
 */
export function warmUpParse(): void {
  try {
    for (const sql of WARM_UP_STATEMENTS) parseSync(sql);
  } catch {
    // the parser works or the first call reports why; the warm-up never does
  }
}

function loaded(): PgQueryWasm {
  if (wasm === undefined) throw new Error('WASM module not initialized. Call loadModule() first.');
  return wasm;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Copy `s` as NUL-terminated UTF-8 into the module's memory; the caller frees the pointer. */
function stringToPtr(m: PgQueryWasm, s: string): number {
  if (typeof s !== 'string') throw new TypeError(`Expected a string, got ${typeof s}`);
  if (!isWellFormed(s)) {
    const len = m.lengthBytesUTF8(s) + 1;
    const ptr = m._malloc(len);
    m.stringToUTF8(s, ptr, len);
    return ptr;
  }
  const len = Buffer.byteLength(s, 'utf8') + 1;
  const ptr = m._malloc(len);
  const heap = m.HEAPU8; // read after malloc: growing the memory replaces the view
  const { written } = encoder.encodeInto(s, heap.subarray(ptr, ptr + len - 1));
  heap[ptr + written] = 0;
  return ptr;
}

/** A Buffer over the module's memory (for its memchr-based indexOf), renewed when the memory grows. */
let heapBuffer: { heap: Uint8Array; buf: Buffer } | undefined;
function heapAsBuffer(heap: Uint8Array): Buffer {
  if (heapBuffer?.heap !== heap) heapBuffer = { heap, buf: Buffer.from(heap.buffer, heap.byteOffset, heap.byteLength) };
  return heapBuffer.buf;
}

/** The NUL-terminated UTF-8 string at `ptr`, decoded as Emscripten's UTF8ToString does. */
function ptrToString(m: PgQueryWasm, ptr: number): string {
  if (ptr === 0) return '';
  const heap = m.HEAPU8;
  // the NUL: Buffer#indexOf is memchr (≈ 0.3 µs for 14 KB), Uint8Array#indexOf a loop (≈ 4 µs)
  const end = heapAsBuffer(heap).indexOf(0, ptr);
  if (end === -1 || end - ptr <= 16) return m.UTF8ToString(ptr);
  return decoder.decode(heap.subarray(ptr, end));
}

/** Parse SQL into libpg-query's JSON tree; throws SqlError on a syntax error. */
export function parseSync(query: string): ParseResult {
  const m = loaded();
  if (query === null || query === undefined) throw new Error('Query cannot be null or undefined');
  if (query === '') throw new Error('Query cannot be empty');
  const queryPtr = stringToPtr(m, query);
  let resultPtr = 0;
  try {
    resultPtr = m._wasm_parse_query_raw(queryPtr);
    if (!resultPtr) throw new Error('Failed to parse query: memory allocation failed');
    const parseTreePtr = m.getValue(resultPtr, 'i32');
    const errorPtr = m.getValue(resultPtr + 8, 'i32');
    if (errorPtr) throw parseError(m, errorPtr);
    if (!parseTreePtr) throw new Error('No parse tree generated');
    return JSON.parse(ptrToString(m, parseTreePtr)) as ParseResult;
  } finally {
    m._free(queryPtr);
    if (resultPtr) m._wasm_free_parse_result(resultPtr);
  }
}

function parseError(m: PgQueryWasm, errorPtr: number): SqlError {
  const messagePtr = m.getValue(errorPtr, 'i32');
  const funcnamePtr = m.getValue(errorPtr + 4, 'i32');
  const filenamePtr = m.getValue(errorPtr + 8, 'i32');
  const lineno = m.getValue(errorPtr + 12, 'i32');
  const cursorpos = m.getValue(errorPtr + 16, 'i32');
  const message = messagePtr ? m.UTF8ToString(messagePtr) : 'Unknown error';
  return new SqlError(message, {
    message,
    cursorPosition: cursorpos > 0 ? cursorpos - 1 : 0,
    fileName: filenamePtr ? m.UTF8ToString(filenamePtr) : undefined,
    functionName: funcnamePtr ? m.UTF8ToString(funcnamePtr) : undefined,
    lineNumber: lineno > 0 ? lineno : undefined,
  } as SqlError['sqlDetails']);
}

/** A call returning a string (or an error message in its place), as libpg-query's wrapper reads it. */
function stringCall(call: (m: PgQueryWasm, ptr: number) => number, query: string): string {
  const m = loaded();
  const queryPtr = stringToPtr(m, query);
  let resultPtr = 0;
  try {
    resultPtr = call(m, queryPtr);
    const resultStr = ptrToString(m, resultPtr);
    if (resultStr.startsWith('syntax error') || resultStr.startsWith('deparse error') || resultStr.startsWith('ERROR')) {
      throw new Error(resultStr);
    }
    return resultStr;
  } finally {
    m._free(queryPtr);
    if (resultPtr) m._wasm_free_string(resultPtr);
  }
}

/** libpg-query's fingerprint (hex) of SQL text; throws on a syntax error. */
export function fingerprintSync(query: string): string {
  return stringCall((m, p) => m._wasm_fingerprint(p), query);
}

/** The text with constants replaced by $n; throws on a syntax error. */
export function normalizeSync(query: string): string {
  return stringCall((m, p) => m._wasm_normalize_query(p), query);
}

/** The scanner's tokens of SQL text; throws on a scan error. */
export function scanSync(query: string): ScanResult {
  return JSON.parse(stringCall((m, p) => m._wasm_scan(p), query)) as ScanResult;
}
