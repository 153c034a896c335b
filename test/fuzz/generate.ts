/**
 * The statement generator: seeded, reproducible, drawing from the corpora (seeds) and the live
 * catalog (test/fuzz/catalog.ts).
 *
 * - wild reads: any table (exposed, denied, hidden), any function or operator whose argument
 *   types fit, casts to every type (reg types and their arrays weighted up), whole-row references
 *   in every clause, scalar sub-selects, CTEs, LATERAL, set operations, window functions, JSON and
 *   XML constructors, secret settings; and corpus statements, plain or wrapped.
 * - green reads: what the policy must allow (exposed tables, everyday functions and operators),
 *   plus the must-allow corpus: a refusal or another result is a false positive.
 * - writes: UPDATE/DELETE/INSERT (ON CONFLICT, RETURNING) on the exposed tables with whole-row
 *   references in SET, WHERE and arguments, each followed by a read of the rows it touched.
 * Does not: know whether a statement is valid; invalid ones are refused or fail alike on both sides.
 */
import type { Column, FuzzCatalog, Sort, Table } from './catalog.js';
import { leaf, node, render, type Node, type Rng } from './tree.js';

export type CaseKind = 'read' | 'green' | 'write';

export interface FuzzCase {
  kind: CaseKind;
  tool: 'query' | 'explain' | 'check' | 'execute';
  tree: Node;
  /** Where it came from: `gen` or the corpus case id it was built on. */
  origin: string;
  /** writes: the read that shows what the write stored. */
  followUp?: string;
}

export interface Seeds {
  /** Corpus statements to replay and wrap (block, leaks, writes). */
  wild: { id: string; sql: string; tool: 'query' | 'explain' | 'check' }[];
  /** Must-allow corpus statements. */
  green: { id: string; sql: string }[];
  writes: { id: string; sql: string }[];
}

/** Functions whose output differs between two sessions whatever the data (time, identity, statistics, file nodes): noise for a differential test. */
const NOISY = /^(pg_stat_|pg_stat$|pg_backend_pid|inet_client|inet_server|pg_current_|txid_|pg_relation_file|pg_filenode|now$|statement_timestamp|transaction_timestamp|clock_timestamp|timeofday|random|gen_random|uuid_generate|pg_conf_load_time|pg_postmaster_start_time|age$|mxid_age|pg_xact|pg_snapshot|pg_visible|pg_last_|pg_is_|pg_trigger_depth|pg_my_temp|setseed|pg_sleep|pg_blocking_pids|pg_safe_snapshot|pg_isolation_test|pg_terminate|pg_cancel|pg_reload_conf|pg_rotate|pg_promote|pg_log_backend|lo_|loread|lowrite|pg_read_|pg_ls_|pg_get_wal|pg_switch_wal|pg_create_|pg_drop_|pg_replication|pg_wal_|pg_backup|pg_notification_queue|pg_jit_available|pg_get_backend)/;

/** The same, in statement text (corpus seeds): a seed calling one is not replayed differentially. */
export const NOISY_TEXT = /\b(gen_random_uuid|random|now|clock_timestamp|statement_timestamp|transaction_timestamp|timeofday|pg_backend_pid|inet_client_\w+|inet_server_\w+|txid_current\w*|pg_current_\w+|pg_stat_\w+|pg_postmaster_start_time|pg_conf_load_time|current_timestamp|localtimestamp|current_time|localtime|pg_sleep\w*|age|pg_relation_filenode|pg_relation_filepath|xmin|xmax|cmin|cmax|analyze)\b/i;

const INTS = ['0', '1', '2', '5', '7', '42', '100', '-1', '2147483647'];
const TEXTS = ["'a'", "'paid'", "'%a%'", "''", "'fz'", "'app.jwt_secret'", "'data_directory'", "'search_path'", "'customers'", "'internal.api_keys'", "'vault.tokens'", "'vault.coins'", "'^\\(2,'", "'{}'", "'1'", "'work_mem'", "'64kB'"];
const LITERALS: Record<Sort, readonly string[]> = {
  int: INTS,
  text: TEXTS,
  bool: ['true', 'false'],
  num: ['1.5', '0.0', '100'],
  time: ["timestamptz '2024-03-05 00:00:00+00'", "date '2024-04-01'"],
  json: [`'{"a": 1}'::jsonb`, `'[1, 2]'::jsonb`],
};
const SETTINGS = ['app.jwt_secret', 'data_directory', 'config_file', 'search_path', 'work_mem', 'server_version', 'hba_file', 'pgwarden.principal', 'TimeZone'];
const GREEN_FUNCS: { name: string; args: Sort[]; result: Sort; extra?: string }[] = [
  { name: 'lower', args: ['text'], result: 'text' },
  { name: 'upper', args: ['text'], result: 'text' },
  { name: 'length', args: ['text'], result: 'int' },
  { name: 'btrim', args: ['text'], result: 'text' },
  { name: 'left', args: ['text', 'int'], result: 'text' },
  { name: 'md5', args: ['text'], result: 'text' },
  { name: 'strpos', args: ['text', 'text'], result: 'int' },
  { name: 'replace', args: ['text', 'text', 'text'], result: 'text' },
  { name: 'split_part', args: ['text', 'text', 'int'], result: 'text' },
  { name: 'abs', args: ['int'], result: 'int' },
  { name: 'round', args: ['num'], result: 'num' },
  { name: 'date_trunc', args: ['text', 'time'], result: 'time', extra: "'day'" },
  { name: 'to_char', args: ['time', 'text'], result: 'text', extra: "'YYYY-MM'" },
];
const GREEN_OPS: Record<Sort, readonly string[]> = { int: ['+', '-', '*'], text: ['||'], bool: ['AND', 'OR'], num: ['+', '*'], time: [], json: [] };
const COMPARE = ['=', '<>', '<', '>=', 'LIKE', 'ILIKE'];

interface Scope {
  alias: string;
  table: Table;
}

export class Generator {
  private readonly exposed: Table[];
  private readonly writable: Table[];
  private readonly greenTables: Table[];
  private readonly funcs: FuzzCatalog['functions'];

  constructor(
    private readonly rng: Rng,
    private readonly cat: FuzzCatalog,
    private readonly seeds: Seeds,
  ) {
    this.exposed = cat.tables.filter((t) => t.exposure === 'exposed');
    this.writable = this.exposed.filter((t) => t.kind === 'table' && t.key !== undefined);
    this.greenTables = this.exposed.filter((t) => t.kind !== 'view');
    this.funcs = cat.functions.filter((f) => !NOISY.test(f.name));
  }

  next(kind: CaseKind): FuzzCase {
    if (kind === 'write') return this.write();
    if (kind === 'green') return this.green();
    return this.wild();
  }

  // ------------------------------------------------------------ wild reads

  private wild(): FuzzCase {
    const r = this.rng;
    if (this.seeds.wild.length > 0 && r.chance(0.3)) {
      const s = r.pick(this.seeds.wild);
      const seed = leaf(s.sql.trim().replace(/;\s*$/, ''));
      const isSelect = /^\s*(select|with|values|table)\b/i.test(s.sql);
      const tree = isSelect && s.tool === 'query' && r.chance(0.5) ? this.wrap(seed) : seed;
      return { kind: 'read', tool: s.tool, tree, origin: s.id };
    }
    const tool = r.weighted<'query' | 'explain' | 'check'>([[8, 'query'], [1, 'explain'], [1, 'check']]);
    return { kind: 'read', tool, tree: this.select(false, r.pick([1, 1, 2])), origin: 'gen' };
  }

  private pickTable(green: boolean): Table {
    if (green) return this.rng.pick(this.greenTables);
    return this.rng.weighted([
      [7, () => this.rng.pick(this.exposed)],
      [2, () => this.rng.pick(this.cat.tables.filter((t) => t.exposure !== 'exposed'))],
    ])();
  }

  /** SELECT e1, e2 FROM <from> [WHERE b] [GROUP BY] [ORDER BY] [LIMIT]. */
  select(green: boolean, depth: number, columns?: number): Node {
    const r = this.rng;
    const series = !green && r.chance(0.2);
    const t = series ? this.oidSeries() : this.pickTable(green);
    const scope: Scope[] = [{ alias: 't0', table: t }];
    let from: Node = leaf(series ? `${t.qualified} AS t0(x)` : `${t.qualified} t0`);
    if (!green && r.chance(0.2)) {
      const lat = node([' CROSS JOIN LATERAL (SELECT ', this.expr('text', scope, false, depth - 1), ' AS l) l']);
      from = node([from, lat], [from]);
    } else if (r.chance(0.25)) {
      const u = this.pickTable(green);
      scope.push({ alias: 't1', table: u });
      from = node([from, ` JOIN ${u.qualified} t1 ON `, this.predicate(scope, green, depth - 1)]);
    }
    const n = columns ?? 1 + r.int(2);
    const cols: Node[] = [];
    for (let i = 0; i < n; i++) {
      // over an OID series, name what each OID is (reg type casts) in the first column half the time
      const e = series && i === 0 && r.chance(0.7) ? this.castChain(scope, depth, true) : this.expr(r.pick(['int', 'text', 'text', 'bool'] as const), scope, green, depth);
      cols.push(node([e, ` AS c${i}`]));
    }
    const list = node(cols.flatMap((c, i) => (i === 0 ? [c] : [', ', c])), cols.length > 1 ? [cols[0] as Node] : []);
    const parts: (string | Node)[] = ['SELECT ', list, ' FROM ', from];
    if (!series && r.chance(0.35)) parts.push(' WHERE ', this.predicate(scope, green, depth - 1));
    if (!green && r.chance(0.15)) parts.push(' ORDER BY ', this.expr('text', scope, false, 0));
    if (!green && r.chance(0.2)) parts.push(` LIMIT ${r.pick(['1', '3', '10'])}`);
    const plain = node(parts);
    return node(parts, [node(['SELECT ', list, ' FROM ', from])].filter((x) => render(x) !== render(plain)));
  }

  /** A FROM item that enumerates OIDs around the hidden objects: generate_series(lo, hi) AS t0(x). */
  private oidSeries(): Table {
    const oids = this.cat.hiddenOids.length > 0 ? this.cat.hiddenOids : this.cat.oidRange;
    const lo = Math.min(...oids);
    const hi = Math.max(...oids);
    const start = lo + this.rng.int(Math.max(1, hi - lo));
    return { schema: 'pg_catalog', name: 'generate_series', qualified: `generate_series(${start}, ${start + 150})`, kind: 'table', exposure: 'exposed', columns: [{ name: 'x', sort: 'int', masked: false }], key: undefined };
  }

  /** Wrap a statement: sub-select, CTE, window, aggregate, set operation. */
  wrap(inner: Node): Node {
    const r = this.rng;
    const shapes: Node[] = [
      node(['SELECT * FROM (', inner, ') s'], [inner]),
      node(['WITH q AS (', inner, ') SELECT * FROM q'], [inner]),
      node(['SELECT count(*) FROM (', inner, ') s'], [inner]),
      node(['SELECT s.*, row_number() OVER () FROM (', inner, ') s'], [inner]),
      node(['SELECT to_jsonb(s)::text FROM (', inner, ') s'], [inner]),
    ];
    return r.pick(shapes);
  }

  private literal(sort: Sort, green = false): Node {
    const r = this.rng;
    if (!green && sort === 'int' && r.chance(0.15) && this.cat.hiddenOids.length > 0) return leaf(String(r.pick(this.cat.hiddenOids)));
    return leaf(r.pick(LITERALS[sort]));
  }

  private column(sort: Sort, scope: Scope[], green: boolean): Node | undefined {
    const options: { s: Scope; c: Column }[] = [];
    for (const s of scope) for (const c of s.table.columns) if (c.sort === sort && (!green || !c.masked || sort === 'text')) options.push({ s, c });
    if (options.length === 0) return undefined;
    const { s, c } = this.rng.pick(options);
    return leaf(`${s.alias}.${c.name}`);
  }

  /** An expression of `sort` over `scope`. */
  expr(sort: Sort, scope: Scope[], green: boolean, depth: number): Node {
    const r = this.rng;
    const lit = this.literal(sort, green);
    const col = this.column(sort, scope, green);
    if (depth <= 0 || r.chance(0.3)) return col !== undefined && r.chance(0.7) ? col : lit;
    const base = col ?? lit;
    const choices: [number, () => Node][] = [
      [3, () => this.call(sort, scope, green, depth)],
      [2, () => this.operator(sort, scope, green, depth)],
    ];
    if (!green) {
      if (sort === 'text') {
        choices.push([2, () => this.wholeRow(scope)]);
        choices.push([3, () => this.castChain(scope, depth)]);
        choices.push([1, () => node(['current_setting(', leaf(`'${r.pick(SETTINGS)}'`), r.pick([', true)', ')'])], [lit])]);
        choices.push([1, () => node([r.pick(['json_build_object(\'k\', ', 'jsonb_build_array(', 'xmlelement(name x, ', 'xmlforest(']), this.expr('text', scope, false, depth - 1), ')::text'], [base])]);
      }
      if (sort === 'json') choices.push([2, () => this.wholeRowJson(scope)]);
      choices.push([1, () => this.subSelect(sort, depth)]);
      choices.push([1, () => node(['CASE WHEN ', this.predicate(scope, false, depth - 1), ' THEN ', this.expr(sort, scope, false, depth - 1), ' ELSE ', base, ' END'], [base])]);
      if (sort === 'int') choices.push([1, () => node(['(count(*) OVER (PARTITION BY ', this.expr('text', scope, false, 0), '))::int'], [base])]);
    }
    return r.weighted(choices)();
  }

  private call(sort: Sort, scope: Scope[], green: boolean, depth: number): Node {
    const r = this.rng;
    const fallback = this.column(sort, scope, green) ?? this.literal(sort, green);
    if (green) {
      const fs = GREEN_FUNCS.filter((f) => f.result === sort);
      if (fs.length === 0) return fallback;
      const f = r.pick(fs);
      const args = f.args.map((a, i) => (i === 0 && f.extra !== undefined && a === 'text' ? leaf(f.extra) : i > 0 && f.extra !== undefined && a === 'text' ? leaf(f.extra) : this.expr(a, scope, true, depth - 1)));
      return node([f.name, '(', ...args.flatMap((a, i) => (i === 0 ? [a] : [', ', a])), ')'], [fallback]);
    }
    const fs = this.funcs.filter((f) => f.result === sort || (sort === 'text' && r.chance(0.3)));
    if (fs.length === 0) return fallback;
    const f = r.pick(fs);
    const args = f.args.map((a) => this.expr(a, scope, false, depth - 1));
    const name = f.schema === 'pg_catalog' && r.chance(0.7) ? f.name : `${f.schema}.${f.name}`;
    const call = node([name, '(', ...args.flatMap((a, i) => (i === 0 ? [a] : [', ', a])), ')'], args.filter((_, i) => f.args[i] === sort));
    return f.result === sort ? node([call], [fallback]) : node(['(', call, ')::text'], [fallback]);
  }

  private operator(sort: Sort, scope: Scope[], green: boolean, depth: number): Node {
    const r = this.rng;
    const fallback = this.column(sort, scope, green) ?? this.literal(sort, green);
    if (green) {
      const ops = GREEN_OPS[sort];
      if (ops.length === 0) return fallback;
      const a = this.expr(sort, scope, true, depth - 1);
      const b = this.expr(sort, scope, true, depth - 1);
      return node(['(', a, ` ${r.pick(ops)} `, b, ')'], [a, b]);
    }
    const ops = this.cat.operators.filter((o) => o.result === sort);
    if (ops.length === 0) return fallback;
    const o = r.pick(ops);
    const a = this.expr(o.left, scope, false, depth - 1);
    const b = this.expr(o.right, scope, false, depth - 1);
    const name = o.schema === 'pg_catalog' ? o.name : `OPERATOR(${o.schema}.${o.name})`;
    return node(['(', a, ` ${name} `, b, ')'], [a, b, fallback].filter((_, i) => i === 2 || (i === 0 ? o.left : o.right) === sort));
  }

  private wholeRow(scope: Scope[]): Node {
    const r = this.rng;
    if (scope.length === 0) return this.literal('text', true);
    const s = r.pick(scope);
    const ref = r.pick([`${s.alias}.*`, s.alias, `ROW(${s.alias}.*)`]);
    return leaf(r.pick([`(${ref})::text`, `row_to_json(${s.alias})::text`, `to_jsonb(${s.alias}.*)::text`, `${s.alias}::text`, `concat(${s.alias}.*)`]));
  }

  private wholeRowJson(scope: Scope[]): Node {
    if (scope.length === 0) return this.literal('json', true);
    const s = this.rng.pick(scope);
    return leaf(this.rng.pick([`to_jsonb(${s.alias})`, `row_to_json(${s.alias}.*)::jsonb`]));
  }

  /** Casts to every type, reg types and their arrays weighted up, back to text. */
  private castChain(scope: Scope[], depth: number, forceReg = false): Node {
    const r = this.rng;
    const reg = (forceReg || r.chance(0.5)) && this.cat.regTypes.length > 0;
    const type = reg ? r.pick(this.cat.regTypes) : r.pick(this.cat.types);
    // an OID of a hidden object of the kind the reg type names (regprocedure → regproc …), or any int
    const family = /reg(class|procedure|proc|type|namespace)/.exec(type)?.[0]?.replace('regprocedure', 'regproc');
    const oids = (family !== undefined ? this.cat.hiddenByReg[family] : undefined) ?? this.cat.hiddenOids;
    const src = reg ? (r.chance(0.6) && oids.length > 0 ? leaf(String(r.pick(oids))) : this.expr('int', scope, false, depth - 1)) : this.expr('text', scope, false, depth - 1);
    if (type.endsWith('[]') || /(^|\.)_/.test(type) || r.chance(0.3)) {
      const elem = type.endsWith('[]') || /(^|\.)_/.test(type) ? type : `${type}[]`;
      return node(['(ARRAY[', src, reg ? '::oid' : '', ']::', elem, ')::text'], [src].filter(() => false));
    }
    return node(['((', src, reg ? '::oid' : '', ')::', type, ')::text'], []);
  }

  private subSelect(sort: Sort, depth: number): Node {
    const t = this.pickTable(false);
    const inner = [{ alias: 's0', table: t }];
    const e = this.expr(sort, inner, false, depth - 1);
    return node(['(SELECT ', e, ` FROM ${t.qualified} s0 LIMIT 1)`], [this.literal(sort)]);
  }

  predicate(scope: Scope[], green: boolean, depth: number): Node {
    const r = this.rng;
    const sort = r.pick(['int', 'text', 'text'] as const);
    const a = this.expr(sort, scope, green, depth);
    const b = this.expr(sort, scope, green, Math.min(depth, 0));
    const op = sort === 'text' ? r.pick(COMPARE) : r.pick(COMPARE.slice(0, 4));
    const cmp = node([a, ` ${op} `, b]);
    if (r.chance(0.2)) return node(['(', cmp, ' OR ', a, ' IS NULL)'], [cmp]);
    return cmp;
  }

  // ------------------------------------------------------------ green reads

  private green(): FuzzCase {
    const r = this.rng;
    if (this.seeds.green.length > 0 && r.chance(0.4)) {
      const s = r.pick(this.seeds.green);
      return { kind: 'green', tool: 'query', tree: leaf(s.sql.trim().replace(/;\s*$/, '')), origin: s.id };
    }
    const inner = this.select(true, 2);
    const tree = r.weighted<Node>([
      [5, inner],
      [1, node(['SELECT count(*) FROM (', inner, ') s'], [inner])],
      [1, node(['WITH q AS (', inner, ') SELECT * FROM q'], [inner])],
      [1, node(['SELECT c0, count(*) FROM (', inner, ') s GROUP BY c0'], [inner])],
    ]);
    return { kind: 'green', tool: 'query', tree, origin: 'gen' };
  }

  // ------------------------------------------------------------ writes

  private write(): FuzzCase {
    const r = this.rng;
    if (this.seeds.writes.length > 0 && r.chance(0.15)) {
      const s = r.pick(this.seeds.writes);
      return { kind: 'write', tool: 'execute', tree: leaf(s.sql.trim().replace(/;\s*$/, '')), origin: s.id, followUp: 'SELECT count(*) FROM app.orders' };
    }
    // tables with masked columns are where writes can leak: three times as likely
    const t = r.weighted(this.writable.map((w) => [w.columns.some((c) => c.masked) ? 3 : 1, w] as const));
    const key = t.key as string;
    const k = 1 + r.int(30);
    const scope: Scope[] = [{ alias: 'w', table: t }];
    const only = t.name === 'customers' || r.chance(0.3) ? 'ONLY ' : '';
    const followUp = `SELECT * FROM ${t.qualified} WHERE ${key} = ${k}`;
    const extra = (): Node => node([' AND ', this.predicate(scope, false, 1)]);
    const where = (): Node => {
      const base = leaf(`w.${key} = ${k}`);
      return r.chance(0.35) ? node([base, extra()], [base]) : base;
    };
    const returning = (): string => (r.chance(0.15) ? r.pick([' RETURNING *', ' RETURNING w', ' RETURNING w.*']) : '');
    const shape = r.weighted<'update' | 'delete' | 'insert'>([[6, 'update'], [2, 'delete'], [2, 'insert']]);
    if (shape === 'update') {
      const targets = t.columns.filter((c) => !c.masked && (c.sort === 'text' || c.sort === 'int') && c.name !== key);
      if (targets.length > 0) {
        const c = r.pick(targets);
        const value = c.sort === 'text' && r.chance(0.6) ? this.wholeRow(scope) : this.expr(c.sort as Sort, scope, false, 2);
        const tree = node([`UPDATE ${only}${t.qualified} w SET ${c.name} = `, value, ' WHERE ', where(), returning()]);
        return { kind: 'write', tool: 'execute', tree, origin: 'gen', followUp };
      }
    }
    if (shape === 'delete') {
      const tree = node([`DELETE FROM ${only}${t.qualified} w WHERE `, where(), returning()]);
      return { kind: 'write', tool: 'execute', tree, origin: 'gen', followUp };
    }
    // INSERT … SELECT from a (possibly masked) table, or VALUES, with ON CONFLICT
    const newId = 1000 + k;
    const tree =
      t.name === 'newsletter' || r.chance(0.3)
        ? node([
            `INSERT INTO app.newsletter AS w (id, email) SELECT ${r.chance(0.5) ? newId : 'c.id'}, c.email FROM app.customers c WHERE c.id = ${k}`,
            r.chance(0.5) ? ` ON CONFLICT (id) DO UPDATE SET touched = w.touched + 1` : ` ON CONFLICT DO NOTHING`,
            returning(),
          ])
        : node([`INSERT INTO app.vehicles AS w (id, name, vin) VALUES (${newId}, `, this.expr('text', [], false, 2), `, 'VIN') ON CONFLICT (id) DO NOTHING`, returning()]);
    const fu = render(tree).startsWith('INSERT INTO app.newsletter') ? `SELECT * FROM app.newsletter WHERE id IN (${k}, ${newId})` : `SELECT * FROM app.vehicles WHERE id = ${newId}`;
    return { kind: 'write', tool: 'execute', tree, origin: 'gen', followUp: fu };
  }
}
