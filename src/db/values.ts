/**
 * Result values → JSON-safe values, and type OIDs → type names.
 *
 * Decisions (documented in the result contract):
 * - int8 (bigint): a JSON number when it is a safe integer (|v| ≤ 2^53−1), else its exact decimal
 *   string. numeric: always a string (exact; no float rounding).
 * - date, time, timestamp, timestamptz, interval: PostgreSQL's own text (ISO DateStyle as the
 *   session has it), full precision; never re-interpreted in the gateway's time zone.
 * - bytea: "\x…" hex text. float NaN/±Infinity: the strings "NaN", "Infinity", "-Infinity".
 * - json/jsonb: parsed, as is. Arrays: element-wise with the same rules.
 * Guarantees: every value returned by toJsonValue survives JSON.stringify unchanged in meaning.
 */
import './pg-load.js'; // before pg: loads it without its Cloudflare probe (issue #13, start-up)
import pg from 'pg';

type Parser = (value: string) => unknown;

function int8(value: string): number | string {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : value;
}

const identity: Parser = (v) => v;
const textArray = pg.types.getTypeParser(1009 as number, 'text') as Parser;

const TEXT_OVERRIDES = new Map<number, Parser>([
  [20, int8],
  [1082, identity], // date
  [1083, identity], // time
  [1114, identity], // timestamp
  [1184, identity], // timestamptz
  [1266, identity], // timetz
  [1186, identity], // interval
  [1016, (v) => (textArray(v) as unknown[]).map((e) => (typeof e === 'string' ? int8(e) : e))], // int8[]
  [1182, textArray], // date[]
  [1183, textArray], // time[]
  [1115, textArray], // timestamp[]
  [1185, textArray], // timestamptz[]
  [1270, textArray], // timetz[]
  [1187, textArray], // interval[]
]);

/** Per-query type parsers (pg's `types` option): our overrides, then pg's defaults. */
export const resultTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): Parser {
    if (format !== 'binary') {
      const override = TEXT_OVERRIDES.get(oid);
      if (override !== undefined) return override;
    }
    return pg.types.getTypeParser(oid as number, format ?? 'text') as Parser;
  },
};

/** Make one parsed value JSON-safe (see the module header). */
export function toJsonValue(value: unknown): unknown {
  if (value === null || value === undefined) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (Number.isFinite(value)) return value;
      return Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity';
    case 'bigint':
      return Number.isSafeInteger(Number(value)) ? Number(value) : value.toString();
    case 'object':
      break;
    default:
      return String(value);
  }
  if (Buffer.isBuffer(value)) return '\\x' + value.toString('hex');
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Array.isArray(value)) return value.map(toJsonValue);
  const withToPostgres = value as { toPostgres?: unknown };
  if (typeof withToPostgres.toPostgres === 'function') {
    // e.g. postgres-interval objects
    return String((withToPostgres.toPostgres as () => unknown).call(value));
  }
  return value; // parsed json/jsonb, point {x,y}, circle {x,y,radius}
}

/** Built-in type names as format_type() spells them (the common ones; others are looked up). */
export const BUILTIN_TYPE_NAMES: ReadonlyMap<number, string> = new Map<number, string>([
  [16, 'boolean'],
  [17, 'bytea'],
  [18, '"char"'],
  [19, 'name'],
  [20, 'bigint'],
  [21, 'smallint'],
  [23, 'integer'],
  [24, 'regproc'],
  [25, 'text'],
  [26, 'oid'],
  [114, 'json'],
  [142, 'xml'],
  [600, 'point'],
  [650, 'cidr'],
  [700, 'real'],
  [701, 'double precision'],
  [705, 'unknown'],
  [718, 'circle'],
  [790, 'money'],
  [829, 'macaddr'],
  [869, 'inet'],
  [1000, 'boolean[]'],
  [1001, 'bytea[]'],
  [1005, 'smallint[]'],
  [1007, 'integer[]'],
  [1009, 'text[]'],
  [1014, 'character[]'],
  [1015, 'character varying[]'],
  [1016, 'bigint[]'],
  [1021, 'real[]'],
  [1022, 'double precision[]'],
  [1042, 'character'],
  [1043, 'character varying'],
  [1082, 'date'],
  [1083, 'time without time zone'],
  [1114, 'timestamp without time zone'],
  [1115, 'timestamp without time zone[]'],
  [1182, 'date[]'],
  [1184, 'timestamp with time zone'],
  [1185, 'timestamp with time zone[]'],
  [1186, 'interval'],
  [1231, 'numeric[]'],
  [1266, 'time with time zone'],
  [1560, 'bit'],
  [1562, 'bit varying'],
  [1700, 'numeric'],
  [2205, 'regclass'],
  [2206, 'regtype'],
  [2249, 'record'],
  [2278, 'void'],
  [2950, 'uuid'],
  [2951, 'uuid[]'],
  [3614, 'tsvector'],
  [3615, 'tsquery'],
  [3802, 'jsonb'],
  [3807, 'jsonb[]'],
  [199, 'json[]'],
  [3904, 'int4range'],
  [3906, 'numrange'],
  [3908, 'tsrange'],
  [3910, 'tstzrange'],
  [3912, 'daterange'],
  [3926, 'int8range'],
]);
