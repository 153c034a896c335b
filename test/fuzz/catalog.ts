/**
 * What the generator draws from, read from the live catalog of twin A (admin connection):
 * tables and their columns (exposed, denied, hidden), pg_catalog and extension functions and
 * operators whose argument types the generator can supply, every type name (reg types and their
 * arrays included), and the OIDs of objects in the hidden schemas (an attacker can guess OIDs:
 * they are handed out in order). Everything is sorted by name, so a seed gives the same statements
 * on every server whatever OIDs it hands out.
 */
import pg from 'pg';
import { withClient } from '../support/cluster.js';

/** The argument/result classes the expression generator can produce. */
export type Sort = 'int' | 'text' | 'bool' | 'num' | 'time' | 'json';

export interface Column {
  name: string;
  sort: Sort | undefined;
  masked: boolean;
}

export interface Table {
  schema: string;
  name: string;
  qualified: string;
  kind: 'table' | 'view' | 'partitioned';
  exposure: 'exposed' | 'denied' | 'hidden';
  columns: Column[];
  /** A single-column integer key, when there is one. */
  key: string | undefined;
}

export interface Func {
  schema: string;
  name: string;
  args: Sort[];
  result: Sort | undefined;
}

export interface Operator {
  schema: string;
  name: string;
  left: Sort;
  right: Sort;
  result: Sort | undefined;
}

export interface FuzzCatalog {
  tables: Table[];
  functions: Func[];
  operators: Operator[];
  types: string[];
  regTypes: string[];
  /** OIDs of objects in hidden and denied schemas. */
  hiddenOids: number[];
  /** The same by the reg type that names them (regclass, regproc, regtype, regnamespace). */
  hiddenByReg: Record<string, number[]>;
  /** The lowest and highest user OID. */
  oidRange: [number, number];
}

const SORT_OF: Record<string, Sort> = {
  int2: 'int',
  int4: 'int',
  int8: 'int',
  oid: 'int',
  text: 'text',
  varchar: 'text',
  bpchar: 'text',
  name: 'text',
  citext: 'text',
  bool: 'bool',
  numeric: 'num',
  float4: 'num',
  float8: 'num',
  timestamptz: 'time',
  timestamp: 'time',
  date: 'time',
  jsonb: 'json',
  json: 'json',
};

export function sortOfType(typname: string): Sort | undefined {
  return SORT_OF[typname];
}

export async function readCatalog(adminUrl: string, masked: ReadonlySet<string>): Promise<FuzzCatalog> {
  return await withClient(adminUrl, async (c) => {
    const rels = await c.query<{ nspname: string; relname: string; relkind: string; attname: string; typname: string; attnum: number; pk: string | null }>(
      `SELECT n.nspname, cl.relname, cl.relkind, a.attname, t.typname, a.attnum,
              (SELECT pa.attname FROM pg_index i JOIN pg_attribute pa ON pa.attrelid = i.indrelid AND pa.attnum = i.indkey[0]
                WHERE i.indrelid = cl.oid AND i.indisprimary AND i.indnatts = 1) AS pk
         FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
         JOIN pg_attribute a ON a.attrelid = cl.oid AND a.attnum > 0 AND NOT a.attisdropped
         JOIN pg_type t ON t.oid = a.atttypid
        WHERE n.nspname IN ('app', 'internal', 'vault') AND cl.relkind IN ('r', 'v', 'p')
        ORDER BY n.nspname, cl.relname, a.attnum`,
    );
    const tables = new Map<string, Table>();
    for (const r of rels.rows) {
      const q = `${r.nspname}.${r.relname}`;
      let t = tables.get(q);
      if (!t) {
        t = {
          schema: r.nspname,
          name: r.relname,
          qualified: q,
          kind: r.relkind === 'v' ? 'view' : r.relkind === 'p' ? 'partitioned' : 'table',
          exposure: r.nspname === 'app' ? 'exposed' : r.nspname === 'internal' ? 'denied' : 'hidden',
          columns: [],
          key: r.pk ?? undefined,
        };
        tables.set(q, t);
      }
      t.columns.push({ name: r.attname, sort: sortOfType(r.typname), masked: masked.has(`${q}.${r.attname}`) });
    }
    const fns = await c.query<{ nspname: string; proname: string; args: string[]; ret: string }>(
      `SELECT n.nspname, p.proname, array(SELECT t.typname FROM unnest(p.proargtypes) WITH ORDINALITY u(o, i) JOIN pg_type t ON t.oid = u.o ORDER BY i)::text[] AS args,
              rt.typname AS ret
         FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace JOIN pg_type rt ON rt.oid = p.prorettype
        WHERE p.prokind = 'f' AND NOT p.proretset AND p.pronargs BETWEEN 1 AND 3 AND p.pronargdefaults = 0
          AND n.nspname IN ('pg_catalog', 'app', 'public', 'vault') AND p.proname !~ '^(pg_|_|binary_upgrade)' OR p.proname IN ('pg_typeof', 'pg_column_size')
        ORDER BY n.nspname, p.proname, p.oid`,
    );
    const functions: Func[] = [];
    for (const f of fns.rows) {
      const args = f.args.map(sortOfType);
      if (args.some((a) => a === undefined)) continue;
      functions.push({ schema: f.nspname, name: f.proname, args: args as Sort[], result: sortOfType(f.ret) });
    }
    const ops = await c.query<{ nspname: string; oprname: string; l: string; r: string; ret: string }>(
      `SELECT n.nspname, o.oprname, lt.typname AS l, rt.typname AS r, t.typname AS ret
         FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace
         JOIN pg_type lt ON lt.oid = o.oprleft JOIN pg_type rt ON rt.oid = o.oprright JOIN pg_type t ON t.oid = o.oprresult
        ORDER BY n.nspname, o.oprname, o.oid`,
    );
    const operators: Operator[] = [];
    for (const o of ops.rows) {
      const l = sortOfType(o.l);
      const r = sortOfType(o.r);
      if (l && r) operators.push({ schema: o.nspname, name: o.oprname, left: l, right: r, result: sortOfType(o.ret) });
    }
    const types = await c.query<{ name: string; reg: boolean }>(
      `SELECT format_type(t.oid, NULL) AS name, t.typname ~ '^_?reg' AS reg FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE t.typisdefined AND t.typtype IN ('b', 'e', 'd', 'r', 'm', 'c') AND n.nspname IN ('pg_catalog', 'app', 'public', 'vault', 'internal')
          AND (t.typtype <> 'c' OR n.nspname <> 'pg_catalog') AND t.typname !~ '^(pg_|_pg_)' ORDER BY 1`,
    );
    const hidden = await c.query<{ oid: number; reg: string }>(
      `SELECT oid::int, reg FROM (SELECT oid, relnamespace AS ns, 'regclass' AS reg FROM pg_class UNION ALL SELECT oid, pronamespace, 'regproc' FROM pg_proc
          UNION ALL SELECT oid, typnamespace, 'regtype' FROM pg_type UNION ALL SELECT oid, oid, 'regnamespace' FROM pg_namespace) o
        WHERE ns IN (SELECT oid FROM pg_namespace WHERE nspname IN ('vault', 'internal')) ORDER BY (SELECT relname FROM pg_class WHERE pg_class.oid = o.oid) NULLS LAST, oid`,
    );
    const range = await c.query<{ lo: number; hi: number }>(`SELECT min(oid)::int AS lo, max(oid)::int AS hi FROM pg_class WHERE oid >= 16384`);
    return {
      tables: [...tables.values()],
      functions,
      operators,
      types: types.rows.map((t) => t.name),
      // reg types in every spelling: regclass, regclass[], _regclass, pg_catalog._regclass
      regTypes: [...new Set(types.rows.filter((t) => t.reg).flatMap((t) => (t.name.endsWith('[]') ? [t.name, `_${t.name.slice(0, -2)}`, `pg_catalog._${t.name.slice(0, -2)}`] : [t.name])))],
      hiddenOids: hidden.rows.map((h) => h.oid),
      hiddenByReg: hidden.rows.reduce<Record<string, number[]>>((m, h) => ({ ...m, [h.reg]: [...(m[h.reg] ?? []), h.oid] }), {}),
      oidRange: [range.rows[0]?.lo ?? 16384, range.rows[0]?.hi ?? 17000],
    };
  });
}

export const quoteIdent = (s: string): string => (/^[a-z_][a-z0-9_]*$/.test(s) ? s : pg.escapeIdentifier(s));
